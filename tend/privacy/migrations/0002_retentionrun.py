# Written by the retention helper (issue 18): the record of each retention run.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="RetentionRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "started_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("seconds", models.FloatField(default=0)),
                ("counts", models.JSONField(blank=True, default=dict)),
                ("cutoffs", models.JSONField(blank=True, default=dict)),
                ("oldest", models.JSONField(blank=True, default=dict)),
                ("notes", models.JSONField(blank=True, default=dict)),
            ],
            options={
                "verbose_name": "retention run",
                "verbose_name_plural": "retention runs",
                "ordering": ["-started_at"],
            },
        ),
    ]
