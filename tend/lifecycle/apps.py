from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def _seed_rules(sender: AppConfig, *, using: str = "default", **kwargs: Any) -> None:
    """Put the built-in lifecycle rules on an empty rule list after ``migrate`` or ``flush``.

    Migration 0002 seeds them once; ``flush`` (and the test runner, which flushes between
    transactional tests) empties the table and sends ``post_migrate`` again. A founder who
    deleted every rule gets the defaults back on the next ``migrate`` — documented in
    docs/lifecycle.md; disabling a rule is how to switch it off for good.
    """
    apps = kwargs.get("apps") or global_apps
    try:
        rule = apps.get_model("lifecycle", "LifecycleRule")
    except LookupError:
        return
    from tend.lifecycle.defaults import default_rule_rows

    if rule.objects.using(using).exists():
        return
    rule.objects.using(using).bulk_create([rule(**row) for row in default_rule_rows()])


class LifecycleConfig(AppConfig):
    name = "tend.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle"

    def ready(self) -> None:
        from tend.lifecycle import privacy

        privacy.register()
        from tend.changes.consumers import consumers
        from tend.lifecycle.engine import consumer
        from tend.lifecycle.fields import register_fields
        from tend.lifecycle.panels import override_panel
        from tend.web.panels import panels

        post_migrate.connect(_seed_rules, sender=self)
        consumers.register(consumer)
        panels.register(override_panel)
        register_fields()
