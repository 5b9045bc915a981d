from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "tend.metrics"
    label = "metrics"

    def ready(self) -> None:
        from tend.metrics import privacy

        privacy.register()
