"""Updating many rows, each with its own values, in a fixed number of statements.

``QuerySet.bulk_update`` writes ``SET col = CASE WHEN id = 1 THEN … WHEN id = 2 THEN … END``
for every column: building those expressions costs Python milliseconds per row, and the
database compares each row's id against every WHEN. ``update_rows`` sends the values as arrays
instead (PostgreSQL: one ``UPDATE … FROM unnest(…)`` per batch) or as one prepared statement run
per row (SQLite: ``executemany``, no round trips). The values stored are the same: each goes
through its field's ``get_db_prep_save``, as ``Model.save`` and ``bulk_update`` send it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

from tend.lib.db import pg_execute

BATCH = 5_000


def update_rows(model: type[models.Model], fields: Sequence[str], objs: Iterable[Any]) -> int:
    """Write ``fields`` of each of ``objs`` (instances of ``model``, with a pk) to its row, as
    ``model.objects.bulk_update(objs, fields)`` would; returns the number of objects sent."""
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    columns: list[Any] = [meta.get_field(name) for name in fields]  # concrete Fields, checked
    for field in columns:
        if not getattr(field, "concrete", False) or field.primary_key:
            raise ValueError(f"{model.__name__}.{field.name} cannot be updated by update_rows")
    key: Any = pk
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    iterator = iter(objs)
    sent = 0
    with connection.cursor() as cursor:
        while True:
            batch = list(itertools.islice(iterator, BATCH))
            if not batch:
                return sent
            sent += len(batch)
            rows = [
                [
                    *(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns),
                    key.get_db_prep_save(obj.pk, connection),
                ]
                for obj in batch
            ]
            if connection.vendor == "postgresql":
                names = [quote(f.column) for f in columns]
                arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in columns)
                sets = ", ".join(f"{name} = v.{name}" for name in names)
                pg_execute(  # bound on the server: no quoting of every value in Python
                    f"UPDATE {table} SET {sets} FROM unnest({arrays}, "
                    f"%s::{key.rel_db_type(connection)}[]) AS v({', '.join(names)}, _pk) "
                    f"WHERE {table}.{quote(key.column)} = v._pk",
                    [list(column) for column in zip(*rows, strict=True)],
                )
            else:
                sets = ", ".join(f"{quote(f.column)} = %s" for f in columns)
                cursor.executemany(
                    f"UPDATE {table} SET {sets} WHERE {quote(key.column)} = %s", rows
                )
