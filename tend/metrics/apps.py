from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "tend.metrics"
    label = "metrics"
