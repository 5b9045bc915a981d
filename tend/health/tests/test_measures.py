"""Each built-in measure on hand-made data, as of today and as of a past day (no leakage of
later data), and the fast many-days path equal to the one-day path."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tend.health.measures import (
    PAYMENT_FAILED,
    MeasureError,
    measure_values,
    measures,
    params_clean,
)
from tend.health.tests.helpers import AS_OF, at, customer, move, subscription, touch, use, use_days

pytestmark = pytest.mark.django_db


def run(
    name: str, ids: list[int], as_of: date = AS_OF, **params: object
) -> dict[int, float | None]:
    measure = measures.get(name)
    return measure.compute(ids, as_of, params_clean(measure, params))


def both_paths_agree(name: str, ids: list[int], on: list[date], **params: object) -> None:
    measure = measures.get(name)
    clean = params_clean(measure, params)
    many = measure_values(measure, ids, on, clean)
    for day in on:
        assert many[day] == measure.compute(ids, day, clean), (name, day)


def test_builtin_measures_are_registered() -> None:
    assert {
        "active_days",
        "event_count",
        "usage_change",
        "breadth",
        "failed_payments",
        "days_to_renewal",
        "mrr_change",
        "days_since_touch",
    } <= set(measures.names())


def test_active_days_counts_days_in_window_before_as_of() -> None:
    busy, idle, never = customer(), customer(), customer()
    use_days(busy, range(1, 11))  # the 10 days before AS_OF
    use(busy, AS_OF)  # on the day itself: not before it, not counted
    use(busy, AS_OF + timedelta(days=3))  # later data: never counted
    use(busy, AS_OF - timedelta(days=31))  # outside the 30 days
    use(idle, AS_OF - timedelta(days=100))
    use(busy, AS_OF - timedelta(days=2), PAYMENT_FAILED)  # not usage
    got = run("active_days", [busy.pk, idle.pk, never.pk], days=30)
    assert got == {busy.pk: 10.0, idle.pk: 0.0, never.pk: None}
    # As of a past day: only what happened before it.
    past = AS_OF - timedelta(days=5)
    assert run("active_days", [busy.pk], past, days=30)[busy.pk] == 6.0  # days 6..10 + day 31
    both_paths_agree(
        "active_days",
        [busy.pk, idle.pk, never.pk],
        [past, AS_OF, AS_OF + timedelta(days=10)],
        days=30,
    )


def test_event_count_chosen_events_only() -> None:
    c = customer()
    use(c, AS_OF - timedelta(days=1), "Export", 4)
    use(c, AS_OF - timedelta(days=2), "Report Viewed", 7)
    use(c, AS_OF - timedelta(days=40), "Export", 100)
    assert run("event_count", [c.pk], days=30, events=["Export"])[c.pk] == 4.0
    assert run("event_count", [c.pk], days=30)[c.pk] == 11.0
    assert run("event_count", [c.pk], days=60, events="Export, Nothing")[c.pk] == 104.0
    both_paths_agree(
        "event_count", [c.pk], [AS_OF - timedelta(days=20), AS_OF], days=30, events=["Export"]
    )


def test_usage_change_against_previous_window() -> None:
    up, down, new = customer(), customer(), customer()
    use(up, AS_OF - timedelta(days=5), count=30)
    use(up, AS_OF - timedelta(days=35), count=20)
    use(down, AS_OF - timedelta(days=5), count=5)
    use(down, AS_OF - timedelta(days=35), count=20)
    use(new, AS_OF - timedelta(days=5), count=5)
    got = run("usage_change", [up.pk, down.pk, new.pk], days=30)
    assert got == {up.pk: 50.0, down.pk: -75.0, new.pk: None}  # nothing before: no basis
    both_paths_agree(
        "usage_change", [up.pk, down.pk, new.pk], [AS_OF - timedelta(days=3), AS_OF], days=30
    )


def test_breadth_counts_distinct_event_names() -> None:
    c = customer()
    for name in ("A", "B", "C"):
        use(c, AS_OF - timedelta(days=2), name)
    use(c, AS_OF - timedelta(days=3), "A")
    use(c, AS_OF - timedelta(days=45), "Z")
    assert run("breadth", [c.pk], days=30)[c.pk] == 3.0
    assert run("breadth", [c.pk], days=60)[c.pk] == 4.0
    both_paths_agree("breadth", [c.pk], [AS_OF - timedelta(days=44), AS_OF], days=30)


def test_failed_payments_from_stripe_event_rollups() -> None:
    billed, unbilled = customer(), customer()
    subscription(billed, started=date(2026, 1, 1), period_end=at(date(2026, 7, 1)))
    use(billed, AS_OF - timedelta(days=3), PAYMENT_FAILED, 2)
    use(billed, AS_OF + timedelta(days=1), PAYMENT_FAILED, 5)  # later: not counted
    got = run("failed_payments", [billed.pk, unbilled.pk], days=30)
    assert got == {billed.pk: 2.0, unbilled.pk: None}
    # Before the first subscription there is no billing data.
    assert run("failed_payments", [billed.pk], date(2025, 12, 1), days=30)[billed.pk] is None
    both_paths_agree(
        "failed_payments", [billed.pk, unbilled.pk], [date(2025, 12, 1), AS_OF], days=30
    )


def test_days_to_renewal_steps_back_to_the_period_running_then() -> None:
    monthly, yearly, none = customer(), customer(), customer()
    subscription(monthly, started=date(2026, 1, 10), period_end=datetime(2026, 8, 10, tzinfo=UTC))
    subscription(
        yearly,
        started=date(2025, 3, 1),
        period_end=datetime(2027, 3, 1, tzinfo=UTC),
        interval="year",
    )
    got = run("days_to_renewal", [monthly.pk, yearly.pk, none.pk])
    assert got[monthly.pk] == float((date(2026, 6, 10) - AS_OF).days)  # 9
    assert got[yearly.pk] == float((date(2027, 3, 1) - AS_OF).days)
    assert got[none.pk] is None
    # As of a past day: the renewal that was ahead then.
    assert run("days_to_renewal", [yearly.pk], date(2025, 6, 1))[yearly.pk] == float(
        (date(2026, 3, 1) - date(2025, 6, 1)).days
    )
    # Before the subscription started: none.
    assert run("days_to_renewal", [monthly.pk], date(2025, 12, 1))[monthly.pk] is None


def test_days_to_renewal_of_a_canceled_subscription_counts_only_before_cancel() -> None:
    c = customer()
    subscription(
        c,
        started=date(2026, 1, 1),
        period_end=datetime(2026, 5, 1, tzinfo=UTC),
        status="canceled",
        canceled=datetime(2026, 5, 1, tzinfo=UTC),
    )
    assert run("days_to_renewal", [c.pk], date(2026, 4, 20))[c.pk] == 11.0
    assert run("days_to_renewal", [c.pk], AS_OF)[c.pk] is None


def test_mrr_change_over_n_days() -> None:
    grew, shrank, fresh = customer(), customer(), customer()
    move(grew, AS_OF - timedelta(days=200), "0", "100", "new")
    move(grew, AS_OF - timedelta(days=10), "100", "150")
    move(grew, AS_OF + timedelta(days=1), "150", "900")  # later: not seen
    move(shrank, AS_OF - timedelta(days=200), "0", "200", "new")
    move(shrank, AS_OF - timedelta(days=20), "200", "50", "contraction")
    move(fresh, AS_OF - timedelta(days=5), "0", "80", "new")
    got = run("mrr_change", [grew.pk, shrank.pk, fresh.pk], days=90)
    assert got == {grew.pk: 50.0, shrank.pk: -75.0, fresh.pk: None}
    assert run("mrr_change", [grew.pk], AS_OF - timedelta(days=9), days=90)[grew.pk] == 50.0
    assert run("mrr_change", [grew.pk], AS_OF - timedelta(days=11), days=90)[grew.pk] == 0.0
    both_paths_agree(
        "mrr_change", [grew.pk, shrank.pk, fresh.pk], [AS_OF - timedelta(days=15), AS_OF], days=90
    )


def test_days_since_last_touch() -> None:
    talked, never = customer(), customer()
    touch(talked, AS_OF - timedelta(days=12), "call")
    touch(talked, AS_OF - timedelta(days=40), "note")
    touch(talked, AS_OF + timedelta(days=2), "meeting")  # later: not seen
    from tend.customers.models import TimelineEntry

    TimelineEntry.objects.create(customer=never, kind="stage", at=at(AS_OF - timedelta(days=1)))
    got = run("days_since_touch", [talked.pk, never.pk])
    assert got == {talked.pk: 12.0, never.pk: None}  # a stage change is not a touch
    assert run("days_since_touch", [talked.pk], AS_OF - timedelta(days=20))[talked.pk] == 20.0
    both_paths_agree("days_since_touch", [talked.pk, never.pk], [AS_OF - timedelta(days=20), AS_OF])


def test_measures_run_a_fixed_number_of_queries(django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    people = [customer() for _ in range(8)]
    for c in people:
        use_days(c, range(1, 4))
    ids = [c.pk for c in people]
    for measure in measures:
        params = params_clean(measure, {})
        with django_assert_max_num_queries(4):
            measure.compute(ids, AS_OF, params)


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("active_days", {"days": 0}, "params.days"),
        ("active_days", {"days": 100000}, "params.days"),
        ("active_days", {"days": "x"}, "params.days"),
        ("active_days", {"days": float("nan")}, "params.days"),
        ("active_days", {"days": True}, "params.days"),
        ("active_days", {"nope": 1}, "params.nope"),
        ("active_days", [1], "params"),
        ("event_count", {"events": "a\x00b"}, "params.events"),
        ("event_count", {"events": [1]}, "params.events"),
        ("event_count", {"events": ["\ud800"]}, "params.events"),
        ("event_count", {"events": [f"e{i}" for i in range(60)]}, "params.events"),
    ],
)
def test_bad_params_name_the_field(name: str, params: object, field: str) -> None:
    with pytest.raises(MeasureError) as exc:
        params_clean(measures.get(name), params)
    assert exc.value.field == field


def test_explain_in_plain_words() -> None:
    m = measures.get("active_days")
    assert m.explain(2, 18, {"days": 30}) == "active 2 of the last 30 days, was 18"
    assert m.explain(None, None, {"days": 30}) == "no usage recorded yet"
    assert "failed payment" in measures.get("failed_payments").explain(1, None, {"days": 30})
    assert measures.get("usage_change").explain(-40, 10, {"days": 30, "events": []}) == (
        "usage -40% against the 30 days before, was +10%"
    )


def test_whole_table_path_equals_the_sliced_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above WHOLE_TABLE customers a measure reads its window for everyone; the answer must
    be the same as asking 500 customers at a time (and leave out customers not asked for)."""
    from tend.health import measures as module

    people = [customer() for _ in range(6)]
    for k, c in enumerate(people):
        use_days(c, range(1, 2 + 3 * k))
        use(c, AS_OF - timedelta(days=2 + k), "Export")
        move(c, AS_OF - timedelta(days=100), "0", "50", "new")
        move(c, AS_OF - timedelta(days=3), "50", str(50 + 10 * k))
        touch(c, AS_OF - timedelta(days=k + 1))
        subscription(
            c, started=date(2026, 1, 1), period_end=at(date(2026, 7, 1) + timedelta(days=k))
        )
    asked = [c.pk for c in people[:4]]
    days = [AS_OF - timedelta(days=1), AS_OF]
    sliced = {}
    for measure in measures:
        p = params_clean(measure, {})
        sliced[measure.name] = (
            measure.compute(asked, AS_OF, p),
            measure_values(measure, asked, days, p),
        )
    monkeypatch.setattr(module, "WHOLE_TABLE", 2)
    for measure in measures:
        p = params_clean(measure, {})
        whole = (measure.compute(asked, AS_OF, p), measure_values(measure, asked, days, p))
        assert whole == sliced[measure.name], measure.name
        assert set(whole[0]) == set(asked)
