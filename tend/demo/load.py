"""Bulk writes for the demo data: ``executemany`` on SQLite, ``COPY`` on PostgreSQL.

Rows arrive as tuples of plain values (ints, strings, None, bools) in the order of the given
field names; datetimes are ``YYYY-MM-DD HH:MM:SS`` UTC strings (see ``timebase.format_times``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.management.color import no_style
from django.db import connection, models

from tend.activity.models import DailyRollup, Event
from tend.billing.models import MrrMovement, Order, Plan, Subscription
from tend.customers.models import Contact, Customer, StageChange, TimelineEntry
from tend.lib.db import insert_rows as insert_rows  # the demo's bulk writer lives in lib

DEMO_PREFIX = "demo_"


def next_id(model: type[models.Model]) -> int:
    """The first free primary key: demo rows get explicit, predictable ids from here on."""
    top = model._default_manager.aggregate(top=models.Max("pk"))["top"]
    return int(top or 0) + 1


def reset_sequences(models_: Sequence[type[models.Model]]) -> None:
    """After explicit ids, move PostgreSQL's id sequences past them (SQLite needs nothing)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models_)):
            cursor.execute(sql)


def demo_customers() -> models.QuerySet[Customer]:
    return Customer.objects.filter(external_id__startswith=DEMO_PREFIX)


def flush_demo_data() -> int:
    """Delete every demo customer and everything hanging off it; returns customers deleted.

    The big tables are emptied with one raw DELETE each (the ORM would load millions of rows to
    run cascades); the customers themselves then go through the ORM, so tables added by other
    apps are cascaded as their models say.
    """
    ids = demo_customers().values("pk")
    # Movements before subscriptions, events before contacts: nothing is left to SET NULL.
    owned: list[type[models.Model]] = [
        Event, DailyRollup, TimelineEntry, StageChange, MrrMovement, Order, Subscription, Contact,
    ]  # fmt: skip
    for model in owned:
        qs = model._default_manager.filter(customer__in=ids)
        qs._raw_delete(qs.db)  # type: ignore[attr-defined]
    through = Customer.tags.through
    tq = through._default_manager.filter(customer__in=ids)
    tq._raw_delete(tq.db)  # type: ignore[attr-defined]
    Customer.objects.filter(referred_by__in=ids).exclude(pk__in=ids).update(referred_by=None)
    Customer.objects.filter(pk__in=ids).update(referred_by=None)
    count = demo_customers().count()
    demo_customers().delete()
    return count


def drop_unused_plans(codes: Iterable[str]) -> None:
    Plan.objects.filter(
        code__in=list(codes), subscriptions__isnull=True, customers__isnull=True
    ).delete()
