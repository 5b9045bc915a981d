from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "tend.playbooks"
    label = "playbooks"
    verbose_name = "Playbooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tend.playbooks import privacy

        privacy.register()
        from tend.changes.consumers import consumers
        from tend.playbooks.engine import consumer
        from tend.playbooks.panels import register_ui
        from tend.playbooks.step_actions import register_actions
        from tend.playbooks.triggers import register_triggers

        register_triggers()
        register_actions()
        consumers.register(consumer)
        register_ui()  # the customer page's playbooks panel
