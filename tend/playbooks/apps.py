import importlib
import importlib.util

from django.apps import AppConfig


class PlaybooksConfig(AppConfig):
    name = "tend.playbooks"
    label = "playbooks"
    verbose_name = "Playbooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tend.changes.consumers import consumers
        from tend.playbooks.engine import consumer
        from tend.playbooks.step_actions import register_actions
        from tend.playbooks.triggers import register_triggers

        register_triggers()
        register_actions()
        consumers.register(consumer)
        # The playbook pages' customer panel (helper ui's tend/playbooks/panels.py, merged apart).
        if importlib.util.find_spec("tend.playbooks.panels") is not None:
            importlib.import_module("tend.playbooks.panels").register_ui()
