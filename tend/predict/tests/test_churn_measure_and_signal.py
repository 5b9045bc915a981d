"""The churn_risk health measure (latest score, lower is better, "churn risk 0.42, top 5%")
and the Today signal "churn risk rose" (entered the top 10% or rose by the setting over 7 days;
key = the day the rise began; weight = the risk)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tend.factories import make_customer
from tend.health.measures import measures
from tend.predict.models import ChurnScore
from tend.predict.tests.factories import make_churn_model
from tend.today.signals import signals

pytestmark = pytest.mark.django_db
DAY = date(2026, 6, 30)


def _scores(customer, model, values: list[tuple[float, float]]) -> None:  # type: ignore[no-untyped-def]
    """(risk, percentile) for the days ending on DAY, oldest first."""
    n = len(values)
    ChurnScore.objects.bulk_create(
        ChurnScore(
            customer=customer,
            model=model,
            day=DAY - timedelta(days=n - 1 - i),
            risk=r,
            percentile=p,
        )
        for i, (r, p) in enumerate(values)
    )


def test_the_measure_reads_the_latest_recent_score() -> None:
    measure = measures.get("churn_risk")
    assert measure.higher_is_better is False
    model = make_churn_model()
    a, b, c = make_customer(), make_customer(), make_customer()
    _scores(a, model, [(0.2, 0.5), (0.42, 0.95)])
    ChurnScore.objects.create(
        customer=c, model=model, day=DAY - timedelta(days=30), risk=0.9, percentile=1
    )
    for _ in range(19):  # others scored that day, all less risky: a is in the top 5%
        ChurnScore.objects.create(
            customer=make_customer(), model=model, day=DAY, risk=0.1, percentile=0
        )
    values = measure.compute([a.pk, b.pk, c.pk], DAY, {"days": 7})
    assert values == {a.pk: 0.42, b.pk: None, c.pk: None}  # c's score is 30 days old
    assert measure.compute([a.pk], DAY - timedelta(days=1), {"days": 7}) == {a.pk: 0.2}
    text = measure.explain(0.42, 0.2, {"days": 7})
    assert text == "churn risk 0.42, top 5%, was 0.20"


def test_the_signal_finds_a_rise_into_the_top_decile_keyed_by_its_first_day() -> None:
    signal = signals.get("churn_risk_rose")
    model = make_churn_model()
    rose, steady_high, steady_low, jumped = (make_customer() for _ in range(4))
    _scores(rose, model, [(0.1, 0.5)] * 7 + [(0.3, 0.85), (0.4, 0.92), (0.42, 0.95)])
    _scores(steady_high, model, [(0.6, 0.99)] * 10)
    _scores(steady_low, model, [(0.05, 0.3)] * 10)
    _scores(jumped, model, [(0.1, 0.5)] * 8 + [(0.3, 0.7), (0.3, 0.7)])
    found = {f.customer_id: f for f in signal.find(DAY)}
    assert set(found) == {rose.pk, jumped.pk}
    # It rose by 0.2 (≥ 0.15) on DAY − 2, then entered the top 10%: the run began on DAY − 2.
    assert found[rose.pk].key == f"churn-risk:{(DAY - timedelta(days=2)).isoformat()}"
    assert found[rose.pk].risk == 0.42
    assert signal.describe(found[rose.pk].params) == "Churn risk rose to 0.42 — top 5%"
    # The rise of 0.2 over 7 days (setting 0.15) began the day it first held.
    assert found[jumped.pk].key == f"churn-risk:{(DAY - timedelta(days=1)).isoformat()}"
    # The next day the key stays the same: a handled item stays handled.
    ChurnScore.objects.create(
        customer=rose, model=model, day=DAY + timedelta(days=1), risk=0.45, percentile=0.96
    )
    later = {f.customer_id: f for f in signal.find(DAY + timedelta(days=1))}
    assert later[rose.pk].key == found[rose.pk].key


def test_the_rise_threshold_is_a_setting(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TEND_PREDICT_RISK_RISE = 0.5
    model = make_churn_model()
    jumped = make_customer()
    _scores(jumped, model, [(0.1, 0.5)] * 8 + [(0.3, 0.7), (0.3, 0.7)])
    assert list(signals.get("churn_risk_rose").find(DAY)) == []


def test_no_scores_no_findings() -> None:
    assert list(signals.get("churn_risk_rose").find(DAY)) == []


@pytest.mark.parametrize("count", [3, 30])
def test_the_signal_runs_two_queries_whatever_the_customer_count(count: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    model = make_churn_model()
    for _ in range(count):
        _scores(make_customer(), model, [(0.1, 0.5)] * 7 + [(0.3, 0.85), (0.4, 0.92), (0.42, 0.95)])
    with CaptureQueriesContext(connection) as queries:
        found = list(signals.get("churn_risk_rose").find(DAY))
    assert len(queries) <= 2 and len(found) == count
