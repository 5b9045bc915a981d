"""PostgreSQL-only indexes for the customers list at 100,000+ customers.

- Trigram GIN indexes make `name`/`email` substring search (Django's ``icontains`` compiles
  to ``UPPER(col::text) LIKE UPPER(%s)``) use an index instead of scanning every row.
- ``UPPER(external_id)`` serves ``external_id__iexact`` inside the same OR.
- ``last_seen_at DESC NULLS LAST, id DESC`` serves "recently seen first" with never-seen last.

SQLite has no trigram indexes and no NULLS LAST in index definitions; there the list scans,
which the page benchmark measures (docs/benchmarks.md).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_name_trgm_idx ON customers_customer "
    "USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_email_trgm_idx ON customers_customer "
    "USING gin ((UPPER(email::text)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customer_external_id_upper_idx ON customers_customer "
    "((UPPER(external_id::text)))",
    "CREATE INDEX IF NOT EXISTS customer_last_seen_desc_idx ON customers_customer "
    "(last_seen_at DESC NULLS LAST, id DESC)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS customer_name_trgm_idx",
    "DROP INDEX IF EXISTS customer_email_trgm_idx",
    "DROP INDEX IF EXISTS customer_external_id_upper_idx",
    "DROP INDEX IF EXISTS customer_last_seen_desc_idx",
]


def _run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
