"""The Today signal "churn risk rose": a customer whose risk entered the top 10% of the day's
scores, or rose by at least ``TEND_PREDICT_RISK_RISE`` (default 0.15) over 7 days.

The finding's key is the day the rise began (the first day of the current run of days on
which either rule held), so a handled item stays handled while the risk stays up and comes
back only after it fell and rose again. The weight in Today's ranking is the risk itself.
Two queries: the latest scored day's candidates, then their last three weeks of scores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tend.predict.churn_display import TOP_DECILE, top_text
from tend.predict.models import ChurnScore

WINDOW_DAYS = 7  # "rose over 7 days"; a rise that began earlier is no longer news
LOOKBACK_DAYS = 3 * WINDOW_DAYS


def rise_threshold() -> float:
    return float(getattr(settings, "TEND_PREDICT_RISK_RISE", 0.15))


def _flagged(day: date, rows: dict[date, tuple[float, float]], rise: float) -> bool:
    today = rows.get(day)
    if today is None:
        return False
    risk, percentile = today
    if percentile >= TOP_DECILE:
        return True
    week_ago = rows.get(day - timedelta(days=WINDOW_DAYS))
    return week_ago is not None and risk - week_ago[0] >= rise - 1e-9


def churn_rise_find(as_of: date) -> Iterable[Any]:
    from tend.today.signals import Finding

    latest = (
        ChurnScore.objects.filter(day__lte=as_of)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    if latest is None:
        return []
    rise = rise_threshold()
    candidates = (
        ChurnScore.objects.filter(day=latest)
        .filter(Q(percentile__gte=TOP_DECILE) | Q(risk__gte=rise))
        .values("customer_id")
    )
    history: dict[int, dict[date, tuple[float, float]]] = defaultdict(dict)
    scores = ChurnScore.objects.filter(
        customer_id__in=candidates,
        day__gt=latest - timedelta(days=LOOKBACK_DAYS),
        day__lte=latest,
    ).values_list("customer_id", "day", "risk", "percentile")
    for cid, day, risk, pct in scores.iterator(chunk_size=20_000):
        history[cid][day] = (risk, pct)
    findings = []
    for cid, rows in history.items():
        if not _flagged(latest, rows, rise):
            continue
        start = latest
        while _flagged(start - timedelta(days=1), rows, rise):
            start -= timedelta(days=1)
        earlier = [d for d in rows if d < start]
        # News only: the run began within the window and after a day that was not flagged
        # (a customer scored for the first time has nothing to have risen from).
        if not earlier or (latest - start).days >= WINDOW_DAYS:
            continue
        risk, pct = rows[latest]
        findings.append(
            Finding(
                customer_id=cid,
                key=f"churn-risk:{start.isoformat()}",
                risk=min(max(float(risk), 0.0), 1.0),
                params={
                    "risk": round(risk, 2),
                    "percentile": round(pct, 4),
                    "since": start.isoformat(),
                },
            )
        )
    return findings


def churn_rise_describe(params: dict[str, Any]) -> str:
    risk = params.get("risk")
    risk_text = f"{float(risk):.2f}" if isinstance(risk, int | float) else "?"
    rank = (
        top_text(params.get("percentile"))
        if isinstance(params.get("percentile"), int | float)
        else ""
    )
    if rank:
        return gettext("Churn risk rose to %(risk)s — %(rank)s") % {"risk": risk_text, "rank": rank}
    return gettext("Churn risk rose to %(risk)s") % {"risk": risk_text}


def register() -> None:
    from tend.today.signals import Signal, signals

    if "churn_risk_rose" not in signals:
        signals.register(
            Signal(
                name="churn_risk_rose",
                label=_("Churn risk rose"),
                find=churn_rise_find,
                describe=churn_rise_describe,
                order=25,
            )
        )
