"""Fewer B-trees per event row: every index is maintained on each row an import writes.

- ``event_received_idx`` goes: no query filters all events by arrival time (the data-quality
  page reads the partial ``event_unknown_customer_idx``).
- The contact foreign key index becomes partial (contact IS NOT NULL): deleting a contact still
  finds its events, and events without a contact (all imported ones) add no entry.
- ``message_id`` stays unique through a named constraint instead of ``unique=True``, which on
  PostgreSQL also built a ``varchar_pattern_ops`` index for LIKE that nothing uses.

The existing unique index and constraint are kept and renamed rather than rebuilt, and SQLite's
table is not remade: the migration is quick on a large events table.
"""

from django.db import migrations, models

TABLE = "activity_event"


def _names(schema_editor):
    fk_index = schema_editor._create_index_name(TABLE, ["contact_id"], suffix="")
    like_index = schema_editor._create_index_name(TABLE, ["message_id"], suffix="_like")
    return fk_index, like_index


def _unique_constraint(cursor):
    cursor.execute(
        "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
        "AND a.attnum = ANY(c.conkey) WHERE c.conrelid = %s::regclass AND c.contype = 'u' "
        "AND a.attname = 'message_id' AND array_length(c.conkey, 1) = 1",
        [TABLE],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def forwards(apps, schema_editor):
    fk_index, like_index = _names(schema_editor)
    quote = schema_editor.quote_name
    schema_editor.execute(f"DROP INDEX IF EXISTS {quote(fk_index)}")
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite keeps the column's own unique index; it has no LIKE index
    schema_editor.execute(f"DROP INDEX IF EXISTS {quote(like_index)}")
    with schema_editor.connection.cursor() as cursor:
        name = _unique_constraint(cursor)
    if name and name != "event_message_id_unique":
        schema_editor.execute(
            f"ALTER TABLE {quote(TABLE)} RENAME CONSTRAINT {quote(name)} TO event_message_id_unique"
        )


def backwards(apps, schema_editor):
    fk_index, like_index = _names(schema_editor)
    quote = schema_editor.quote_name
    schema_editor.execute(f"CREATE INDEX {quote(fk_index)} ON {quote(TABLE)} (contact_id)")
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE {quote(TABLE)} RENAME CONSTRAINT event_message_id_unique "
        f"TO {quote(TABLE + '_message_id_key')}"
    )
    schema_editor.execute(
        f"CREATE INDEX {quote(like_index)} ON {quote(TABLE)} (message_id varchar_pattern_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0004_event_unknown_customer_index"),
        ("customers", "0004_customer_stage_rank"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="event", name="event_received_idx"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="contact",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.SET_NULL,
                        related_name="events",
                        to="customers.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="message_id",
                    field=models.CharField(blank=True, max_length=100, null=True),
                ),
                migrations.AddConstraint(
                    model_name="event",
                    constraint=models.UniqueConstraint(
                        fields=("message_id",), name="event_message_id_unique"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                condition=models.Q(("contact__isnull", False)),
                fields=["contact"],
                name="event_contact_idx",
            ),
        ),
    ]
