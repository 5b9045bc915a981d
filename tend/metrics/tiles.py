"""The headline tiles: each figure of one period against the period before.

Two comparisons (``Filters.compare``):

- ``complete`` (the default): the last period that has ended against the one before it, so
  on 6 December the tiles show November against October, never a running month against a
  whole one;
- ``to_date``: the running period so far against the same days of the period before
  (1–6 December against 1–6 November), both computed over those days (``to_date.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from django.utils import timezone

from tend.metrics import formulas
from tend.metrics.filters import Filters
from tend.metrics.kpis import PeriodKpis
from tend.metrics.to_date import window_kpis, windows


@dataclass
class Tile:
    key: str
    value: Any
    previous: Any
    change: float | None  # % change for amounts, percentage points for rates
    change_kind: str  # "percent" | "points" | ""


TILE_KEYS = (
    "mrr",
    "arr",
    "net_new_mrr",
    "customers",
    "arpa",
    "logo_churn",
    "revenue_churn",
    "crr",
    "grr",
    "nrr",
    "cer",
    "renewal_rate",
    "cac",
)


@dataclass
class Comparison:
    """What the tiles compare: ``current`` against ``previous`` (None: nothing before).

    ``mode`` is the comparison asked for; ``days`` is the number of days of each window for
    ``to_date`` (None for whole periods). ``index`` is the position of the period the tiles
    show in the series (the lifetime-value tiles cover the series up to it).
    """

    mode: str
    current: PeriodKpis
    previous: PeriodKpis | None
    index: int
    days: int | None = None
    previous_days: int | None = None


def comparison(
    series: list[PeriodKpis], filters: Filters, *, today: date | None = None
) -> Comparison | None:
    """The two periods the tiles compare (see the module docstring); None for no periods."""
    if not series:
        return None
    last = len(series) - 1
    if filters.compare == "to_date" and series[last].to_date:
        now = timezone.now() if today is None else datetime.combine(today, time.max, UTC)
        day = today or now.date()
        current, before = windows(series[last].start, filters.period, day)
        return Comparison(
            mode="to_date",
            current=window_kpis(filters, current, now=now),
            previous=window_kpis(filters, before, now=now),
            index=last,
            days=current.days,
            previous_days=before.days,
        )
    index = last
    while index > 0 and series[index].to_date:
        index -= 1  # the last period that has ended (the first one when none has)
    return Comparison(
        mode="complete",
        current=series[index],
        previous=series[index - 1] if index > 0 else None,
        index=index,
    )


def tiles(compared: Comparison | None) -> list[Tile]:
    """Headline figures of the compared period with their change against the one before."""
    if compared is None:
        return []
    current = compared.current.metrics
    previous = compared.previous.metrics if compared.previous is not None else {}
    out = []
    for key in TILE_KEYS:
        unit = formulas.FORMULAS[key].unit if key in formulas.FORMULAS else "count"
        value, before = current.get(key), previous.get(key)
        if unit == "percent":
            change = formulas.point_change(current=value, previous=before)
            kind = "points"
        else:
            change = formulas.percent_change(current=value, previous=before)
            kind = "percent"
        out.append(Tile(key, value, before, change, kind if change is not None else ""))
    return out
