"""What goes into a user's digest: read through the same readers as the pages.

- Today's top items: ``tend.today.queries.today_items`` (the Today page's reader, same order);
- goals: ``tend.goals.queries.goal_statuses`` (the goals page's reader);
- what playbooks did since the last digest: runs started (treated; control runs are counted
  apart), finished and failed, and emails sent, per playbook (PlaybookRun, RunStep, Message);
- the user's open tasks due today or overdue (``Task.objects.due_by``).

Nothing here writes; the digest is built the same way for the preview page and for sending.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from tend.accounts.models import DigestFrequency, User
from tend.goals.display import format_value
from tend.goals.models import Goal
from tend.goals.queries import goal_statuses
from tend.lib.links import absolute
from tend.lib.money import format_money
from tend.messaging.models import Channel, Message, MessageStatus
from tend.playbooks.models import Group, Playbook, PlaybookRun, RunStatus, RunStep, StepOutcome
from tend.tasks.models import Task
from tend.today.actions import today_date
from tend.today.queries import reason_text, today_items

TOP_ITEMS = 5
TASKS_SHOWN = 10
SOURCE = "digest"


def link(name: str, *args: Any, fallback: str) -> str:
    """An absolute link to a named page; ``fallback`` (a path) while that page's app is not
    installed (the playbook and task pages are built alongside the digest)."""
    try:
        path = reverse(name, args=args)
    except NoReverseMatch:
        path = fallback
    return absolute(path)


@dataclass
class PlaybookActivity:
    playbook_id: int
    name: str
    url: str
    started: int = 0
    held_out: int = 0
    finished: int = 0
    failed: int = 0
    emails: int = 0


@dataclass
class Digest:
    user: User
    frequency: str
    day: date  # the business's local day it is for
    since: datetime
    now: datetime
    today: list[dict[str, Any]] = field(default_factory=list)
    today_count: int = 0
    goals: list[dict[str, Any]] = field(default_factory=list)
    playbooks: list[PlaybookActivity] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    tasks_count: int = 0
    links: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.today or self.goals or self.playbooks or self.tasks)


def previous_digest_at(user: User, *, before: datetime) -> datetime | None:
    """When the user's last digest was written to the outbox (before ``before``)."""
    return (
        Message.objects.filter(source=SOURCE, user=user, created_at__lt=before)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def period_start(user: User, *, frequency: str, now: datetime) -> datetime:
    """Since the last digest, or one day (daily) / seven days (weekly) when there was none;
    never more than seven days back."""
    span = timedelta(days=7 if frequency == DigestFrequency.WEEKLY else 1)
    last = previous_digest_at(user, before=now)
    floor = now - timedelta(days=7)
    return max(last, floor) if last is not None else now - span


def today_section(user: User) -> tuple[list[dict[str, Any]], int]:
    """The Today page's first items (same reader, same order) and how many in all."""
    qs = today_items(on=today_date(), user=user)
    items = list(qs[:TOP_ITEMS])
    count = len(items) if len(items) < TOP_ITEMS else qs.count()
    rows = []
    for item in items:
        reasons = [reason_text(reason) for reason in item.reasons]
        rows.append(
            {
                "id": item.pk,
                "customer_id": item.customer_id,
                "customer": item.customer.name,
                "url": link("customers:detail", item.customer_id,
                            fallback=f"/customers/{item.customer_id}/"),
                "reason": reasons[0] if reasons else "",
                "more": len(reasons) - 1 if reasons else 0,
                "money": format_money(item.money_at_stake),
            }
        )  # fmt: skip
    return rows, count


STATUS_TEXT = {
    "on_track": lambda: _("on track"),
    "off_track": lambda: _("off track"),
    "met": lambda: _("met"),
    "missed": lambda: _("missed"),
    "no_data": lambda: _("no data yet"),
}


def goals_section() -> list[dict[str, Any]]:
    """Each active goal as the goals page reads it: this period against the last one."""
    goals = list(Goal.objects.active().order_by("created_at", "pk"))
    rows = []
    for status in goal_statuses(goals):
        goal, current, previous = status.goal, status.current, status.previous
        unit = goal.unit
        change = None
        if current and previous and current.value is not None and previous.value is not None:
            change = current.value - previous.value
        rows.append(
            {
                "id": goal.pk,
                "title": str(goal.title),
                "target": f"{goal.get_comparator_display()} {goal.target_text}",
                "value": format_value(current.value if current else None, unit),
                "period": current.period if current else "",
                "previous": format_value(previous.value if previous else None, unit),
                "previous_period": previous.period if previous else "",
                "change": None if not change else (
                    ("+" if change > 0 else "") + format_value(change, unit)
                ),
                "same": change == 0,
                "status": current.status if current else "no_data",
                "status_text": STATUS_TEXT[current.status if current else "no_data"](),
                "error": status.error,
            }
        )  # fmt: skip
    return rows


def playbooks_section(since: datetime, now: datetime) -> list[PlaybookActivity]:
    """Per playbook, what happened in [since, now): only playbooks that did something."""
    started = Counter(
        dict(
            PlaybookRun.objects.filter(
                started_at__gte=since, started_at__lt=now, group=Group.TREATED
            )
            .values("playbook_id")
            .annotate(n=Count("id"))
            .values_list("playbook_id", "n")
        )
    )
    held_out = Counter(
        dict(
            PlaybookRun.objects.filter(
                started_at__gte=since, started_at__lt=now, group=Group.CONTROL
            )
            .values("playbook_id")
            .annotate(n=Count("id"))
            .values_list("playbook_id", "n")
        )
    )
    finished = Counter(
        dict(
            PlaybookRun.objects.filter(
                status=RunStatus.DONE, finished_at__gte=since, finished_at__lt=now
            )
            .values("playbook_id")
            .annotate(n=Count("id"))
            .values_list("playbook_id", "n")
        )
    )
    failed = Counter(
        dict(
            RunStep.objects.filter(outcome=StepOutcome.FAILED, at__gte=since, at__lt=now)
            .values("run__playbook_id")
            .annotate(n=Count("run_id", distinct=True))
            .values_list("run__playbook_id", "n")
        )
    )
    emails: Counter[int] = Counter()
    run_ids: Counter[int] = Counter()
    for source_id in Message.objects.filter(
        source="playbook",
        channel=Channel.EMAIL,
        status=MessageStatus.SENT,
        sent_at__gte=since,
        sent_at__lt=now,
    ).values_list("source_id", flat=True):
        head = source_id.split(":", 1)[0]  # "<run id>:<step id>"
        if head.isdigit():
            run_ids[int(head)] += 1
    if run_ids:
        for run_id, playbook_id in PlaybookRun.objects.filter(pk__in=list(run_ids)).values_list(
            "pk", "playbook_id"
        ):
            emails[playbook_id] += run_ids[run_id]
    ids = set(started) | set(held_out) | set(finished) | set(failed) | set(emails)
    if not ids:
        return []
    names = dict(Playbook.objects.filter(pk__in=ids).values_list("pk", "name"))
    return [
        PlaybookActivity(
            playbook_id=pk,
            name=names.get(pk, f"#{pk}"),
            url=link("playbooks:detail", pk, fallback=f"/playbooks/{pk}/"),
            started=started[pk],
            held_out=held_out[pk],
            finished=finished[pk],
            failed=failed[pk],
            emails=emails[pk],
        )
        for pk in sorted(ids, key=lambda pk: names.get(pk, "").lower())
    ]


def tasks_section(user: User, day: date) -> tuple[list[dict[str, Any]], int]:
    """The user's open tasks due on ``day`` or before (overdue first, as the task list)."""
    qs = Task.objects.due_by(day).filter(assignee=user).select_related("customer")
    tasks = list(qs.order_by("due_on", "-priority", "pk")[:TASKS_SHOWN])
    count = len(tasks) if len(tasks) < TASKS_SHOWN else qs.count()
    rows = [
        {
            "id": task.pk,
            "title": task.title,
            "customer": task.customer.name if task.customer else "",
            "due_on": task.due_on,
            "overdue": task.due_on is not None and task.due_on < day,
            # Tasks have no page of their own: the customer's page lists them, else the list.
            "url": link(
                "customers:detail", task.customer_id, fallback=f"/customers/{task.customer_id}/"
            )
            if task.customer_id
            else link("tasks:list", fallback="/tasks/"),
        }
        for task in tasks
    ]
    return rows, count


def digest_build(*, user: User, day: date, now: datetime, frequency: str | None = None) -> Digest:
    """The digest ``user`` gets for ``day`` (the business's local day) at ``now``."""
    frequency = frequency or user.digest
    if frequency == DigestFrequency.OFF:
        frequency = DigestFrequency.DAILY  # a preview for someone who has it off
    since = period_start(user, frequency=frequency, now=now)
    digest = Digest(user=user, frequency=frequency, day=day, since=since, now=now)
    digest.today, digest.today_count = today_section(user)
    digest.goals = goals_section()
    digest.playbooks = playbooks_section(since, now)
    digest.tasks, digest.tasks_count = tasks_section(user, day)
    digest.links = {
        "today": link("today:list", fallback="/today/"),
        "goals": link("goals:list", fallback="/goals/"),
        "playbooks": link("playbooks:list", fallback="/playbooks/"),
        "tasks": link("tasks:list", fallback="/tasks/"),
        "settings": link("settings:account", fallback="/settings/"),
        "preview": link("digest:preview", fallback="/digest/preview/"),
    }
    return digest
