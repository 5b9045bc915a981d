from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "tend.messaging"
    label = "messaging"
    verbose_name = "Messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tend.messaging import privacy

        privacy.register()
        from tend.messaging.panels import emails_panel
        from tend.web.panels import panels

        panels.register(emails_panel)
