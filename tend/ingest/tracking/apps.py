from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tend.ingest.tracking"
    label = "tracking"

    def ready(self) -> None:
        from tend.ingest.tracking import privacy

        privacy.register()
