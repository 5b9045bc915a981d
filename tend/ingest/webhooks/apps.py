from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "tend.ingest.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from tend.ingest.webhooks import privacy

        privacy.register()
        from tend.ingest.webhooks import checks  # noqa: F401 - registers the system checks
