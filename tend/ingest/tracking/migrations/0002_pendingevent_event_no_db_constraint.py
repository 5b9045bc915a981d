"""State only: activity 0006 (events partitioned by month) dropped the database constraint of
PendingEvent.event on PostgreSQL; the model now says so, so no later migration looks for it.
SQLite keeps its constraint (its events table is not partitioned); nothing reads it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0001_initial"),
        ("activity", "0006_event_partitioned_by_month"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="pendingevent",
                    name="event",
                    field=models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="activity.event",
                    ),
                )
            ]
        )
    ]
