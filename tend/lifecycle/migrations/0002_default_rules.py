"""Seed the built-in lifecycle rules (tend.lifecycle.defaults) on an empty rule list."""

from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    from tend.lifecycle.defaults import default_rule_rows

    rule = apps.get_model("lifecycle", "LifecycleRule")
    if rule.objects.exists():
        return
    rule.objects.bulk_create([rule(**row) for row in default_rule_rows()])


class Migration(migrations.Migration):
    dependencies = [("lifecycle", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
