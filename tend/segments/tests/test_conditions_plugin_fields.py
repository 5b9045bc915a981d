"""Other apps add fields through the registry: a lookup through a one-to-one relation, and a
computed field (SQL expression + Python value, with or without grouped rows) behave like the
built-in ones in SQL and in Python."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from tend.customers.models import Customer, TimelineEntry
from tend.segments.conditions import condition_matches, condition_parse, customers_matching
from tend.segments.fields import ConditionField, condition_fields
from tend.segments.tests.helpers import NOW, customer

pytestmark = pytest.mark.django_db


def _notes_sql(now: Any) -> Any:
    rows = (
        TimelineEntry.objects.filter(customer=OuterRef("pk"), kind="note")
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _notes_value(c: Customer, now: Any) -> int:
    return TimelineEntry.objects.filter(customer=c, kind="note").count()


def _last_note_rows(now: Any) -> Any:
    from django.db.models import Max

    return (
        TimelineEntry.objects.filter(kind="note")
        .order_by()
        .values("customer_id")
        .annotate(value=Max("at"))
    )


def _last_note_value(c: Customer, now: Any) -> Any:
    return (
        TimelineEntry.objects.filter(customer=c, kind="note")
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )


def _last_note_sql(now: Any) -> Any:
    rows = TimelineEntry.objects.filter(customer=OuterRef("pk"), kind="note").order_by("-at")
    return Subquery(rows.values("at")[:1])


PLUGINS = [
    ConditionField("test_notes", "Notes", "number", expression=_notes_sql, value=_notes_value),
    ConditionField(
        "test_last_note",
        "Last note",
        "date",
        expression=_last_note_sql,
        value=_last_note_value,
        rows=_last_note_rows,
    ),
    ConditionField("test_health_day", "Scored on", "date", lookup="health__day"),
]


@pytest.fixture
def plugins() -> Iterator[None]:
    for field in PLUGINS:
        condition_fields.register(field)
    yield
    for field in PLUGINS:
        condition_fields.unregister(field.name)


def test_plugin_fields_agree_in_sql_and_python(plugins: None) -> None:
    a = customer("A", timeline=(("note", NOW - timedelta(days=2)), ("note", NOW)))
    b = customer("B", timeline=(("call", NOW),), health={"score": 10, "colour": "red"})
    c = customer("C", timeline=(("note", NOW - timedelta(days=40)),))
    expected = {
        "test_notes gt 0": ({"field": "test_notes", "op": "gt", "value": 0}, {a, c}),
        "test_notes eq 0": ({"field": "test_notes", "op": "eq", "value": 0}, {b}),
        "test_notes ne 2": ({"field": "test_notes", "op": "ne", "value": 2}, {b, c}),
        "last note within 7": (
            {"field": "test_last_note", "op": "within_last", "value": 7},
            {a},
        ),
        "last note not within 7": (
            {"not": {"field": "test_last_note", "op": "within_last", "value": 7}},
            {b, c},
        ),
        "last note empty": ({"field": "test_last_note", "op": "is_empty"}, {b}),
        "scored on empty": ({"field": "test_health_day", "op": "is_empty"}, {a, c}),
        "scored today": (
            {"field": "test_health_day", "op": "on_or_after", "value": NOW.date().isoformat()},
            {b},
        ),
    }
    for label, (raw, want) in expected.items():
        cond = condition_parse(raw)
        assert set(customers_matching(cond, now=NOW)) == want, label
        assert {x for x in (a, b, c) if condition_matches(cond, x, now=NOW)} == want, label


def test_a_field_needs_a_lookup_or_an_expression_with_a_python_value() -> None:
    with pytest.raises(ValueError, match="lookup or an expression"):
        ConditionField("x", "X", "number")
    with pytest.raises(ValueError, match="needs a value"):
        ConditionField("x", "X", "number", expression=_notes_sql)
    with pytest.raises(ValueError, match="unknown type"):
        ConditionField("x", "X", "money", lookup="mrr")
    with pytest.raises(ValueError, match="to-many"):
        ConditionField("x", "X", "text", lookup="contacts__name")
    with pytest.raises(ValueError, match="not of its type"):
        ConditionField("x", "X", "number", lookup="mrr", operators=("contains",))
