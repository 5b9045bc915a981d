from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    from tend.health.apps import seed_default_scorecard

    seed_default_scorecard(
        apps.get_model("health", "Scorecard"),
        apps.get_model("health", "ScorecardMeasure"),
        schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [("health", "0002_scorecards")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
