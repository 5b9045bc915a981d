"""The executor: steps run once each, waits, retries, failures, pause/resume/cancel, leases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tend.customers.models import Tag, TimelineEntry
from tend.customers.timeline import describe, playbook_result
from tend.factories import make_contact, make_customer
from tend.messaging.models import EmailTemplate, Message, WebhookEndpoint
from tend.playbooks.actions import (
    PlaybookError,
    playbook_set_status,
    playbook_start,
    run_cancel,
    run_pause,
    run_resume,
    run_retry,
)
from tend.playbooks.engine import runs_advance
from tend.playbooks.models import PlaybookRun, RunStatus, RunStep
from tend.playbooks.registry import Action, Result, StepContext, StepFailed, actions
from tend.playbooks.tests.helpers import T0, active_playbook, note, outcomes, stage, wait
from tend.playbooks.timing import next_weekday_hour
from tend.tasks.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def flaky() -> Any:
    """A throw-away action failing as told: calls counted, then removed from the registry."""
    state: dict[str, Any] = {"calls": 0, "fail": 99, "retry": True}

    def run(ctx: StepContext) -> Result:
        state["calls"] += 1
        if state["calls"] <= state["fail"]:
            raise StepFailed("SMTP server down", retry=state["retry"])
        return Result("note_added")

    actions.register(
        Action(name="flaky", label="Flaky", clean=lambda c: {}, describe=lambda c: "Flaky", run=run)
    )
    yield state
    actions.unregister("flaky")


def needs_contracts() -> None:
    """Contracts 1–3 (outbox, templates, tasks) live on their owners' branches until merged."""
    for module in ("tend.messaging.outbox", "tend.messaging.templating", "tend.tasks.actions"):
        pytest.importorskip(module)


def start(playbook: Any, *customers: Any, now: datetime = T0) -> list[PlaybookRun]:
    playbook_start(playbook=playbook, customers=list(customers), by=None, now=now)
    return list(playbook.runs.order_by("pk"))


def test_steps_run_once_through_waits_and_the_timeline_reads_them() -> None:
    playbook = active_playbook(steps=[note("n1"), wait("w1", 2), stage("s1", "at_risk")])
    c = make_customer()
    (run,) = start(playbook, c)
    assert runs_advance(now=T0) == 2  # the note, then the wait
    run.refresh_from_db()
    assert run.status == RunStatus.ACTIVE and run.position == ["s1"]
    assert run.next_at == T0 + timedelta(days=2)
    assert runs_advance(now=T0 + timedelta(days=1)) == 0  # not due yet
    assert runs_advance(now=T0 + timedelta(days=2)) == 2  # the stage step, then the end
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert outcomes(run) == [("n1", "done"), ("w1", "waiting"), ("s1", "done")]
    c.refresh_from_db()
    assert c.stage == "at_risk"
    texts = [describe(e) for e in TimelineEntry.objects.filter(customer=c, kind="playbook")]
    assert "Note from playbook “P”" in texts
    assert "Playbook “P”: Stage set to At risk" in texts
    assert "Playbook “P” finished" in texts
    # The stage change is a playbook's, with an override so lifecycle rules leave it there.
    assert c.stage_override.stage == "at_risk"
    assert runs_advance(now=T0 + timedelta(days=3)) == 0


def test_a_killed_workers_run_resumes_after_the_lease_without_repeating(flaky: Any) -> None:
    flaky["fail"] = 0
    playbook = active_playbook(steps=[note("n1"), {"id": "f", "type": "flaky"}, note("n2")])
    (run,) = start(playbook, make_customer())
    # A worker claimed the run, finished n1 and died: the claim is left with a lease.
    runs_advance(now=T0, limit=1)  # runs everything; rewind to "after n1" to simulate the kill
    PlaybookRun.objects.filter(pk=run.pk).update(
        status=RunStatus.ACTIVE,
        position=["f"],
        next_at=T0,
        claimed_until=T0 + timedelta(minutes=5),
        claim_token="dead-worker",
        finished_at=None,
    )
    RunStep.objects.filter(run=run).exclude(step_id="n1").delete()
    flaky["calls"] = 0
    assert runs_advance(now=T0 + timedelta(minutes=1)) == 0  # still leased to the dead worker
    assert runs_advance(now=T0 + timedelta(minutes=6)) == 3  # f, n2, the end
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.claim_token == ""
    assert outcomes(run) == [("n1", "done"), ("f", "done"), ("n2", "done")]
    assert flaky["calls"] == 1


def test_retries_with_backoff_then_failed_with_the_error(flaky: Any, settings: Any) -> None:
    settings.TEND_PLAYBOOK_STEP_ATTEMPTS = 3
    settings.TEND_PLAYBOOK_RETRY_SECONDS = 60
    playbook = active_playbook(steps=[{"id": "f", "type": "flaky"}, note("n2")])
    (run,) = start(playbook, make_customer())
    runs_advance(now=T0)
    run.refresh_from_db()
    assert run.status == RunStatus.ACTIVE and run.attempts == 1
    assert run.next_at == T0 + timedelta(minutes=1)
    runs_advance(now=T0 + timedelta(minutes=1))
    run.refresh_from_db()
    assert run.next_at == T0 + timedelta(minutes=3)  # 1 minute, then 2
    runs_advance(now=T0 + timedelta(minutes=3))
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.last_error == "SMTP server down"
    assert outcomes(run) == [("f", "retrying"), ("f", "retrying"), ("f", "failed")]
    assert playbook_result(RunStep.objects.filter(run=run).last().detail) == (
        "Failed after 3 attempts"
    )
    # Retry by hand: the failed step again, then the rest.
    flaky["fail"] = 0
    run_retry(run=run, by=None)
    runs_advance(now=T0 + timedelta(minutes=4))
    run.refresh_from_db()
    assert run.status == RunStatus.DONE


def test_a_deleted_tag_fails_for_good_with_a_clear_error() -> None:
    Tag.objects.create(name="vip")
    playbook = active_playbook(steps=[{"id": "t", "type": "tag_add", "config": {"tag": "vip"}}])
    c = make_customer()
    (run,) = start(playbook, c)
    Tag.objects.filter(name="vip").delete()
    runs_advance(now=T0)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.attempts == 1
    assert "The tag “vip” was deleted" in run.last_error


def test_pause_resume_cancel_a_playbook_and_a_run() -> None:
    playbook = active_playbook(steps=[note("n1"), wait("w", 1), note("n2")])
    a, b = make_customer(), make_customer()
    run_a, run_b = start(playbook, a, b)
    runs_advance(now=T0)
    playbook_set_status(playbook=playbook, status="paused", by=None)
    assert runs_advance(now=T0 + timedelta(days=2)) == 0  # a paused playbook's runs wait
    playbook_set_status(playbook=playbook, status="active", by=None)
    run_pause(run=run_a, by=None)
    run_cancel(run=run_b, by=None)
    assert runs_advance(now=T0 + timedelta(days=2)) == 0
    run_resume(run=run_a, by=None)
    assert runs_advance(now=T0 + timedelta(days=2)) == 2  # n2 and the end: its place was kept
    run_a.refresh_from_db()
    run_b.refresh_from_db()
    assert (run_a.status, run_b.status) == (RunStatus.DONE, RunStatus.CANCELED)
    with pytest.raises(PlaybookError):
        run_pause(run=run_a, by=None)
    playbook_set_status(playbook=playbook, status="archived", by=None)
    with pytest.raises(PlaybookError):
        playbook_start(playbook=playbook, customers=[a], by=None)


def test_holdout_control_runs_do_nothing() -> None:
    playbook = active_playbook(steps=[note("n1")], holdout_percent=50)
    customers = [make_customer() for _ in range(30)]
    started = start(playbook, *customers)
    control = [r for r in started if r.group == "control"]
    assert 0 < len(control) < 30
    assert {r.status for r in control} == {RunStatus.CONTROL}
    runs_advance(now=T0)
    assert not RunStep.objects.filter(run__in=control).exists()


def test_wait_until_monday_0900_london_across_the_2027_dst_change(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/London"
    # Before the change: Monday 22 March 2027 09:00 GMT = 09:00Z.
    friday = datetime(2027, 3, 19, 12, 0, tzinfo=UTC)
    assert next_weekday_hour(friday, 0, 9) == datetime(2027, 3, 22, 9, 0, tzinfo=UTC)
    # Clocks go forward on Sunday 28 March 2027: Monday 29 March 09:00 BST = 08:00Z.
    friday = datetime(2027, 3, 26, 12, 0, tzinfo=UTC)
    assert next_weekday_hour(friday, 0, 9) == datetime(2027, 3, 29, 8, 0, tzinfo=UTC)
    # At 08:30Z on that Monday (09:30 local) the next Monday 09:00 is a week later.
    assert next_weekday_hour(datetime(2027, 3, 29, 8, 30, tzinfo=UTC), 0, 9) == datetime(
        2027, 4, 5, 8, 0, tzinfo=UTC
    )
    playbook = active_playbook(
        steps=[{"id": "w", "type": "wait_until", "config": {"weekday": 0, "hour": 9}}, note("n")]
    )
    (run,) = start(playbook, make_customer(), now=friday)
    runs_advance(now=friday)
    run.refresh_from_db()
    assert run.next_at == datetime(2027, 3, 29, 8, 0, tzinfo=UTC)


def test_email_task_and_webhook_steps_write_once_by_step_key(settings: Any) -> None:
    needs_contracts()
    settings.TEND_EMAIL_DAILY_CAP = 1000
    template = EmailTemplate.objects.create(
        name="Hi", subject_en="Hello {{ customer.name }}", body_en="Coupon {{ coupon }}"
    )
    endpoint = WebhookEndpoint.objects.create(
        name="CRM", url="https://example.com/hook", secret="s" * 32
    )
    playbook = active_playbook(
        steps=[
            {"id": "e", "type": "email", "config": {"template": template.pk, "coupon": "W20"}},
            {"id": "t", "type": "task", "config": {"title": "Call them", "due_days": 2}},
            {"id": "h", "type": "webhook", "config": {"endpoint": endpoint.pk}},
        ]
    )
    c = make_customer(name="Acme", email="")
    make_contact(c, email="ann@acme.test", is_primary=True)
    nobody = make_customer(email="")
    run, run_nobody = start(playbook, c, nobody)
    runs_advance(now=T0)
    email = Message.objects.get(channel="email", customer=c)
    assert email.key == f"playbook:{run.pk}:e" and email.to == "ann@acme.test"
    assert email.source == "playbook" and email.source_id == f"{run.pk}:e"
    assert "W20" in email.text
    task = Task.objects.get(customer=c)
    assert task.key == f"playbook:{run.pk}:t" and task.source_id == f"{run.pk}:t"
    hook = Message.objects.get(channel="webhook", customer=c)
    assert hook.payload["customer"]["name"] == "Acme" and hook.payload["run"]["id"] == run.pk
    # No address: the email is skipped with the reason, the rest still runs.
    assert outcomes(run_nobody)[0] == ("e", "skipped")
    assert playbook_result(RunStep.objects.filter(run=run_nobody).first().detail) == (
        "Email skipped: the customer has no email address"
    )
    # A step run again (a retried transaction) writes nothing twice.
    from tend.playbooks.engine import _step

    PlaybookRun.objects.filter(pk=run.pk).update(position=["e"], status=RunStatus.ACTIVE)
    run.refresh_from_db()
    _step(run, T0)
    _step(run, T0)
    assert Message.objects.filter(customer=c, channel="email").count() == 1
    assert Task.objects.filter(customer=c).count() == 1


def test_an_archived_template_fails_the_step_for_good(settings: Any) -> None:
    needs_contracts()
    settings.TEND_EMAIL_DAILY_CAP = 1000
    template = EmailTemplate.objects.create(name="Hi", subject_en="Hello", body_en="Hi")
    playbook = active_playbook(
        steps=[{"id": "e", "type": "email", "config": {"template": template.pk}}]
    )
    (run,) = start(playbook, make_customer())
    template.archived_at = T0
    template.save()
    runs_advance(now=T0)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert f"The email template #{template.pk} was deleted or archived" in run.last_error
    assert not Message.objects.exists()


def test_a_removed_step_ends_the_run() -> None:
    from tend.playbooks.actions import playbook_update

    playbook = active_playbook(steps=[wait("w", 1), note("n2")])
    (run,) = start(playbook, make_customer())
    runs_advance(now=T0)
    playbook_update(playbook=playbook, by=None, steps=[wait("w", 1)])
    runs_advance(now=T0 + timedelta(days=1))
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert outcomes(run)[-1] == ("n2", "skipped")


def test_a_holiday_greeting_names_the_holiday_in_the_readers_language(settings: Any) -> None:
    needs_contracts()
    from tend.playbooks.engine import playbooks_scan

    settings.TEND_EMAIL_DAILY_CAP = 1000
    template = EmailTemplate.objects.create(
        name="Greeting",
        subject_en="Happy {{ holiday }}!",
        body_en="Best wishes.",
        subject_zh_hans="{{ holiday }}快乐！",
        body_zh_hans="祝好。",
    )
    active_playbook(
        trigger="holiday",
        trigger_config={"country": "CN", "holiday": "Spring Festival"},
        steps=[{"id": "e", "type": "email", "config": {"template": template.pk}}],
    )
    cn = make_customer(country="CN", email="li@example.cn")
    us = make_customer(country="US", email="ann@example.com")
    now = datetime(2027, 2, 6, 10, 0, tzinfo=UTC)
    playbooks_scan(now=now)
    runs_advance(now=now)
    assert Message.objects.get(customer=cn).subject == "春节快乐！"
    assert Message.objects.get(customer=us).subject == "Happy Chinese New Year (Spring Festival)!"
