"""The digest says what the pages say: the Today page's first items in its order, the goals
page's readings, the playbooks' counts since the last digest, the user's tasks due."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tend.digest.actions import digest_render, digest_send
from tend.digest.content import TOP_ITEMS, digest_build
from tend.digest.tests.helpers import person
from tend.factories import make_customer
from tend.goals.actions import goal_create
from tend.goals.display import format_value
from tend.goals.models import Goal
from tend.goals.queries import goal_statuses
from tend.messaging.models import Message
from tend.playbooks.models import Group, Playbook, PlaybookRun, RunStatus, RunStep, StepOutcome
from tend.tasks.models import Task
from tend.today.actions import today_date
from tend.today.engine import today_pipeline_step
from tend.today.queries import reason_text, today_items
from tend.today.tests.helpers import customer, findings

pytestmark = pytest.mark.django_db


def test_today_section_is_the_today_pages_first_items_in_order() -> None:
    user = person("dana")
    day = today_date()
    found = {}
    for i in range(8):
        c = customer(f"Customer {i}", mrr=str(100 * (i + 1)))
        found[c.pk] = (f"k{i}", 0.5)
    with findings({"alpha": found}):
        today_pipeline_step(day)
        expected = list(today_items(on=day, user=user)[:TOP_ITEMS])
        digest = digest_build(user=user, day=day, now=timezone.now())
        assert [row["customer_id"] for row in digest.today] == [i.customer_id for i in expected]
        assert [row["reason"] for row in digest.today] == [
            reason_text(i.reasons[0]) for i in expected
        ]
        assert digest.today_count == 8
        assert digest.today[0]["customer"] == "Customer 7"  # most money at stake first
        assert digest.today[0]["url"].startswith("http") and digest.today[0]["url"].endswith(
            f"/customers/{expected[0].customer_id}/"
        )


def test_goals_section_reads_goal_statuses() -> None:
    user = person("gina")
    goal_create(by=None, metric="mrr", target=Decimal("5000"))
    goal_create(by=None, metric="logo_churn", target=Decimal("3"))
    statuses = goal_statuses(list(Goal.objects.active().order_by("created_at", "pk")))
    digest = digest_build(user=user, day=date.today(), now=timezone.now())
    assert [g["title"] for g in digest.goals] == [str(s.goal.title) for s in statuses]
    for row, status in zip(digest.goals, statuses, strict=True):
        value = status.current.value if status.current else None
        assert row["value"] == format_value(value, status.goal.unit)
        assert row["status"] == (status.current.status if status.current else "no_data")


def test_playbook_counts_since_the_last_digest() -> None:
    user = person("pat")
    now = datetime(2026, 12, 7, 23, 5, tzinfo=UTC)
    pb = Playbook.objects.create(name="Renewal reminders", trigger="renewal", holdout_percent=20)
    other = Playbook.objects.create(name="Idle", trigger="manual")
    inside = now - timedelta(hours=3)
    before = now - timedelta(days=2)

    def run(group: str = Group.TREATED, at: datetime = inside, **fields: object) -> PlaybookRun:
        return PlaybookRun.objects.create(
            playbook=pb,
            customer=make_customer(),
            occurrence="o",
            group=group,
            started_at=at,
            **fields,
        )

    for _ in range(3):
        run()  # started
    run(group=Group.CONTROL, status=RunStatus.CONTROL)  # held out
    run(at=before)  # before the period: not counted as started
    done = [run(at=before, status=RunStatus.DONE, finished_at=inside) for _ in range(2)]
    failed = run(at=before, status=RunStatus.FAILED, finished_at=inside)
    RunStep.objects.create(
        run=failed, step_id="s1", step_type="email", outcome=StepOutcome.FAILED, at=inside
    )
    RunStep.objects.create(
        run=failed, step_id="s1", step_type="email", outcome=StepOutcome.FAILED, at=inside
    )
    for r in done:
        Message.objects.create(
            key=f"playbook:{r.pk}:s1",
            channel="email",
            status="sent",
            source="playbook",
            source_id=f"{r.pk}:s1",
            to="x@example.com",
            sent_at=inside,
        )
    Message.objects.create(
        key=f"playbook:{done[0].pk}:s2",
        channel="email",
        status="queued",
        source="playbook",
        source_id=f"{done[0].pk}:s2",
        to="x@example.com",
    )
    PlaybookRun.objects.create(
        playbook=other, customer=make_customer(), occurrence="o", started_at=before
    )

    digest = digest_build(user=user, day=date(2026, 12, 8), now=now)  # daily: the last 24 hours
    assert digest.since == now - timedelta(days=1)
    assert len(digest.playbooks) == 1
    activity = digest.playbooks[0]
    assert (activity.name, activity.started, activity.held_out) == ("Renewal reminders", 3, 1)
    assert (activity.finished, activity.failed, activity.emails) == (2, 1, 2)
    assert activity.url.endswith(f"/playbooks/{pb.pk}/")


def test_the_period_starts_at_the_previous_digest() -> None:
    user = person("wes", digest="weekly")
    first = datetime(2026, 11, 30, 23, 5, tzinfo=UTC)
    assert digest_build(user=user, day=date(2026, 12, 1), now=first).since == first - timedelta(
        days=7
    )
    Message.objects.create(
        key="digest:x", channel="email", source="digest", user=user, to=user.email, created_at=first
    )
    later = first + timedelta(days=7)
    assert digest_build(user=user, day=date(2026, 12, 8), now=later).since == first


def test_tasks_section_lists_the_users_open_tasks_due() -> None:
    user = person("tia")
    other = person("otto")
    day = date(2026, 12, 7)
    c = make_customer("Acme")
    Task.objects.create(
        title="Call Acme", assignee=user, customer=c, due_on=day - timedelta(days=2)
    )
    Task.objects.create(title="Send quote", assignee=user, due_on=day)
    Task.objects.create(title="Later", assignee=user, due_on=day + timedelta(days=1))
    Task.objects.create(title="Done", assignee=user, due_on=day, status="done")
    Task.objects.create(title="Not mine", assignee=other, due_on=day)
    digest = digest_build(user=user, day=day, now=timezone.now())
    assert [(t["title"], t["overdue"]) for t in digest.tasks] == [
        ("Call Acme", True),
        ("Send quote", False),
    ]
    assert digest.tasks[0]["url"].endswith(f"/customers/{c.pk}/")


def test_rendered_in_the_users_language_with_absolute_links(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TEND_BASE_URL = "https://tend.example.com"
    user = person("zhu", language="zh-hans")
    message = digest_send(
        user=user, day=date(2026, 12, 7), now=datetime(2026, 12, 7, 1, tzinfo=UTC)
    )
    assert message.language == "zh-hans"
    assert '<html lang="zh-hans">' in message.html
    assert "https://tend.example.com/goals/" in message.text
    assert 'href="https://tend.example.com/goals/"' in message.html
    assert "style=" not in message.html.split("</head>")[1]  # classes only in the body
    english = digest_render(
        digest_build(user=person("eve"), day=date(2026, 12, 7), now=timezone.now())
    )
    assert english.language == "en" and english.subject.startswith("Tend daily digest")


def test_building_a_digest_takes_the_same_queries_for_more_rows() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = person("quinn")
    day = today_date()
    now = timezone.now()
    pbs = [Playbook.objects.create(name=f"P{i}", trigger="manual") for i in range(6)]

    def grow(n: int) -> int:
        for i in range(n):
            c = make_customer()
            Task.objects.create(title=f"T{i}", assignee=user, customer=c, due_on=day)
            run = PlaybookRun.objects.create(
                playbook=pbs[i % 6],
                customer=c,
                occurrence=f"o{i}",
                started_at=now - timedelta(hours=1),
            )
            Message.objects.create(
                key=f"playbook:{run.pk}:s1", channel="email", status="sent", source="playbook",
                source_id=f"{run.pk}:s1", to="x@example.com", sent_at=now - timedelta(minutes=5),
            )  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            digest_build(user=user, day=day, now=now)
        return len(queries)

    assert grow(12) == grow(10)  # 12, then 22 rows of each kind
