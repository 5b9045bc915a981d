"""The "churn_risk" health measure: a customer's latest churn risk (0–1, from the active
model's daily scores), lower is better. A scorecard can weigh it like any other measure, so a
customer the model expects to leave loses health points before the usage measures show it.

Time: the score of day D is computed from what was known before D 00:00 UTC, so as of D the
measure reads the latest score on or before D, and none older than ``days`` (a stale score,
e.g. after the model was switched off, is "no data", not a risk).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Max, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tend.lib.db import chunks
from tend.predict.models import ChurnScore

# Above this many customers the measure reads the window for everyone at once.
WHOLE_TABLE = 5_000


def churn_risk_compute(
    ids: Sequence[int], as_of: date, params: dict[str, Any]
) -> dict[int, float | None]:
    days = int(params.get("days", 7))
    window = ChurnScore.objects.filter(day__lte=as_of, day__gt=as_of - timedelta(days=days))
    parts: list[list[int] | None] = [None] if len(ids) > WHOLE_TABLE else list(chunks(list(ids)))
    wanted = set(ids)
    out: dict[int, float | None] = dict.fromkeys(ids)  # no recent score: no data
    for part in parts:
        qs = window if part is None else window.filter(customer_id__in=part)
        # Ordered by day: the latest score of each customer is written last.
        for cid, risk in qs.order_by("customer_id", "day").values_list("customer_id", "risk"):
            if cid in wanted:
                out[cid] = float(risk)
    return out


def rank_of(risk: float) -> float | None:
    """The share of customers scored on the latest day with a lower risk (one query)."""
    latest = ChurnScore.objects.aggregate(day=Max("day"))["day"]
    if latest is None:
        return None
    counts = ChurnScore.objects.filter(day=latest).aggregate(
        total=Count("id"), lower=Count("id", filter=Q(risk__lt=risk))
    )
    if not counts["total"]:
        return None
    return float(counts["lower"]) / float(counts["total"])


def churn_risk_explain(raw: float | None, previous: float | None, params: dict[str, Any]) -> str:
    """ "churn risk 0.42, top 5%" (", was 0.30" when there was an earlier value)."""
    from tend.predict.churn_display import top_text

    if raw is None:
        return gettext("no churn score in the last %(days)s days") % {"days": params.get("days", 7)}
    rank = top_text(rank_of(raw))
    text = gettext("churn risk %(risk)s") % {"risk": f"{raw:.2f}"}
    if rank:
        text = gettext("churn risk %(risk)s, %(rank)s") % {"risk": f"{raw:.2f}", "rank": rank}
    if previous is not None:
        text = gettext("%(now)s, was %(was)s") % {"now": text, "was": f"{previous:.2f}"}
    return text


def register() -> None:
    from tend.health.measures import MAX_DAYS, Measure, Param, measures

    if "churn_risk" in measures:
        return
    measures.register(
        Measure(
            "churn_risk",
            _("Churn risk"),
            "prediction",
            (
                Param(
                    "days",
                    _("Days"),
                    "int",
                    7,
                    low=1,
                    high=MAX_DAYS,
                    help=_("Newest score at most this many days old."),
                ),
            ),
            churn_risk_compute,
            churn_risk_explain,
            higher_is_better=False,
            help=_(
                "The churn model's probability (0–1) that the customer churns within its "
                "horizon, from the latest daily score; no data without a recent score."
            ),
            suggested=((0.1, 100), (0.2, 70), (0.35, 40), (0.5, 10)),
        )
    )
