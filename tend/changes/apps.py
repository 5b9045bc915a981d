from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "tend.changes"
    label = "changes"
    verbose_name = "Customer changes"

    def ready(self) -> None:
        from tend.changes import privacy

        privacy.register()
