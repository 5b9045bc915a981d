"""Writes for goals: create, update, archive, and the evaluation that records and emails alerts.

How alerts work (docs/goals.md says the same for users):

- ``goals_evaluate`` reads every active goal's value in its previous and its current period
  (``tend.metrics.kpis.kpi_series``, so the numbers are the dashboard's).
- Each (goal, period) has a status history in ``GoalAlert``. The first reading of a period
  is recorded as ``initial`` and not emailed: it is the starting point, not news (a new
  month's churn always starts at 0 %, its NRR at 100 %). Every later change between met and
  missed is a crossing: one ``met``/``missed`` row and one email to each active owner.
- A period with no value (nobody active at its start) is skipped, so it never flips.
- Changing a goal's definition starts a new revision: its next reading is ``initial`` again,
  so an edit never looks like a crossing.
- The previous period is read too, so a month whose final figures (late cancellations,
  imports) cross the target after it ended still gets its alert, marked ``final``.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tend.accounts.actions import audit_record
from tend.accounts.models import Role, User
from tend.goals.display import format_value, scope_text
from tend.goals.models import (
    AlertKind,
    Goal,
    GoalAlert,
    clean_filters,
    default_comparator,
)
from tend.goals.queries import Reading, goal_statuses
from tend.lib.links import site_url
from tend.metrics.filters import FilterError

logger = logging.getLogger(__name__)

DEFINITION_FIELDS = ("metric", "comparator", "target", "period", "filters")
GOAL_FIELDS = frozenset({*DEFINITION_FIELDS, "name", "note", "active"})
# A crossing whose email could not be sent is retried by later evaluations for this long;
# after that it is old news and stays on the timeline only.
RETRY_WINDOW = timedelta(days=7)


def _normalise(goal: Goal) -> None:
    """Fill defaults and store the filters in their canonical form, then validate."""
    if not goal.comparator and goal.metric:
        goal.comparator = default_comparator(goal.metric)
    with contextlib.suppress(FilterError):  # full_clean below reports it under "filters"
        goal.filters = clean_filters(goal.filters)
    goal.full_clean(exclude=["created_by"])


@transaction.atomic
def goal_create(
    *,
    by: User | None,
    metric: str,
    target: Decimal | int | str,
    comparator: str = "",
    period: str = "month",
    filters: dict[str, Any] | None = None,
    name: str = "",
    note: str = "",
    label: str = "",
) -> Goal:
    """Create a goal; the comparator defaults to ≥ when higher is better, else ≤.

    Raises ``ValidationError`` whose keys name the fields at fault.
    """
    goal = Goal(
        metric=metric,
        comparator=comparator,
        target=target,
        period=period,
        filters=filters or {},
        name=name,
        note=note,
        created_by=by if by is not None and by.pk else None,
    )
    _normalise(goal)
    goal.save()
    audit_record(
        by=by,
        label=label,
        action="goal.create",
        obj=goal,
        changes={name: getattr(goal, name) for name in (*DEFINITION_FIELDS, "name")},
    )
    return goal


@transaction.atomic
def goal_update(*, goal: Goal, by: User | None, label: str = "", **fields: Any) -> Goal:
    """Change the fields given. A new metric, comparator, target, period or filters starts a
    new revision, so the next evaluation records a fresh first reading instead of an alert."""
    unknown = set(fields) - GOAL_FIELDS
    if unknown:
        raise ValueError(f"not a goal field: {', '.join(sorted(unknown))}")
    before = {name: getattr(goal, name) for name in fields}
    for name, value in fields.items():
        setattr(goal, name, value)
    _normalise(goal)
    changes = {
        name: (before[name], getattr(goal, name))
        for name in fields
        if before[name] != getattr(goal, name)
    }
    if not changes:
        return goal
    update = [*changes, "updated_at"]
    if any(name in changes for name in DEFINITION_FIELDS):
        goal.revision += 1
        update.append("revision")
    goal.updated_at = timezone.now()
    goal.save(update_fields=update)
    audit_record(by=by, label=label, action="goal.update", obj=goal, changes=changes)
    return goal


@transaction.atomic
def goal_archive(*, goal: Goal, by: User | None, label: str = "") -> Goal:
    """Stop evaluating and showing a goal; its timeline is kept (goal_update(active=True)
    brings it back)."""
    if not goal.active:
        return goal
    goal.active = False
    goal.updated_at = timezone.now()
    goal.save(update_fields=["active", "updated_at"])
    audit_record(by=by, label=label, action="goal.archive", obj=goal)
    return goal


# --- evaluation ---------------------------------------------------------------------------


@dataclass
class Evaluation:
    goals: int = 0
    readings: int = 0
    alerts: list[GoalAlert] = field(default_factory=list)  # rows recorded by this run
    errors: dict[int, str] = field(default_factory=dict)  # goal id → why it was not read

    @property
    def crossings(self) -> list[GoalAlert]:
        return [alert for alert in self.alerts if alert.kind != AlertKind.INITIAL]


def goals_evaluate(*, today: date | None = None) -> Evaluation:
    """Read every active goal in its previous and current period and record status changes.

    Safe to run again and concurrently with itself: a reading equal to the last recorded
    status writes nothing, and the (goal, revision, period, seq) constraint lets only one
    of two racing runs record a change. Crossings are emailed after the commit. ``today``
    picks the periods (default: today in UTC); rows are stamped with the wall clock.
    """
    now = timezone.now()
    today = today or now.date()
    result = Evaluation()
    goals = list(Goal.objects.active().order_by("pk"))
    result.goals = len(goals)
    statuses = goal_statuses(goals, today=today)
    last = _last_alerts(goals, statuses)
    for status in statuses:
        if status.error:
            result.errors[status.goal.pk] = status.error
            logger.warning("goal %s cannot be read: %s", status.goal.pk, status.error)
            continue
        for reading in (status.previous, status.current):
            if reading is None or reading.value is None:
                continue
            result.readings += 1
            previous = last.get((status.goal.pk, status.goal.revision, reading.period))
            alert = _record(status.goal, reading, previous, at=now)
            if alert is not None:
                result.alerts.append(alert)
    transaction.on_commit(goal_alerts_notify, robust=True)
    return result


def _last_alerts(goals: list[Goal], statuses: list[Any]) -> dict[tuple[int, int, str], GoalAlert]:
    """The latest recorded row of each (goal, revision, period) about to be read."""
    periods = {r.period for s in statuses for r in (s.previous, s.current) if r is not None}
    out: dict[tuple[int, int, str], GoalAlert] = {}
    if not goals or not periods:
        return out
    revision = {goal.pk: goal.revision for goal in goals}
    rows = GoalAlert.objects.filter(goal__in=goals, period__in=periods).order_by("seq")
    for alert in rows:
        if revision.get(alert.goal_id) == alert.revision:
            out[(alert.goal_id, alert.revision, alert.period)] = alert
    return out


def _record(
    goal: Goal, reading: Reading, previous: GoalAlert | None, *, at: datetime
) -> GoalAlert | None:
    assert reading.value is not None and reading.met is not None
    if previous is not None and previous.met == reading.met:
        return None
    if previous is None:
        kind = AlertKind.INITIAL
    else:
        kind = AlertKind.MET if reading.met else AlertKind.MISSED
    try:
        with transaction.atomic():
            return GoalAlert.objects.create(
                goal=goal,
                revision=goal.revision,
                period=reading.period,
                period_start=reading.start,
                seq=previous.seq + 1 if previous is not None else 1,
                kind=kind,
                value=reading.value,
                target=goal.target,
                comparator=goal.comparator,
                met=reading.met,
                final=not reading.to_date,
                at=at,
            )
    except IntegrityError:
        return None  # a concurrent evaluation recorded this change first


# --- email --------------------------------------------------------------------------------


def owners_to_notify() -> list[User]:
    """Active owners with an email address: the people goal alerts go to."""
    return list(
        User.objects.filter(role=Role.OWNER, is_active=True).exclude(email="").order_by("pk")
    )


def goal_alerts_notify(*, now: datetime | None = None) -> int:
    """Put an email about every crossing not yet notified (recent ones only) in the outbox,
    one to each active owner.

    Each alert is claimed by setting ``notified_at`` in the same transaction that writes its
    emails to the outbox (tend.messaging), so two evaluations never notify it twice; the
    outbox sends them and retries while the mail server is down. The outbox key is per alert
    and owner. Returns how many emails were put in the outbox.
    """
    from tend.messaging.outbox import email_enqueue

    now = now or timezone.now()
    pending = list(
        GoalAlert.objects.filter(
            notified_at__isnull=True, at__gte=now - RETRY_WINDOW, goal__active=True
        )
        .exclude(kind=AlertKind.INITIAL)
        .select_related("goal")
        .order_by("at", "pk")
    )
    if not pending:
        return 0
    owners = owners_to_notify()
    if not owners:
        logger.warning("goal alerts: no active owner has an email address; nothing sent")
    queued = 0
    for alert in pending:
        with transaction.atomic():
            claimed = GoalAlert.objects.filter(pk=alert.pk, notified_at__isnull=True).update(
                notified_at=now
            )
            if not claimed:
                continue
            for owner in owners:
                email = alert_message(alert, owner)
                email_enqueue(
                    key=f"goal-alert:{alert.pk}:{owner.pk}",
                    to=owner.email,
                    subject=str(email.subject),
                    text=str(email.body),
                    user=owner,
                    language=owner.language or settings.LANGUAGE_CODE,
                    source="goal_alert",
                    source_id=str(alert.pk),
                    outreach=False,
                )
                queued += 1
    return queued


def alert_message(alert: GoalAlert, owner: User) -> EmailMessage:
    """The email about one crossing, in the owner's language (else the site's)."""
    goal = alert.goal
    language = owner.language or settings.LANGUAGE_CODE
    with translation.override(language):
        query = {**goal.filters, "period": goal.period}
        context = {
            "alert": alert,
            "goal": goal,
            "title": goal.title,
            "metric": goal.formula.label,
            "formula": goal.formula.formula,
            "value": format_value(alert.value, goal.unit),
            "target": f"{alert.get_comparator_display()} {format_value(alert.target, goal.unit)}",
            "period": alert.period,
            "scope": scope_text(goal.filters),
            "metrics_url": f"{site_url()}/metrics/?{urlencode(query, doseq=True)}",
            "goals_url": f"{site_url()}/goals/",
        }
        subject = " ".join(render_to_string("goals/email/alert_subject.txt", context).split())
        body = render_to_string("goals/email/alert_body.txt", context)
    return EmailMessage(subject=subject, body=body, to=[owner.email])
