"""Scorecard maths (thresholds both ways, percentiles with ties, weights, missing data),
colours and colour_since, idempotent recompute, the backfill, the outbox and the Today
signal."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from tend.changes.models import CustomerChange
from tend.health.engine import (
    colour_of,
    health_backfill,
    health_compute,
    health_pipeline_step,
    points_percentile,
    points_thresholds,
    score_round,
    weighted_score,
)
from tend.health.models import CustomerHealth, HealthScore, Scorecard
from tend.health.scorecards import scorecard_save
from tend.health.tests.helpers import AS_OF, customer, use, use_days

NAN = float("nan")


def same(a: np.ndarray, b: list[float]) -> bool:
    return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), equal_nan=True))


def test_thresholds_higher_is_better() -> None:
    t = [[1, 20], [5, 50], [10, 100]]
    got = points_thresholds(np.array([0, 1, 4.9, 5, 9, 10, 500, NAN]), t, "higher")
    assert same(got, [0, 20, 20, 50, 50, 100, 100, NAN])


def test_thresholds_lower_is_better() -> None:
    t = [[0, 100], [1, 40], [3, 10]]
    got = points_thresholds(np.array([0, 0.5, 1, 2, 3, 4, -2, NAN]), t, "lower")
    assert same(got, [100, 40, 40, 10, 10, 0, 100, NAN])


def test_percentile_with_ties_and_missing() -> None:
    got = points_percentile(np.array([10, 20, 20, 30, NAN]), "higher")
    # ranks 0, 1.5, 1.5, 3 of 0..3
    assert same(got, [0, 50, 50, 100, NAN])
    assert same(points_percentile(np.array([10, 20, 20, 30]), "lower"), [100, 50, 50, 0])
    assert same(points_percentile(np.array([7.0, NAN]), "higher"), [50, NAN])
    assert same(points_percentile(np.array([5, 5, 5]), "higher"), [50, 50, 50])
    assert same(points_percentile(np.array([NAN, NAN]), "higher"), [NAN, NAN])


def test_weighted_average_leaves_out_missing_measures() -> None:
    points = np.array(
        [
            [100, 0, 50],  # (3·100 + 1·0 + 1·50) / 5 = 70
            [100, NAN, NAN],  # only the first: 100, not (300 + 0 + 0) / 5
            [NAN, 0, 50],  # (0 + 50) / 2 = 25
            [NAN, NAN, NAN],  # nothing: no score
        ]
    )
    assert same(weighted_score(points, [3, 1, 1]), [70, 100, 25, NAN])
    assert score_round(float("nan")) is None
    assert score_round(69.5) == 70
    assert score_round(69.49) == 69


def test_colours_by_cutoffs() -> None:
    assert colour_of(None, 40, 70) == ""
    assert colour_of(39, 40, 70) == "red"
    assert colour_of(40, 40, 70) == "yellow"
    assert colour_of(69, 40, 70) == "yellow"
    assert colour_of(70, 40, 70) == "green"


def usage_card(**over: object) -> Scorecard:
    card = Scorecard.objects.get(is_default=True)
    raw = {
        "name": "Default",
        "red_below": 40,
        "green_from": 70,
        "measures": [
            {
                "measure": "active_days",
                "params": {"days": 10},
                "weight": 3,
                "mapping": "thresholds",
                "direction": "higher",
                "thresholds": [[1, 10], [5, 50], [8, 100]],
            },
            {
                "measure": "days_since_touch",
                "weight": 1,
                "mapping": "thresholds",
                "direction": "lower",
                "thresholds": [[7, 100], [30, 50]],
            },
        ],
        **over,
    }
    return scorecard_save(raw, instance=card)


@pytest.mark.django_db
def test_scores_colours_and_details() -> None:
    usage_card()
    busy, some, quiet, unknown = customer(), customer(), customer(), customer()
    use_days(busy, range(1, 9))  # 8 active days → 100
    use_days(some, range(1, 6))  # 5 → 50
    use(quiet, AS_OF - timedelta(days=50))  # 0 → 0
    from tend.health.tests.helpers import touch

    touch(some, AS_OF - timedelta(days=3))  # → 100
    counts = health_compute(AS_OF)
    rows = {r.customer_id: r for r in HealthScore.objects.filter(day=AS_OF)}
    assert rows[busy.pk].score == 100 and rows[busy.pk].colour == "green"
    # (3·50 + 1·100) / 4 = 62.5 → 63 (touch has data, so it counts)
    assert rows[some.pk].score == 63 and rows[some.pk].colour == "yellow"
    assert rows[quiet.pk].score == 0 and rows[quiet.pk].colour == "red"
    assert rows[unknown.pk].score is None and rows[unknown.pk].colour == ""
    assert counts["scored"] == 3
    lines = rows[some.pk].details["lines"]
    assert [line["measure"] for line in lines] == ["active_days", "days_since_touch"]
    assert lines[0]["raw"] == 5.0 and lines[0]["points"] == 50.0 and lines[0]["weight"] == 3.0
    assert rows[busy.pk].details["lines"][1]["raw"] is None  # no touch: left out
    latest = CustomerHealth.objects.get(customer=some)
    assert (latest.day, latest.score, latest.colour, latest.colour_since) == (
        AS_OF,
        63,
        "yellow",
        AS_OF,
    )


@pytest.mark.django_db
def test_recompute_is_idempotent_and_keeps_colour_since() -> None:
    usage_card()
    c = customer()
    use_days(c, range(1, 60))
    day1 = AS_OF - timedelta(days=2)
    for day in (day1, day1 + timedelta(days=1), AS_OF):
        health_compute(day)
    health_compute(AS_OF)
    health_pipeline_step(AS_OF)
    assert HealthScore.objects.filter(customer=c).count() == 3
    latest = CustomerHealth.objects.get(customer=c)
    assert latest.colour == "green" and latest.colour_since == day1
    assert HealthScore.objects.get(customer=c, day=AS_OF).colour_since == day1


@pytest.mark.django_db
def test_colour_change_goes_to_the_outbox_once() -> None:
    usage_card()
    c = customer()
    use_days(c, range(1, 30), end=AS_OF - timedelta(days=12))  # active long ago, quiet lately
    day_green = AS_OF - timedelta(days=12)
    health_compute(day_green)
    assert CustomerHealth.objects.get(customer=c).colour == "green"
    health_compute(AS_OF)  # no activity in the last 10 days → red
    health_compute(AS_OF)
    latest = CustomerHealth.objects.get(customer=c)
    assert latest.colour == "red" and latest.colour_since == AS_OF
    change = CustomerChange.objects.get(kind="health", customer=c)
    assert change.key == f"health:{c.pk}:{AS_OF.isoformat()}"
    assert change.data["from"] == "green" and change.data["to"] == "red"


@pytest.mark.django_db
def test_older_day_does_not_overwrite_latest_health() -> None:
    usage_card()
    c = customer()
    use_days(c, range(1, 30))
    health_compute(AS_OF)
    health_compute(AS_OF - timedelta(days=40))  # nothing before then: no score
    assert CustomerHealth.objects.get(customer=c).day == AS_OF


@pytest.mark.django_db
def test_customers_not_yet_signed_up_or_churned_are_not_scored() -> None:
    from datetime import UTC, datetime

    usage_card()
    later = customer(signed_up=AS_OF + timedelta(days=1))
    gone = customer(churned_at=datetime(2026, 5, 1, tzinfo=UTC))
    here = customer()
    health_compute(AS_OF)
    scored = set(HealthScore.objects.filter(day=AS_OF).values_list("customer_id", flat=True))
    assert here.pk in scored and later.pk not in scored and gone.pk not in scored
    # Churned on the day or after it: still scored for the days before.
    health_compute(date(2026, 4, 30))
    assert HealthScore.objects.filter(day=date(2026, 4, 30), customer=gone).exists()


@pytest.mark.django_db
def test_backfill_equals_day_by_day_recompute() -> None:
    usage_card()
    a, b = customer(), customer()
    use_days(a, range(1, 40, 2))
    use_days(b, range(20, 60))
    counts = health_backfill(30, end=AS_OF)
    assert counts["days"] == 30
    backfilled = {
        (r.customer_id, r.day): (r.score, r.colour, r.colour_since, r.details)
        for r in HealthScore.objects.all()
    }
    assert len(backfilled) == 60
    # Only the last day's colour changes reach the outbox (history is not news).
    keys = set(CustomerChange.objects.filter(kind="health").values_list("key", flat=True))
    assert all(key.endswith(AS_OF.isoformat()) for key in keys)
    HealthScore.objects.all().delete()
    CustomerHealth.objects.all().delete()
    for k in range(29, -1, -1):
        health_compute(AS_OF - timedelta(days=k))
    again = {
        (r.customer_id, r.day): (r.score, r.colour, r.colour_since, r.details)
        for r in HealthScore.objects.all()
    }
    assert again == backfilled
    health_backfill(30, end=AS_OF)  # idempotent
    assert HealthScore.objects.count() == 60


@pytest.mark.django_db
def test_percentile_mapping_ranks_all_customers_scored_that_day() -> None:
    card = Scorecard.objects.get(is_default=True)
    scorecard_save(
        {
            "name": "Default",
            "red_below": 30,
            "green_from": 70,
            "measures": [
                {
                    "measure": "event_count",
                    "params": {"days": 30},
                    "weight": 1,
                    "mapping": "percentile",
                }
            ],
        },
        instance=card,
    )
    people = [customer() for _ in range(4)]
    for c, n in zip(people, [1, 5, 5, 9], strict=True):
        use(c, AS_OF - timedelta(days=1), count=n)
    health_compute(AS_OF)
    scores = [HealthScore.objects.get(customer=c, day=AS_OF).score for c in people]
    assert scores == [0, 50, 50, 100]


@pytest.mark.django_db
def test_today_signal_health_turned_red() -> None:
    from tend.today.signals import signals

    usage_card()
    c = customer()
    use_days(c, range(1, 30), end=AS_OF - timedelta(days=12))
    health_compute(AS_OF - timedelta(days=12))
    health_compute(AS_OF - timedelta(days=2))
    signal = signals.get("health_red")
    found = list(signal.find(AS_OF))
    assert [f.customer_id for f in found] == [c.pk]
    assert found[0].key == f"health-red:{(AS_OF - timedelta(days=2)).isoformat()}"
    assert 0 < found[0].risk <= 1
    assert "Health turned red" in signal.describe(found[0].params)
    assert list(signal.find(AS_OF + timedelta(days=10))) == []  # red for more than 7 days


@pytest.mark.django_db
def test_first_matching_scorecard_wins_default_otherwise() -> None:
    from decimal import Decimal

    from tend.customers.models import Customer
    from tend.segments.models import Segment

    usage_card()
    big, small, tagged = customer(), customer(), customer()
    Customer.objects.filter(pk=big.pk).update(mrr=Decimal("900"))
    Customer.objects.filter(pk=tagged.pk).update(mrr=Decimal("900"), industry="Retail")
    for c in (big, small, tagged):
        use_days(c, range(1, 4))
    seg = Segment.objects.create(
        name="Retail", condition={"field": "industry", "op": "eq", "value": "Retail"}
    )
    line = {"measure": "active_days", "params": {"days": 10}, "weight": 1, "thresholds": [[1, 100]]}
    scorecard_save(
        {
            "name": "Retail",
            "position": 1,
            "segment": seg.pk,
            "red_below": 0,
            "green_from": 0,
            "measures": [line],
        }
    )
    scorecard_save(
        {
            "name": "Big",
            "position": 2,
            "condition": {"field": "mrr", "op": "gte", "value": 500},
            "red_below": 0,
            "green_from": 0,
            "measures": [line],
        }
    )
    health_compute(AS_OF)
    cards = dict(HealthScore.objects.filter(day=AS_OF).values_list("customer_id", "scorecard"))
    assert cards == {tagged.pk: "Retail", big.pk: "Big", small.pk: "Default"}


@pytest.mark.django_db
def test_bad_condition_names_its_path() -> None:
    from tend.health.scorecards import ScorecardError

    with pytest.raises(ScorecardError) as exc:
        scorecard_save(
            {
                "name": "X",
                "condition": {"all": [{"field": "mrr", "op": "contains", "value": "a"}]},
                "red_below": 1,
                "green_from": 2,
                "measures": [{"measure": "breadth", "weight": 1, "mapping": "percentile"}],
            }
        )
    assert exc.value.field == "condition.all[0].op"
    with pytest.raises(ScorecardError) as exc:
        scorecard_save(
            {
                "name": "X",
                "condition": {"field": "nope", "op": "eq", "value": 1},
                "red_below": 1,
                "green_from": 2,
                "measures": [{"measure": "breadth", "weight": 1, "mapping": "percentile"}],
            }
        )
    assert exc.value.field == "condition.field" and "nope" in exc.value.message
    assert not Scorecard.objects.filter(name="X").exists()


@pytest.mark.django_db
def test_health_condition_fields_read_the_latest_health() -> None:
    from tend.segments.conditions import customers_matching

    usage_card()
    busy, quiet = customer(), customer()
    use_days(busy, range(1, 9))
    use(quiet, AS_OF - timedelta(days=50))
    health_compute(AS_OF)
    red = customers_matching({"field": "health_colour", "op": "eq", "value": "red"})
    assert list(red.values_list("pk", flat=True)) == [quiet.pk]
    high = customers_matching({"field": "health_score", "op": "gte", "value": 90})
    assert list(high.values_list("pk", flat=True)) == [busy.pk]
