from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "tend.ingest.webhooks"
    label = "webhooks"
