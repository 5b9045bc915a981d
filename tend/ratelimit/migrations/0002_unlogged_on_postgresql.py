"""On PostgreSQL the counters table skips the write-ahead log: counts need not survive a
database crash, and a commit that touched only this table does not wait for a WAL flush,
which keeps the rate-limit check cheap on every /v1 request. SQLite has no such thing."""

from typing import Any

from django.db import migrations


def _set(logged: bool) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name("ratelimit_ratecounter")
        schema_editor.execute(f"ALTER TABLE {table} SET {'LOGGED' if logged else 'UNLOGGED'}")

    return run


class Migration(migrations.Migration):
    dependencies = [("ratelimit", "0001_initial")]

    operations = [migrations.RunPython(_set(logged=False), _set(logged=True))]
