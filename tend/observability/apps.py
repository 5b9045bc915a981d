from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "tend.observability"
    label = "observability"
