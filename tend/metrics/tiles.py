"""The headline tiles: each figure of the last period against the period before."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tend.metrics import formulas
from tend.metrics.kpis import PeriodKpis


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


def tiles(series: list[PeriodKpis]) -> list[Tile]:
    """Headline figures of the last period with their change against the period before."""
    if not series:
        return []
    current = series[-1].metrics
    previous = series[-2].metrics if len(series) > 1 else {}
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
