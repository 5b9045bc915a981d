"""Issue 16's acceptance: on the demo data, with the default scorecard, customers who churn in
the next month had a lower median health score in the month before than those who stayed.

The demo never reads churn dates to shape usage: a hidden engagement score drives both the
usage events and the churn hazard at renewal (tend/demo/engagement.py, lifecycle.py, usage.py),
and health scores only read data before their day (tend/health/engine.py), so the gap below
comes from behaviour alone.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from tend.billing.models import MovementKind, MrrMovement
from tend.demo.tests.helpers import END, generate
from tend.health.engine import health_backfill
from tend.health.models import HealthScore, Scorecard

pytestmark = pytest.mark.django_db

MONTH = timedelta(days=30)


def _moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _paying_on(day: date) -> set[int]:
    """Customers with MRR at ``day`` 00:00 UTC, from the ledger (last movement before it)."""
    last: dict[int, bool] = {}
    for customer, after in (
        MrrMovement.objects.filter(at__lt=_moment(day))
        .order_by("customer_id", "at", "pk")
        .values_list("customer_id", "mrr_after")
    ):
        last[customer] = after > 0
    return {customer for customer, paying in last.items() if paying}


def _churned_within(start: date) -> set[int]:
    return set(
        MrrMovement.objects.filter(
            kind=MovementKind.CHURN, at__gte=_moment(start), at__lt=_moment(start + MONTH)
        ).values_list("customer_id", flat=True)
    )


def _month_before(start: date) -> dict[int, float]:
    """Each customer's median daily health score over the 30 days [start − 30, start)."""
    scores: dict[int, list[int]] = defaultdict(list)
    for customer, score in HealthScore.objects.filter(
        day__gte=start - MONTH, day__lt=start, score__isnull=False
    ).values_list("customer_id", "score"):
        scores[customer].append(score)
    return {customer: statistics.median(values) for customer, values in scores.items()}


def test_churners_had_a_lower_median_health_score_the_month_before_than_stayers() -> None:
    generate("saas", customers=600, months=12, seed=11)
    assert Scorecard.objects.count() == 1  # the default scorecard, as the demo ships it
    health_backfill(210, end=END - timedelta(days=1))
    churner_scores: list[float] = []
    stayer_scores: list[float] = []
    # Five monthly look-outs over the scored span; each needs a whole month of scores before.
    for k in range(5):
        start = END - MONTH * (k + 1)
        paying = _paying_on(start)
        churned = _churned_within(start) & paying
        before = _month_before(start)
        churner_scores += [before[c] for c in churned if c in before]
        stayer_scores += [before[c] for c in paying - churned if c in before]
    assert len(churner_scores) >= 20 and len(stayer_scores) >= 500
    churners = statistics.median(churner_scores)
    stayers = statistics.median(stayer_scores)
    print(
        f"median health the month before: churners {churners} (n={len(churner_scores)}), "
        f"stayers {stayers} (n={len(stayer_scores)})"
    )
    assert churners < stayers - 5
