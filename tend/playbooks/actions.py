"""Writes for playbooks and their runs (contract 4 of issue 17).

Every function is keyword-only and transactional; a playbook is validated whole before
anything is saved — ``PlaybookError.errors`` lists (field path, message) pairs such as
``("name", …)``, ``("trigger_config.stage", …)``, ``("condition", …)``,
``("steps[2].config.template", …)`` — so nothing is ever half-saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.customers.models import Customer
from tend.playbooks.engine import (
    DryRun,
    DryRunCustomer,
    DryRunStep,
    EnrollResult,
    _kick,
    _timeline,
    enroll,
    loop_find,
    playbook_dry_run,
    playbooks_react,
    playbooks_scan,
    runs_advance,
)
from tend.playbooks.models import (
    Playbook,
    PlaybookRun,
    PlaybookStatus,
    Reentry,
    RunStatus,
    RunStep,
)
from tend.playbooks.registry import ConfigError, Enrollment, triggers
from tend.playbooks.steps import StepsInvalid, step_describe, steps_clean
from tend.playbooks.timing import local_date
from tend.segments.conditions import ConditionError, condition_parse

__all__ = [
    "DryRun",
    "DryRunCustomer",
    "DryRunStep",
    "EnrollResult",
    "PlaybookError",
    "playbook_create",
    "playbook_dry_run",
    "playbook_gallery",
    "playbook_install",
    "playbook_set_status",
    "playbook_start",
    "playbook_update",
    "playbooks_react",
    "playbooks_scan",
    "run_cancel",
    "run_pause",
    "run_resume",
    "run_retry",
    "runs_advance",
    "runstep_describe",
    "step_describe",
    "trigger_describe",
]

FIELDS = (
    "name",
    "description",
    "trigger",
    "trigger_config",
    "condition",
    "steps",
    "reentry",
    "reentry_days",
    "holdout_percent",
    "outcome",
    "key",
)
OUTCOME_KINDS = ("retention", "mrr", "event")


class PlaybookError(ValueError):
    """What is wrong with a playbook or a request: (field path, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


def _bad_text(text: str) -> bool:
    return "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def _int_field(value: Any, low: int, high: int) -> int | None:
    if (
        isinstance(value, str)
        and value.strip().isascii()
        and value.strip().isdigit()
        and len(value.strip()) < 10
    ):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def playbook_clean(fields: dict[str, Any], *, instance: Playbook | None = None) -> dict[str, Any]:
    """Every field checked; the clean values, or ``PlaybookError`` with all the errors."""
    errors: list[tuple[str, str]] = []
    out: dict[str, Any] = {}
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(("name", _("Give the playbook a name.")))
    elif len(name.strip()) > 120 or _bad_text(name):
        errors.append(("name", _("A name is at most 120 characters of text.")))
    else:
        out["name"] = name.strip()
        clash = Playbook.objects.filter(name=out["name"])
        if instance is not None and instance.pk:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            errors.append(("name", _("Another playbook has this name.")))
    description = fields.get("description") or ""
    if not isinstance(description, str) or len(description) > 2000 or _bad_text(description):
        errors.append(("description", _("A description is at most 2,000 characters of text.")))
    else:
        out["description"] = description.strip()
    key = fields.get("key") or ""
    if not isinstance(key, str) or len(key) > 60 or not all(c.isalnum() or c in "-_" for c in key):
        errors.append(("key", _("A key is at most 60 letters, digits, “-” or “_”.")))
    else:
        out["key"] = key
    trigger = fields.get("trigger")
    config = fields.get("trigger_config") or {}
    if not isinstance(trigger, str) or trigger not in triggers:
        errors.append(
            (
                "trigger",
                _("Choose a trigger: %(names)s.") % {"names": ", ".join(triggers.names())},
            )
        )
    elif not isinstance(config, dict):
        errors.append(("trigger_config", _("The trigger's settings must be an object.")))
    else:
        out["trigger"] = trigger
        try:
            out["trigger_config"] = triggers.get(trigger).clean(dict(config))
        except ConfigError as exc:
            where = f"trigger_config.{exc.field}" if exc.field else "trigger_config"
            errors.append((where, exc.message))
    condition = fields.get("condition")
    if condition in (None, {}, ""):
        out["condition"] = None
    else:
        try:
            out["condition"] = condition_parse(condition).as_json()
        except ConditionError as exc:
            where = f"condition.{exc.path}" if exc.path else "condition"
            errors.append((where, exc.text()))
    try:
        out["steps"] = steps_clean(fields.get("steps") or [])
    except StepsInvalid as exc:
        errors.extend(exc.errors)
    reentry = fields.get("reentry", Reentry.PER_OCCURRENCE)
    if reentry not in Reentry.values:
        errors.append(("reentry", _("Choose: %(values)s.") % {"values": ", ".join(Reentry.values)}))
    else:
        out["reentry"] = reentry
    days = _int_field(fields.get("reentry_days", 0) or 0, 0, 3650)
    if days is None:
        errors.append(("reentry_days", _("Give a number of days from 0 to 3,650.")))
    elif reentry == Reentry.AFTER_DAYS and days < 1:
        errors.append(
            ("reentry_days", _("Give the number of days before a customer can enter again."))
        )
    else:
        out["reentry_days"] = days
    holdout = _int_field(fields.get("holdout_percent", 0) or 0, 0, 90)
    if holdout is None:
        errors.append(("holdout_percent", _("Give a control group from 0 to 90 %.")))
    else:
        out["holdout_percent"] = holdout
    outcome = fields.get("outcome") or {}
    if not isinstance(outcome, dict):
        errors.append(("outcome", _("The outcome must be an object.")))
    elif outcome:
        kind = outcome.get("kind")
        outcome_days = _int_field(outcome.get("days", 30), 1, 365)
        event = outcome.get("event", "")
        if kind not in OUTCOME_KINDS:
            errors.append(("outcome.kind", _("Choose retention, mrr or event.")))
        elif outcome_days is None:
            errors.append(("outcome.days", _("Give a number of days from 1 to 365.")))
        elif kind == "event" and (
            not isinstance(event, str) or not event.strip() or len(event) > 200
        ):
            errors.append(("outcome.event", _("Give the event's name.")))
        else:
            out["outcome"] = {"kind": kind, "days": outcome_days}
            if kind == "event":
                out["outcome"]["event"] = event.strip()
    else:
        out["outcome"] = {}
    if errors:
        raise PlaybookError(errors)
    return out


def _loop_check(playbook: Playbook) -> None:
    circle = loop_find(playbook)
    if circle:
        raise PlaybookError(
            [
                (
                    "steps",
                    _(
                        "These playbooks would trigger each other in a loop: %(circle)s. "
                        "Change a trigger or an action so the circle is broken."
                    )
                    % {"circle": " → ".join(f"“{n}”" for n in circle)},
                )
            ]
        )


@transaction.atomic
def playbook_create(
    *,
    by: Any,
    name: str,
    trigger: str,
    trigger_config: dict[str, Any] | None = None,
    condition: dict[str, Any] | None = None,
    steps: list[dict[str, Any]] | None = None,
    reentry: str = Reentry.PER_OCCURRENCE,
    reentry_days: int = 0,
    holdout_percent: int = 0,
    outcome: dict[str, Any] | None = None,
    description: str = "",
    key: str = "",
    label: str = "",
) -> Playbook:
    """A new playbook, as a draft (switch it on with ``playbook_set_status``)."""
    clean = playbook_clean(
        {
            "name": name,
            "trigger": trigger,
            "trigger_config": trigger_config or {},
            "condition": condition,
            "steps": steps or [],
            "reentry": reentry,
            "reentry_days": reentry_days,
            "holdout_percent": holdout_percent,
            "outcome": outcome or {},
            "description": description,
            "key": key,
        }
    )
    now = timezone.now()
    playbook = Playbook.objects.create(
        **clean,
        status=PlaybookStatus.DRAFT,
        created_by=by if by is not None and getattr(by, "pk", None) else None,
        created_at=now,
        updated_at=now,
    )
    audit_record(
        by=by, label=label, action="playbook.create", obj=playbook, changes={"name": playbook.name}
    )
    return playbook


@transaction.atomic
def playbook_update(*, playbook: Playbook, by: Any, label: str = "", **fields: Any) -> Playbook:
    """Change some fields; the whole playbook is validated again (and, when it is on, checked
    for loops with the other active playbooks). Runs in flight keep their place: a step that
    was removed ends them."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise PlaybookError([(name, _("This field cannot be changed.")) for name in unknown])
    current = {name: getattr(playbook, name) for name in FIELDS}
    current.update(fields)
    clean = playbook_clean(current, instance=playbook)
    changed = {k: v for k, v in clean.items() if getattr(playbook, k) != v}
    if not changed:
        return playbook
    for name, value in changed.items():
        setattr(playbook, name, value)
    if playbook.status == PlaybookStatus.ACTIVE:
        try:
            _loop_check(playbook)
        except PlaybookError:
            playbook.refresh_from_db()  # the caller's instance shows what is stored
            raise
    playbook.version += 1
    playbook.updated_at = timezone.now()
    playbook.save()
    audit_record(
        by=by,
        label=label,
        action="playbook.update",
        obj=playbook,
        changes={k: "changed" for k in sorted(changed)},
    )
    return playbook


STATUSES = {
    # status asked for → the statuses it can come from
    PlaybookStatus.ACTIVE: {PlaybookStatus.DRAFT, PlaybookStatus.PAUSED, PlaybookStatus.ARCHIVED},
    PlaybookStatus.PAUSED: {PlaybookStatus.ACTIVE},
    PlaybookStatus.ARCHIVED: {PlaybookStatus.DRAFT, PlaybookStatus.ACTIVE, PlaybookStatus.PAUSED},
    PlaybookStatus.DRAFT: {PlaybookStatus.ARCHIVED},
}


@transaction.atomic
def playbook_set_status(*, playbook: Playbook, status: str, by: Any, label: str = "") -> Playbook:
    """Switch a playbook on ("active": enable or resume), pause it (its runs keep their place
    and do not advance; no one new enters), archive it (its unfinished runs are canceled) or
    bring an archived one back as a draft."""
    if status not in STATUSES:
        raise PlaybookError(
            [("status", _("Choose: %(values)s.") % {"values": ", ".join(PlaybookStatus.values)})]
        )
    given = playbook
    playbook = Playbook.objects.select_for_update().get(pk=given.pk)
    old = playbook.status
    if old == status:
        return playbook
    if old not in STATUSES[PlaybookStatus(status)]:
        raise PlaybookError(
            [
                (
                    "status",
                    _("A playbook that is %(old)s cannot become %(new)s.")
                    % {
                        "old": PlaybookStatus(old).label,
                        "new": PlaybookStatus(status).label,
                    },
                )
            ]
        )
    now = timezone.now()
    if status == PlaybookStatus.ACTIVE:
        # Validated again: a template, tag or segment it names may have gone since it was saved.
        playbook_clean({name: getattr(playbook, name) for name in FIELDS}, instance=playbook)
        _loop_check(playbook)
        if old != PlaybookStatus.PAUSED:
            playbook.enabled_at = now
        _kick()
    if status == PlaybookStatus.ARCHIVED:
        playbook.runs.filter(status__in=[RunStatus.ACTIVE, RunStatus.PAUSED]).update(
            status=RunStatus.CANCELED, finished_at=now, next_at=None, claimed_until=None
        )
    playbook.status = status
    playbook.updated_at = now
    playbook.save(update_fields=["status", "updated_at", "enabled_at"])
    given.status, given.updated_at, given.enabled_at = status, now, playbook.enabled_at
    audit_record(
        by=by,
        label=label,
        action="playbook.status",
        obj=playbook,
        changes={"status": (old, status)},
    )
    return playbook


def _customer_ids(customers: QuerySet[Customer] | Iterable[Any]) -> list[int]:
    if isinstance(customers, QuerySet):
        return list(customers.order_by("pk").values_list("pk", flat=True))
    ids = []
    for item in customers:
        ids.append(int(item.pk if isinstance(item, Customer) else item))
    return ids


@transaction.atomic
def playbook_start(
    *,
    playbook: Playbook,
    customers: QuerySet[Customer] | Iterable[Any],
    by: Any,
    now: datetime | None = None,
    label: str = "",
) -> int:
    """Start an active playbook by hand for these customers (a queryset — a segment's
    members — or a list of customers or ids); returns the runs started. The playbook's
    condition and re-entry rule apply; one manual start per customer per day counts (the
    occurrence is "manual:<date>"), so a second click starts nobody twice."""
    if playbook.status != PlaybookStatus.ACTIVE:
        raise PlaybookError([("status", _("Switch the playbook on before starting it."))])
    now = now or timezone.now()
    occurrence = f"manual:{local_date(now).isoformat()}"
    ids = _customer_ids(customers)
    result = enroll(playbook, (Enrollment(pk, occurrence) for pk in ids), now=now, by=by)
    audit_record(
        by=by,
        label=label,
        action="playbook.start",
        obj=playbook,
        changes={"customers": len(ids), "started": result.created},
    )
    return result.created


def _run_locked(run: PlaybookRun) -> PlaybookRun:
    return (
        PlaybookRun.objects.select_for_update(of=("self",))
        .select_related("playbook", "customer")
        .get(pk=run.pk)
    )


def _run_error(message: str) -> PlaybookError:
    return PlaybookError([("status", message)])


@transaction.atomic
def run_cancel(*, run: PlaybookRun, by: Any, label: str = "") -> PlaybookRun:
    """Stop a running or paused run for good."""
    run = _run_locked(run)
    if run.status not in (RunStatus.ACTIVE, RunStatus.PAUSED, RunStatus.FAILED):
        raise _run_error(_("Only a running, paused or failed run can be canceled."))
    now = timezone.now()
    old = run.status
    run.status = RunStatus.CANCELED
    run.finished_at = now
    run.next_at = None
    run.claimed_until = None
    run.claim_token = ""
    run.save()
    _timeline(run, "playbook_canceled", now)
    audit_record(
        by=by,
        label=label,
        action="playbook.run.cancel",
        obj=run,
        changes={"status": (old, run.status)},
    )
    return run


@transaction.atomic
def run_pause(*, run: PlaybookRun, by: Any, label: str = "") -> PlaybookRun:
    """Hold a run where it is (resume continues from the same step)."""
    run = _run_locked(run)
    if run.status != RunStatus.ACTIVE:
        raise _run_error(_("Only a running run can be paused."))
    run.status = RunStatus.PAUSED
    run.claimed_until = None
    run.claim_token = ""
    run.save()
    audit_record(
        by=by,
        label=label,
        action="playbook.run.pause",
        obj=run,
        changes={"status": ("active", "paused")},
    )
    return run


@transaction.atomic
def run_resume(*, run: PlaybookRun, by: Any, label: str = "") -> PlaybookRun:
    """Continue a paused run from its step (a wait that has passed is due at once)."""
    run = _run_locked(run)
    if run.status != RunStatus.PAUSED:
        raise _run_error(_("Only a paused run can be resumed."))
    run.status = RunStatus.ACTIVE
    if run.next_at is None:
        run.next_at = timezone.now()
    run.save()
    _kick()
    audit_record(
        by=by,
        label=label,
        action="playbook.run.resume",
        obj=run,
        changes={"status": ("paused", "active")},
    )
    return run


@transaction.atomic
def run_retry(*, run: PlaybookRun, by: Any, label: str = "") -> PlaybookRun:
    """Try a failed run's failed step again now (with fresh attempts)."""
    run = _run_locked(run)
    if run.status != RunStatus.FAILED or not run.position:
        raise _run_error(_("Only a failed run with a step left can be retried."))
    run.status = RunStatus.ACTIVE
    run.attempts = 0
    run.last_error = ""
    run.finished_at = None
    run.next_at = timezone.now()
    run.save()
    _kick()
    audit_record(
        by=by,
        label=label,
        action="playbook.run.retry",
        obj=run,
        changes={"status": ("failed", "active")},
    )
    return run


def trigger_describe(playbook: Playbook) -> str:
    """The playbook's trigger in one line, in the reader's language."""
    if playbook.trigger not in triggers:
        return _("Unknown trigger “%(name)s”") % {"name": playbook.trigger}
    trigger = triggers.get(playbook.trigger)
    try:
        return trigger.describe(playbook.trigger_config or {})
    except Exception:
        return str(trigger.label)


def runstep_describe(entry: RunStep) -> str:
    """What one recorded step did, in the reader's language (its error after a colon)."""
    from tend.customers.timeline import playbook_result

    text = playbook_result(entry.detail or {})
    if entry.error and entry.outcome in ("failed", "retrying"):
        return f"{text}: {entry.error}" if text else entry.error
    return text


def playbook_gallery() -> list[Any]:
    from tend.playbooks.gallery import playbook_gallery as gallery

    return gallery()


def playbook_install(*, key: str, by: Any, label: str = "") -> Playbook:
    from tend.playbooks.gallery import playbook_install as install

    return install(key=key, by=by, label=label)
