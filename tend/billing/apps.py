from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "tend.billing"
    label = "billing"
