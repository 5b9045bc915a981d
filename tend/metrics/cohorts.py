"""Signup cohorts (logo and revenue retention by months since start) and survival curves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tend.metrics.filters import FilterError, Filters
from tend.metrics.kpis import on_demand
from tend.metrics.models import CohortCell, Dimension
from tend.metrics.snapshots import (
    DIMENSION_SQL,
    cohort_rows,
    db_date,
    db_money,
    month_of,
    months_between,
    state,
)


@dataclass
class CohortRow:
    cohort: date
    customers: int
    first_mrr: Decimal
    logo: list[float | None]  # % still paying after k months (None: not reached yet)
    revenue: list[float | None]  # MRR after k months ÷ first MRR, %


def cohorts(filters: Filters, *, today: date | None = None) -> list[CohortRow]:
    """Monthly signup cohorts in the range × months since start, logo and revenue retention."""
    first, last = filters.months(today=today)
    key = filters.summary_key()
    if key is not None:
        cells = CohortCell.objects.filter(
            dimension=key[0], value=key[1], cohort__gte=first, cohort__lte=last
        ).values_list("cohort", "age", "cohort_customers", "cohort_mrr", "active", "mrr")
        raw = [(c, a, s, b, act, m) for c, a, s, b, act, m in cells]
    else:
        where, params = filters.customer_sql("cm.customer_id")
        rows = on_demand(
            "cohorts",
            filters,
            (first, last),
            lambda: cohort_rows(
                "''", f"cm.cohort >= %s AND cm.cohort <= %s AND {where}", [first, last, *params]
            ),
        )
        raw = [(c, a, s, b, act, m) for _v, c, a, s, b, act, m in rows]
    this_month = month_of(today or timezone.now())
    table: dict[date, CohortRow] = {}
    for cohort, age, size, base, active, mrr in raw:
        cohort = db_date(cohort)
        row = table.get(cohort)
        if row is None:
            width = months_between(cohort, this_month) + 1
            row = table[cohort] = CohortRow(
                cohort, size, db_money(base), [0.0] * width, [0.0] * width
            )
        if age < len(row.logo):
            row.logo[age] = round(active * 100 / size, 1) if size else None
            row.revenue[age] = (
                round(float(db_money(mrr) * 100 / row.first_mrr), 1) if row.first_mrr else None
            )
    return [table[c] for c in sorted(table)]


def survival(filters: Filters, *, by: str = "all", now: datetime | None = None) -> dict[str, Any]:
    """Kaplan–Meier curves: all customers, or one curve per plan or channel (``by``)."""
    if by not in ("all", "plan", "channel"):
        raise FilterError("by", _("must be all, plan or channel"))
    key = filters.summary_key()
    if key == (Dimension.ALL, ""):
        stored = state().survival.get(by)
        if stored is not None:
            return stored
    from tend.metrics.survival import curves

    group = {"all": "''", "plan": DIMENSION_SQL[Dimension.PLAN], "channel": "c.channel"}[by]
    where, params = filters.customer_sql("l.customer_id")
    at = now or timezone.now()
    return on_demand(  # type: ignore[no-any-return]
        "survival",
        filters,
        (by, at.date()),
        lambda: curves(group=group, where=where, params=params, now=at),
    )
