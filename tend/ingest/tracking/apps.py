from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tend.ingest.tracking"
    label = "tracking"
