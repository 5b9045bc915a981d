"""Kaplan–Meier retention curves (lifelines) over how long paying customers keep paying.

A customer enters at its first payment (``CustomerLife.started_at``); the event is its first
churn after that. Customers still paying are censored at the time of the snapshot, so a
customer who started two months ago counts only for the first two months.

Durations are in calendar months from the start, as renewals count them: k months after
15 January 09:00 is the 15th at 09:00 k months later (the 28th/29th/30th when the month is
shorter). A customer paying on [start, end) who ends exactly k months after starting (1 Feb
00:00 → 1 Mar 00:00) lasted exactly k months and is no longer paying at month k.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
from django.db import connection

from tend.customers.models import Customer
from tend.metrics.models import CustomerLife

MIN_CUSTOMERS = 5  # fewer than this gives a curve too noisy to show
MAX_GROUPS = 8


def survival_rebuild(*, now: datetime) -> dict[str, Any]:
    """Curves for the whole business and per plan and per channel, as stored in the state."""
    return {
        "built_at": now.isoformat(),
        "all": curves(group="''", where="", params=[], now=now),
        "plan": curves(group="COALESCE(CAST(c.plan_id AS TEXT), '')", where="", params=[], now=now),
        "channel": curves(group="c.channel", where="", params=[], now=now),
    }


def _epoch(column: str) -> str:
    """SQL for a timestamp column as seconds since 1970 (parsing in Python was the cost)."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})"
    return f"(julianday({column}) - 2440587.5) * 86400.0"


def curves(*, group: str, where: str, params: list[Any], now: datetime) -> dict[str, Any]:
    """{group value: curve} for the customers matching ``where`` (SQL over ``c``)."""
    life, customers = CustomerLife._meta.db_table, Customer._meta.db_table
    where_sql = f"WHERE {where}" if where else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {group}, {_epoch('l.started_at')}, {_epoch('l.churned_at')} FROM {life} l "
            f"JOIN {customers} c ON c.id = l.customer_id {where_sql}",
            params,
        )
        rows = cursor.fetchall()
    at = now.timestamp()
    starts = np.array([float(r[1]) for r in rows], dtype=float)
    churns = np.array([math.inf if r[2] is None else float(r[2]) for r in rows], dtype=float)
    events_all = churns <= at  # a churn stamped after the "as of" time is not known yet
    lengths = calendar_months(starts, np.where(events_all, churns, at)).tolist()
    groups: dict[str, tuple[list[float], list[bool]]] = {}
    for (value, _started, _churned), length, event in zip(
        rows, lengths, events_all.tolist(), strict=True
    ):
        durations, events = groups.setdefault(value or "", ([], []))
        durations.append(length)
        events.append(bool(event))
    big = sorted(groups.items(), key=lambda kv: -len(kv[1][0]))[:MAX_GROUPS]
    return {
        value: curve(durations, events)
        for value, (durations, events) in big
        if len(durations) >= MIN_CUSTOMERS
    }


def calendar_months(starts: Any, ends: Any) -> Any:
    """Calendar months from each start to its end (epoch seconds, UTC), as floats.

    Whole months count anniversaries (same day and time of day, clamped to the month's last
    day); the part of a month is the share of the time to the next anniversary. 1 Feb 00:00
    → 1 Mar 00:00 is 1.0; 15 Jan 00:00 → 1 Mar 00:00 is 1 + 14/28 = 1.5.
    """
    seconds = np.asarray(starts, dtype=float)
    fraction = seconds - np.floor(seconds)  # anniversaries keep the start's fraction of a second
    start = np.floor(seconds).astype("int64").astype("datetime64[s]")
    end = np.maximum(np.asarray(ends, dtype=float), seconds)
    first = start.astype("datetime64[M]")
    offset = (start - first.astype("datetime64[s]")).astype("int64")  # seconds into its month
    time_of_day = offset % 86400

    def anniversary(k: Any) -> Any:
        """Epoch seconds of the k-th anniversary of each start."""
        month = first + k.astype("timedelta64[M]")
        begins = month.astype("datetime64[s]")
        days = ((month + 1).astype("datetime64[s]") - begins).astype("int64") // 86400
        into = np.minimum(offset, (days - 1) * 86400 + time_of_day)
        return begins.astype("int64") + into + fraction

    end_month = np.floor(end).astype("int64").astype("datetime64[s]").astype("datetime64[M]")
    whole = (end_month - first).astype("int64")
    whole = np.where(anniversary(whole) > end, whole - 1, whole)
    low, high = anniversary(whole), anniversary(whole + 1)
    return whole + (end - low) / (high - low)


def curve(durations: list[float], events: list[bool]) -> dict[str, Any]:
    """Survival at whole months 0…n with the 95 % confidence band (Greenwood, log-log)."""
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter(alpha=0.05)
    fitter.fit(np.asarray(durations), event_observed=np.asarray(events))
    horizon = math.floor(max(durations)) if durations else 0
    grid = list(range(0, horizon + 1))
    surv = fitter.survival_function_at_times(grid).to_numpy()
    band = fitter.confidence_interval_survival_function_
    timeline = band.index.to_numpy()
    positions = np.searchsorted(timeline, grid, side="right") - 1
    lower = band.iloc[:, 0].to_numpy()[np.clip(positions, 0, None)]
    upper = band.iloc[:, 1].to_numpy()[np.clip(positions, 0, None)]
    ordered = np.sort(np.asarray(durations))
    at_risk = (len(ordered) - np.searchsorted(ordered, grid, side="left")).tolist()
    return {
        "months": grid,
        "survival": [round(float(v) * 100, 2) for v in surv],
        "lower": [round(float(v) * 100, 2) for v in lower],
        "upper": [round(float(v) * 100, 2) for v in upper],
        "at_risk": at_risk,
        "customers": len(durations),
        "churned": int(sum(events)),
        "median_months": _median(fitter),
    }


def _median(fitter: Any) -> float | None:
    value = float(fitter.median_survival_time_)
    return None if math.isinf(value) or math.isnan(value) else round(value, 1)
