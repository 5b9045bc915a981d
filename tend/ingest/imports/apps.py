from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "tend.ingest.imports"
    label = "imports"

    def ready(self) -> None:
        from tend.ingest.imports import privacy

        privacy.register()
