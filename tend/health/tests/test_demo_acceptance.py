"""Acceptance: on the demo data, with the default scorecard, customers who churn in a month
had a lower median health score in the month before than those who stayed. The demo makes
this true through behaviour (usage falls before churn); health never reads churn dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from statistics import median

import pytest

from tend.billing.models import MovementKind, MrrMovement
from tend.demo.tests.helpers import END, generate
from tend.health.engine import health_backfill
from tend.health.models import HealthScore

pytestmark = pytest.mark.django_db


def month_start(day: date) -> date:
    return day.replace(day=1)


def test_churners_had_lower_median_health_the_month_before() -> None:
    generate("saas", customers=600, months=12, seed=11)
    health_backfill(200, end=END)
    compared = 0
    for k in range(1, 4):  # the last three whole months
        start = month_start(END - timedelta(days=31 * k))
        end = month_start(start + timedelta(days=32))
        before = start - timedelta(days=30)
        moment = datetime(start.year, start.month, start.day, tzinfo=UTC)
        churners = set(
            MrrMovement.objects.filter(
                kind=MovementKind.CHURN,
                at__gte=moment,
                at__lt=datetime(end.year, end.month, end.day, tzinfo=UTC),
            ).values_list("customer_id", flat=True)
        )
        paying = set(
            MrrMovement.objects.filter(at__lt=moment).values_list("customer_id", flat=True)
        ) - set(
            MrrMovement.objects.filter(kind=MovementKind.CHURN, at__lt=moment).values_list(
                "customer_id", flat=True
            )
        )
        rows = HealthScore.objects.filter(
            day__gte=before, day__lt=start, score__isnull=False, customer_id__in=paying
        ).values_list("customer_id", "score")
        churned = [s for c, s in rows if c in churners]
        stayed = [s for c, s in rows if c not in churners]
        if len({c for c, _s in rows if c in churners}) < 5:
            continue
        compared += 1
        assert median(churned) < median(stayed), (start, median(churned), median(stayed))
    assert compared >= 2
