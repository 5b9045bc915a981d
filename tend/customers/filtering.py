"""One way to filter customers: every filter the app offers is a condition tree.

The customers list (page and REST API), the metrics filters (dashboard, API, CLI, exports) and
goals all turn their filters (stage, plan, owner, unowned, tag, channel, country, saved
segment) into one condition of the condition language (``tend.segments.conditions``) with
``filter_condition`` and compile it with ``condition_q``. There is no second hand-written
``.filter(...)`` per surface, so a filter means the same customers wherever it is used (the
text search ``q`` stays outside: it walks trigram indexes the condition language does not use).

A saved segment is a ``{"field": "segment", "op": "eq", "value": id}`` leaf: its membership is
evaluated *live* from the segment's own condition when the query runs, never read from the
members stored by the daily refresh, so a segment filters correctly the moment it is saved
(docs/segments-filters.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db.models import Q, QuerySet

from tend.customers.models import Customer
from tend.segments.conditions import Condition as Parsed
from tend.segments.conditions import condition_q

Condition = dict[str, Any]


def filter_condition(
    *,
    stage: str = "",
    plans: Sequence[int] = (),
    owner: int | None = None,
    unowned: bool = False,
    tags_all: Sequence[str] = (),
    tags_any: Sequence[str] = (),
    channels: Sequence[str] = (),
    countries: Sequence[str] = (),
    segment: int | None = None,
) -> Condition | None:
    """The filters as one condition tree (``{"all": [...]}``); None when nothing is chosen.

    Several values of one filter mean any of them (plans, channels, countries, ``tags_any``);
    different filters must all hold. ``unowned`` wins over ``owner``.
    """
    parts: list[Condition] = []
    if stage:
        parts.append({"field": "stage", "op": "eq", "value": stage})
    if plans:
        parts.append(_one_or_in("plan", [int(p) for p in plans]))
    if unowned:
        parts.append({"field": "owner", "op": "is_empty"})
    elif owner is not None:
        parts.append({"field": "owner", "op": "eq", "value": int(owner)})
    for name in tags_all:
        parts.append({"field": "tags", "op": "has", "value": name})
    if tags_any:
        if len(tags_any) == 1:
            parts.append({"field": "tags", "op": "has", "value": tags_any[0]})
        else:
            parts.append({"field": "tags", "op": "has_any", "value": list(tags_any)})
    if channels:
        parts.append(_one_or_in("channel", list(channels)))
    if countries:
        parts.append(_one_or_in("country", list(countries)))
    if segment is not None:
        parts.append({"field": "segment", "op": "eq", "value": int(segment)})
    return {"all": parts} if parts else None


def _one_or_in(field: str, values: list[Any]) -> Condition:
    if len(values) == 1:
        return {"field": field, "op": "eq", "value": values[0]}
    return {"field": field, "op": "in", "value": values}


def condition_filter_q(condition: Condition | Parsed | None) -> Q:
    """``condition`` (JSON, or already parsed) compiled to a Q over Customer (an empty Q,
    every customer, for None).

    Raises ``tend.segments.conditions.ConditionError`` naming the path of a bad condition
    (for a ``segment`` test: a segment its condition names was deleted since).
    """
    if condition is None:
        return Q()
    return condition_q(condition)


QS = TypeVar("QS", bound=QuerySet[Any])


def customers_where(condition: Condition | Parsed | None, qs: QS) -> QS:
    """``qs`` (customers) narrowed to the customers ``condition`` picks."""
    if condition is None:
        return qs
    return qs.filter(condition_filter_q(condition))  # type: ignore[no-any-return]


def condition_sql(condition: Condition | None, column: str) -> tuple[str, list[Any]]:
    """A raw SQL test "``column`` IN (ids of the customers ``condition`` picks)" with its
    parameters, for the reports written in SQL; ("", []) for None (no test at all).

    The sub-select is the ORM's own SQL for the compiled condition, so raw SQL and querysets
    cannot disagree; written as an IN over a sub-select the database still walks the matching
    customers' rows through the (customer, month) indexes.
    """
    if condition is None:
        return "", []
    ids = customers_where(condition, Customer.objects.order_by()).values("pk")
    sql, params = ids.query.sql_with_params()
    return f"{column} IN ({sql})", list(params)
