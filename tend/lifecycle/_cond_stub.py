"""TEMPORARY stand-in for tend.segments.conditions while the "cond" helper builds it.

Only the fields and operators the default lifecycle rules use; deleted when h-cond is merged.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from tend.billing.models import MRR_STATUSES, Interval, MrrMovement, Subscription
from tend.customers.models import Customer

Condition = dict[str, Any]


class ConditionError(ValueError):
    def __init__(self, message: str, path: str = "", field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.field = field

    def text(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message}"


FIELDS = {
    "first_paid": ("date", "first_paid_at"),
    "signed_up": ("date", "signed_up_at"),
    "stage": ("choice", "stage"),
    "mrr": ("number", "mrr"),
    "name": ("text", "name"),
    "health_colour": ("choice", "health__colour"),
    "health_colour_since": ("date", "health__colour_since"),
    "has_active_subscription": ("bool", None),
    "ever_subscribed": ("bool", None),
    "last_expansion": ("date", None),
    "next_yearly_renewal": ("date", None),
}
OPS = {
    "date": {"within_last", "within_next", "more_than_days_ago", "is_empty", "is_not_empty"},
    "choice": {"eq", "ne", "in", "is_empty", "is_not_empty"},
    "number": {"eq", "ne", "gt", "gte", "lt", "lte"},
    "text": {"eq", "ne"},
    "bool": {"is_true", "is_false"},
}


def condition_parse(raw: Any, path: str = "") -> Condition:
    if not isinstance(raw, dict):
        raise ConditionError("a condition is a JSON object", path or "(root)")
    if "all" in raw or "any" in raw:
        key = "all" if "all" in raw else "any"
        if not isinstance(raw[key], list):
            raise ConditionError("a list of conditions", f"{path}{key}")
        for i, child in enumerate(raw[key]):
            condition_parse(child, f"{path}{key}[{i}].")
        return raw
    if "not" in raw:
        condition_parse(raw["not"], f"{path}not.")
        return raw
    name = raw.get("field")
    if name not in FIELDS:
        raise ConditionError(f"unknown field {name!r}", f"{path}field", str(name))
    kind = FIELDS[name][0]
    if raw.get("op") not in OPS[kind]:
        raise ConditionError(f"wrong operator for {kind}", f"{path}op", name)
    return raw


def _subqueries(field: str, now: datetime) -> Any:
    if field == "last_expansion":
        return Subquery(
            MrrMovement.objects.filter(customer=OuterRef("pk"), kind="expansion")
            .values("customer")
            .annotate(m=Max("at"))
            .values("m")[:1]
        )
    return Subquery(
        Subscription.objects.filter(
            customer=OuterRef("pk"),
            status__in=MRR_STATUSES,
            interval=Interval.YEAR,
            current_period_end__gte=now,
        )
        .values("customer")
        .annotate(m=Min("current_period_end"))
        .values("m")[:1]
    )


def condition_q(cond: Condition, *, now: datetime | None = None) -> Q:
    now = now or timezone.now()
    if "all" in cond:
        q = Q()
        for child in cond["all"]:
            q &= condition_q(child, now=now)
        return q
    if "any" in cond:
        q = Q(pk__in=[])
        for child in cond["any"]:
            q |= condition_q(child, now=now)
        return q
    if "not" in cond:
        return ~condition_q(cond["not"], now=now)
    name, op, value = cond["field"], cond["op"], cond.get("value")
    if name == "has_active_subscription":
        ex = Exists(Subscription.objects.filter(customer=OuterRef("pk"), status__in=MRR_STATUSES))
        return Q(ex) if op == "is_true" else ~Q(ex)
    if name == "ever_subscribed":
        ex = Exists(Subscription.objects.filter(customer=OuterRef("pk")))
        return Q(ex) if op == "is_true" else ~Q(ex)
    lookup = FIELDS[name][1]
    if lookup is None:
        ids = (
            Customer.objects.annotate(x=_subqueries(name, now))
            .filter(**_date_filter("x", op, value, now))
            .values("pk")
        )
        return Q(pk__in=ids)
    if FIELDS[name][0] == "date":
        return Q(**_date_filter(lookup, op, value, now))
    if op == "eq":
        return Q(**{lookup: value})
    if op == "ne":
        return ~Q(**{lookup: value})
    if op == "in":
        return Q(**{f"{lookup}__in": value})
    if op in ("gt", "gte", "lt", "lte"):
        return Q(**{f"{lookup}__{op}": value})
    if op == "is_empty":
        return Q(**{f"{lookup}__isnull": True})
    return Q(**{f"{lookup}__isnull": False})


def _date_filter(lookup: str, op: str, value: Any, now: datetime) -> dict[str, Any]:
    if op == "within_last":
        return {f"{lookup}__gte": now - timedelta(days=value), f"{lookup}__lte": now}
    if op == "within_next":
        return {f"{lookup}__gte": now, f"{lookup}__lt": now + timedelta(days=value)}
    if op == "more_than_days_ago":
        return {f"{lookup}__lt": now - timedelta(days=value)}
    if op == "is_empty":
        return {f"{lookup}__isnull": True}
    return {f"{lookup}__isnull": False}


def customers_matching(
    cond: Any, qs: QuerySet[Customer] | None = None, *, now: datetime | None = None
) -> QuerySet[Customer]:
    base = Customer.objects.all() if qs is None else qs
    return base.filter(condition_q(condition_parse(cond), now=now))


def condition_describe(cond: Condition) -> str:
    return ""
