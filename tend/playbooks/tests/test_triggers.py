"""Each trigger enrolls the right customers once per occurrence, with hand-computed dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tend.changes.actions import change_record
from tend.changes.models import CustomerChange
from tend.customers.actions import customer_change_stage
from tend.factories import make_customer, make_subscription
from tend.ingest.tracking.actions import tracking_ingest
from tend.playbooks.engine import playbooks_handle, playbooks_react, playbooks_scan
from tend.playbooks.models import PlaybookRun
from tend.playbooks.tests.helpers import active_playbook
from tend.playbooks.triggers import holiday_on
from tend.segments.models import Segment

pytestmark = pytest.mark.django_db


def runs(playbook):  # type: ignore[no-untyped-def]
    return list(playbook.runs.order_by("pk").values_list("customer_id", "occurrence"))


def test_stage_entered_through_a_real_stage_change_once_per_change() -> None:
    playbook = active_playbook(trigger="stage_entered", trigger_config={"stage": "at_risk"})
    a, b = make_customer(), make_customer()
    playbooks_react()  # the creation rows are read and passed over
    customer_change_stage(customer=a, stage="at_risk", by=None)
    customer_change_stage(customer=b, stage="trial", by=None)
    assert playbooks_react() >= 2
    change = CustomerChange.objects.get(customer=a, kind="stage")
    assert runs(playbook) == [(a.pk, f"stage:{change.pk}")]
    # The same change handed over twice (a consumer that died after enrolling) → one run.
    playbooks_handle([change])
    assert playbooks_react() == 0
    assert len(runs(playbook)) == 1


def test_condition_filters_who_enters() -> None:
    playbook = active_playbook(
        trigger="stage_entered",
        trigger_config={"stage": "at_risk"},
        condition={"field": "country", "op": "eq", "value": "CN"},
    )
    cn, us = make_customer(country="CN"), make_customer(country="US")
    for customer in (cn, us):
        customer_change_stage(customer=customer, stage="at_risk", by=None)
    playbooks_react()
    assert [c for c, _o in runs(playbook)] == [cn.pk]


def test_health_and_segment_changes() -> None:
    red = active_playbook(name="Red", trigger="health_colour", trigger_config={"colour": "red"})
    low = active_playbook(name="Low", trigger="health_score_below", trigger_config={"score": 40})
    segment = Segment.objects.create(name="Big", condition={"field": "mrr", "op": "gt", "value": 1})
    entered = active_playbook(
        name="In", trigger="segment_entered", trigger_config={"segment": segment.pk}
    )
    left = active_playbook(
        name="Out", trigger="segment_left", trigger_config={"segment": segment.pk}
    )
    c = make_customer()
    change_record(
        customer_id=c.pk, kind="health", key="h1", data={"from": "green", "to": "red", "score": 30}
    )
    change_record(
        customer_id=c.pk, kind="health", key="h2", data={"from": "red", "to": "amber", "score": 55}
    )
    change_record(
        customer_id=c.pk, kind="segment", key="s1", data={"segment": segment.pk, "entered": True}
    )
    playbooks_react()
    assert len(runs(red)) == 1 and len(runs(low)) == 1
    assert len(runs(entered)) == 1 and runs(left) == []


def test_event_received_via_tracking_with_property_tests() -> None:
    playbook = active_playbook(
        trigger="event",
        trigger_config={
            "event": "Invited teammate",
            "properties": [{"key": "role", "op": "equals", "value": "admin"}],
        },
    )
    now = datetime.now(UTC)
    result = tracking_ingest(
        raws=[
            {"type": "group", "userId": "u-1", "groupId": "co-1", "traits": {"name": "Acme"}},
            {
                "type": "track",
                "userId": "u-1",
                "event": "Invited teammate",
                "properties": {"role": "admin"},
            },
            {
                "type": "track",
                "userId": "u-1",
                "event": "Invited teammate",
                "properties": {"role": "viewer"},
            },
            {"type": "track", "userId": "u-1", "event": "Logged in"},
        ],
        label="t",
        received_at=now,
    )
    assert not result.rejected
    playbooks_scan(now=now + timedelta(minutes=1))
    playbooks_scan(now=now + timedelta(minutes=2))  # the overlap reads it again: still one
    found = runs(playbook)
    assert len(found) == 1 and found[0][1].startswith("event:")


def test_renewal_30_days_before_once_per_scan_day() -> None:
    playbook = active_playbook(trigger="renewal", trigger_config={"days_before": [30, 7]})
    renews = datetime(2027, 4, 15, 12, 0, tzinfo=UTC)
    a, b = make_customer(), make_customer()
    make_subscription(a, current_period_end=renews)
    make_subscription(b, current_period_end=renews + timedelta(days=1))
    # 30 days before 15 April 2027 is 16 March; the scan after 09:00 (UTC here) enrolls.
    assert playbooks_scan(now=datetime(2027, 3, 16, 8, 0, tzinfo=UTC)) == 0
    assert playbooks_scan(now=datetime(2027, 3, 16, 9, 5, tzinfo=UTC)) == 1
    assert playbooks_scan(now=datetime(2027, 3, 16, 15, 0, tzinfo=UTC)) == 0
    assert runs(playbook) == [(a.pk, "renewal:2027-04-15:30")]
    run = playbook.runs.get()
    assert run.context == {"days_left": 30, "renewal_date": "2027-04-15"}
    # The next day is b's 30 days; a's 7 days come on 8 April.
    playbooks_scan(now=datetime(2027, 3, 17, 10, 0, tzinfo=UTC))
    playbooks_scan(now=datetime(2027, 4, 8, 10, 0, tzinfo=UTC))
    assert sorted(o for _c, o in runs(playbook)) == [
        "renewal:2027-04-15:30",
        "renewal:2027-04-15:7",
        "renewal:2027-04-16:30",
    ]


def test_birthday_and_signup_anniversary() -> None:
    birthday = active_playbook(name="B", trigger="birthday", trigger_config={"days_before": 0})
    early = active_playbook(name="B2", trigger="birthday", trigger_config={"days_before": 2})
    anniversary = active_playbook(name="A", trigger="anniversary", trigger_config={})
    leap = make_customer(birthday=date(1992, 2, 29))
    may = make_customer(
        birthday=date(1990, 5, 3), signed_up_at=datetime(2024, 5, 3, 15, 0, tzinfo=UTC)
    )
    # 29 February is celebrated on 28 February in years without one.
    playbooks_scan(now=datetime(2027, 2, 28, 10, 0, tzinfo=UTC))
    assert runs(birthday) == [(leap.pk, "birthday:2027")]
    playbooks_scan(now=datetime(2027, 5, 1, 10, 0, tzinfo=UTC))
    assert (may.pk, "birthday:2027") in runs(early)
    playbooks_scan(now=datetime(2027, 5, 3, 10, 0, tzinfo=UTC))
    playbooks_scan(now=datetime(2027, 5, 3, 11, 0, tzinfo=UTC))
    assert runs(birthday) == [(leap.pk, "birthday:2027"), (may.pk, "birthday:2027")]
    assert runs(anniversary) == [(may.pk, "anniversary:2027")]
    assert anniversary.runs.get().context["years"] == 3


def test_spring_festival_2027_and_the_day_before() -> None:
    # Hand-computed: Chinese New Year 2027 falls on Saturday 6 February 2027.
    assert holiday_on("CN", date(2027, 2, 6), "Spring Festival") == (
        "Chinese New Year (Spring Festival)"
    )
    assert holiday_on("CN", date(2027, 2, 5), "Spring Festival") is None
    on_day = active_playbook(
        name="CNY",
        trigger="holiday",
        trigger_config={"country": "CN", "holiday": "Spring Festival", "days_before": 0},
    )
    eve = active_playbook(
        name="CNY-1",
        trigger="holiday",
        trigger_config={"country": "CN", "holiday": "Spring Festival", "days_before": 1},
    )
    by_country = active_playbook(
        name="Own", trigger="holiday", trigger_config={"country": "customer", "days_before": 0}
    )
    cn, gb = make_customer(country="CN"), make_customer(country="GB")
    playbooks_scan(now=datetime(2027, 2, 4, 10, 0, tzinfo=UTC))
    assert runs(eve) == [] and runs(on_day) == []
    playbooks_scan(now=datetime(2027, 2, 5, 10, 0, tzinfo=UTC))
    occurrence = "holiday:CN:2027:chinese-new-year-spring-festival"
    assert sorted(runs(eve)) == sorted([(cn.pk, occurrence), (gb.pk, occurrence)])
    assert runs(on_day) == []
    # The festival's later days (and its observed days) are the same occurrence: one run.
    for day in (6, 7, 8, 9):
        playbooks_scan(now=datetime(2027, 2, day, 10, 0, tzinfo=UTC))
    assert len(runs(on_day)) == 2
    context = on_day.runs.first().context
    assert context["holiday"] == "Chinese New Year (Spring Festival)"
    assert context["holiday_zh_hans"] == "春节"
    # The customer's own country: CN customers greeted on CN holidays only.
    assert {c for c, _o in runs(by_country)} == {cn.pk}


def test_recurring_monthly_and_weekly() -> None:
    monthly = active_playbook(
        name="M", trigger="recurring", trigger_config={"every": "month", "day": 1}
    )
    weekly = active_playbook(
        name="W", trigger="recurring", trigger_config={"every": "week", "weekday": 0}
    )
    c = make_customer()
    playbooks_scan(now=datetime(2027, 3, 1, 10, 0, tzinfo=UTC))  # a Monday, the 1st
    playbooks_scan(now=datetime(2027, 3, 2, 10, 0, tzinfo=UTC))
    playbooks_scan(now=datetime(2027, 3, 8, 10, 0, tzinfo=UTC))
    assert runs(monthly) == [(c.pk, "recurring:2027-03-01")]
    assert runs(weekly) == [(c.pk, "recurring:2027-03-01"), (c.pk, "recurring:2027-03-08")]


def test_paused_playbook_enrolls_nobody() -> None:
    from tend.playbooks.actions import playbook_set_status

    playbook = active_playbook(trigger="stage_entered", trigger_config={"stage": "at_risk"})
    playbook_set_status(playbook=playbook, status="paused", by=None)
    c = make_customer()
    customer_change_stage(customer=c, stage="at_risk", by=None)
    playbooks_react()
    assert not PlaybookRun.objects.exists()


def test_the_scheduled_jobs_run_the_consumer_scan_and_executor() -> None:
    from django.conf import settings
    from django.utils.module_loading import import_string

    from tend.changes.consumers import consumers_run

    playbook = active_playbook(trigger="stage_entered", trigger_config={"stage": "at_risk"})
    c = make_customer()
    customer_change_stage(customer=c, stage="at_risk", by=None)
    assert consumers_run()["playbooks"] >= 1  # the changes-react job
    assert len(runs(playbook)) == 1
    for name in ("playbooks-scan", "playbooks-advance"):
        job = import_string(settings.TEND_SCHEDULES[name]["task"])
        job.call()  # what the worker runs
    assert playbook.runs.get().status == "done"
