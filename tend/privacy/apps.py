from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "tend.privacy"
    label = "privacy"
    verbose_name = "Privacy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tend.privacy.panels import privacy_panel
        from tend.web.panels import panels

        panels.register(privacy_panel)
