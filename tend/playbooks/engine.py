"""The playbook engine: enrollment, the change-outbox consumer, the scan of date, recurring and
event triggers, the executor and the dry run.

Enrollment (``enroll``) is bulk: for any number of candidate (customer, occurrence) pairs it
checks the playbook's condition with one query per chunk, applies the re-entry rule and the
per-customer daily cap (the loop guard), assigns the holdout group, and inserts the runs with
``ON CONFLICT DO NOTHING`` on the unique (playbook, customer, occurrence) — the same trigger
seen twice enrolls once.

The executor (``runs_advance``) claims due runs with a lease (``claimed_until`` + a claim
token; ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL), then runs each run's steps one
transaction per step — the action's writes, its ``RunStep`` row, the timeline entry and the
run's new position commit together, so a worker killed mid-step repeats nothing finished, and
what the step creates is keyed by the step so a repeat writes nothing twice.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.changes.consumers import Consumer
from tend.changes.models import ChangeKind, CustomerChange
from tend.customers.models import Customer, TimelineKind
from tend.lib.db import chunks, db_datetime
from tend.playbooks.experiments import assign_group
from tend.playbooks.models import (
    Group,
    Playbook,
    PlaybookRun,
    PlaybookStatus,
    Reentry,
    RunStatus,
    RunStep,
    StepOutcome,
    TriggerCursor,
)
from tend.playbooks.registry import (
    Enrollment,
    StepContext,
    StepFailed,
    actions,
    triggers,
)
from tend.playbooks.steps import (
    BRANCH,
    WAIT,
    WAIT_UNTIL,
    enter_arm,
    first_position,
    next_position,
    step_at,
    step_describe,
)
from tend.playbooks.timing import (
    add_days,
    business_hour,
    local_date,
    local_instant,
    next_weekday_hour,
)
from tend.segments.conditions import (
    ConditionError,
    condition_matches,
    condition_parse,
    customers_matching,
)

log = logging.getLogger(__name__)

CONSUMER = "playbooks"
CHUNK = 2_000
MAX_STEPS_PER_CLAIM = 50  # a run whose steps never wait gives its claim back after this many


def _kick() -> None:
    """Ask a worker to advance runs once the current transaction commits."""

    def enqueue() -> None:
        from tend.playbooks.tasks import runs_advance_task

        try:
            runs_advance_task.enqueue()
        except Exception:
            log.exception("could not enqueue runs_advance_task")

    transaction.on_commit(enqueue)


# --- enrollment ----------------------------------------------------------------------------


@dataclass
class EnrollResult:
    created: int = 0  # runs written (treated + control)
    control: int = 0
    not_matching: int = 0  # the playbook's condition was false
    reentry: int = 0  # left out by the re-entry rule (or already enrolled for the occurrence)
    capped: int = 0  # the loop guard: the daily cap of enrollments was reached


def daily_cap() -> int:
    return int(settings.TEND_PLAYBOOK_DAILY_ENROLLMENTS)


def enroll(
    playbook: Playbook,
    candidates: Iterable[Enrollment],
    *,
    now: datetime | None = None,
    by: Any = None,
) -> EnrollResult:
    """Enroll candidates into ``playbook`` (bulk, idempotent per occurrence)."""
    now = now or timezone.now()
    result = EnrollResult()
    condition = None
    if playbook.condition:
        try:
            condition = condition_parse(playbook.condition)
        except ConditionError as exc:
            log.warning("playbook %s condition no longer parses: %s", playbook.pk, exc.text())
            return result
    seen: set[tuple[int, str]] = set()
    batch: list[Enrollment] = []
    for item in candidates:
        pair = (item.customer_id, item.occurrence[:200])
        if pair in seen:
            continue
        seen.add(pair)
        batch.append(item)
        if len(batch) >= CHUNK:
            _enroll_chunk(playbook, batch, condition, now, by, result)
            batch = []
    if batch:
        _enroll_chunk(playbook, batch, condition, now, by, result)
    if result.created > result.control:
        _kick()
    return result


def _enroll_chunk(
    playbook: Playbook,
    batch: list[Enrollment],
    condition: Any,
    now: datetime,
    by: Any,
    result: EnrollResult,
) -> None:
    ids = sorted({e.customer_id for e in batch})
    if condition is not None:
        matching = set(
            customers_matching(condition, Customer.objects.filter(pk__in=ids), now=now)
            .order_by()
            .values_list("pk", flat=True)
        )
    else:
        matching = set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True))
    runs = PlaybookRun.objects.filter(playbook=playbook, customer_id__in=ids)
    existing = set(
        runs.filter(occurrence__in={e.occurrence[:200] for e in batch}).values_list(
            "customer_id", "occurrence"
        )
    )
    blocked: set[int] = set()
    if playbook.reentry == Reentry.ONCE:
        blocked = set(runs.values_list("customer_id", flat=True))
    elif playbook.reentry == Reentry.AFTER_DAYS:
        since = now - timedelta(days=playbook.reentry_days)
        blocked = set(runs.filter(started_at__gt=since).values_list("customer_id", flat=True))
    today = dict(
        runs.filter(started_at__gt=now - timedelta(days=1))
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    cap = daily_cap()
    steps = playbook.steps or []
    first = json.dumps(first_position(steps))
    rows: list[RunRow] = []
    guards: list[RunRow] = []
    guard_text = _loop_guard_text(cap)
    for item in batch:
        cid, occurrence = item.customer_id, item.occurrence[:200]
        if cid not in matching:
            result.not_matching += 1
            continue
        if (cid, occurrence) in existing or cid in blocked:
            result.reentry += 1
            continue
        count = today.get(cid, 0)
        context = json.dumps(dict(item.context), default=str)
        if count >= cap:
            result.capped += 1
            if count == cap:
                guards.append(
                    (
                        cid,
                        occurrence,
                        Group.TREATED,
                        RunStatus.FAILED,
                        "[]",
                        None,
                        now,
                        guard_text,
                        context,
                    )
                )
                today[cid] = count + 1
            continue
        group = assign_group(playbook.pk, cid, playbook.holdout_percent)
        if group == Group.CONTROL:
            rows.append(
                (cid, occurrence, Group.CONTROL, RunStatus.CONTROL, "[]", None, None, "", context)
            )
            result.control += 1
        else:
            rows.append(
                (cid, occurrence, Group.TREATED, RunStatus.ACTIVE, first, now, None, "", context)
            )
        if playbook.reentry != Reentry.PER_OCCURRENCE:
            blocked.add(cid)
        today[cid] = count + 1
        result.created += 1
    if rows:
        _insert_runs(playbook, rows, by, now)
    if guards:
        _insert_runs(playbook, guards, None, now)
        stored = PlaybookRun.objects.filter(
            playbook=playbook,
            status=RunStatus.FAILED,
            started_at=now,
            customer_id__in=[g[0] for g in guards],
            occurrence__in=[g[1] for g in guards],
        )
        RunStep.objects.bulk_create(
            [
                RunStep(
                    run=run,
                    step_id="",
                    step_type="enroll",
                    outcome=StepOutcome.FAILED,
                    detail={"msg": "loop_guard", "cap": cap},
                    error=run.last_error,
                    at=now,
                )
                for run in stored
            ]
        )
        log.warning(
            "playbook %s: loop guard stopped %s enrollment(s) (cap %s a day)",
            playbook.pk,
            len(guards),
            cap,
        )


# customer, occurrence, group, status, position (JSON), next_at, finished_at, last_error,
# context (JSON): the columns that differ between the runs of one enrollment.
RunRow = tuple[int, str, str, str, str, datetime | None, datetime | None, str, str]
RUN_COLUMNS = (
    "customer_id",
    "occurrence",
    "group",
    "status",
    "position",
    "next_at",
    "finished_at",
    "last_error",
    "context",
)


def _insert_runs(playbook: Playbook, values: list[RunRow], by: Any, started: datetime) -> None:
    """Insert runs with one statement per chunk, ``ON CONFLICT DO NOTHING`` on the unique
    (playbook, customer, occurrence): a concurrent enrollment of the same occurrence (two
    consumers, a scan and a retry) leaves one run and raises nothing."""
    table = connection.ops.quote_name(PlaybookRun._meta.db_table)
    q = connection.ops.quote_name
    columns = ", ".join(
        q(c)
        for c in (
            "playbook_id",
            *RUN_COLUMNS,
            "claim_token",
            "attempts",
            "playbook_version",
            "started_by_id",
            "started_at",
        )
    )
    author = by.pk if by is not None and getattr(by, "pk", None) else None
    conflict = "ON CONFLICT (playbook_id, customer_id, occurrence) DO NOTHING"
    if connection.vendor == "postgresql":
        from tend.lib.db import pg_execute

        pg_execute(
            f"INSERT INTO {table} ({columns}) "
            "SELECT %b, v.c, v.o, v.g, v.s, v.p::jsonb, v.n, v.f, v.e, v.x::jsonb, '', 0, "
            "%b, %b, %b "
            "FROM unnest(%b::bigint[], %b::text[], %b::text[], %b::text[], %b::text[], "
            "%b::timestamptz[], %b::timestamptz[], %b::text[], %b::text[]) "
            f"AS v(c, o, g, s, p, n, f, e, x) {conflict}",
            [
                playbook.pk,
                playbook.version,
                author,
                started,
                *([row[i] for row in values] for i in range(len(RUN_COLUMNS))),
            ],
        )
        return
    marks = ", ".join(["%s"] * (len(RUN_COLUMNS) + 6))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks}) {conflict}",
            [
                (
                    playbook.pk,
                    *row[:5],
                    db_datetime(row[5]),
                    db_datetime(row[6]),
                    *row[7:],
                    "",
                    0,
                    playbook.version,
                    author,
                    db_datetime(started),
                )
                for row in values
            ],
        )


def _loop_guard_text(cap: int) -> str:
    return _(
        "Loop guard: this customer entered this playbook %(cap)s times in the last 24 hours "
        "(TEND_PLAYBOOK_DAILY_ENROLLMENTS); not started again. Look for playbooks that trigger "
        "each other."
    ) % {"cap": cap}


# --- the change-outbox consumer --------------------------------------------------------------


def _active() -> list[Playbook]:
    return list(Playbook.objects.filter(status=PlaybookStatus.ACTIVE).order_by("pk"))


def playbooks_handle(changes: Sequence[CustomerChange]) -> None:
    """The outbox consumer: enroll customers whose change matches an active playbook's
    trigger. Runs in the transaction of the cursor's move (each change acted on once)."""
    by_kind: dict[str, list[CustomerChange]] = defaultdict(list)
    for change in changes:
        by_kind[change.kind].append(change)
    for playbook in _active():
        if playbook.trigger not in triggers:
            continue
        trigger = triggers.get(playbook.trigger)
        if not trigger.kinds or trigger.match is None:
            continue
        found: list[Enrollment] = []
        for kind in trigger.kinds:
            for change in by_kind.get(kind, ()):
                if playbook.enabled_at and change.at < playbook.enabled_at:
                    continue  # happened before the playbook was switched on
                occurrence = trigger.match(playbook.trigger_config, change)
                if occurrence:
                    found.append(Enrollment(change.customer_id, occurrence))
        if found:
            try:
                with transaction.atomic():
                    enroll(playbook, found)
            except Exception:
                # One broken playbook must not hold the outbox back for the others.
                log.exception("playbook %s: enrollment from changes failed", playbook.pk)


consumer = Consumer(CONSUMER, tuple(str(k) for k in ChangeKind.values), playbooks_handle)


def playbooks_react(*, max_batches: int | None = None) -> int:
    """Read the playbooks consumer's unread changes now."""
    from tend.changes.actions import changes_consume

    return changes_consume(
        CONSUMER, playbooks_handle, kinds=consumer.kinds, max_batches=max_batches
    )


# --- the scan of date, recurring and event triggers ------------------------------------------


EVENT_TRIGGERS = {"event"}  # scanned by arrival time with a cursor, not once a day
CATCH_UP_DAYS = 3  # a date trigger missed by a stopped scheduler fires up to this many days late


def playbooks_scan(*, now: datetime | None = None) -> int:
    """Enroll customers for every active playbook whose trigger scans (date-relative,
    recurring, event received); returns runs created. Date triggers fire once per local day,
    at or after ``TEND_PLAYBOOK_HOUR`` in the business's time zone; their cursor
    ("playbook:<id>:day") records the last day done, so a second scan the same day is free."""
    now = now or timezone.now()
    created = 0
    for playbook in _active():
        if playbook.trigger not in triggers:
            continue
        trigger = triggers.get(playbook.trigger)
        if trigger.scan is None:
            continue
        try:
            if trigger.name in EVENT_TRIGGERS:
                created += _scan_events(playbook, trigger, now)
            else:
                created += _scan_days(playbook, trigger, now)
        except Exception:
            log.exception("playbook %s: scan failed", playbook.pk)
    return created


def _scan_days(playbook: Playbook, trigger: Any, now: datetime) -> int:
    today = local_date(now)
    if now < local_instant(today, business_hour()):
        today -= timedelta(days=1)  # today's run comes after the business hour
    name = f"playbook:{playbook.pk}:day"
    with transaction.atomic():
        cursor, _new = TriggerCursor.objects.get_or_create(name=name)
        cursor = TriggerCursor.objects.select_for_update().get(pk=cursor.pk)
        last = _day(cursor.position)
        start = today - timedelta(days=CATCH_UP_DAYS - 1)
        enabled = local_date(playbook.enabled_at) if playbook.enabled_at else start
        if last is not None:
            start = max(start, last + timedelta(days=1))
        start = max(start, enabled)
        created = 0
        day = start
        while day <= today:
            moment = local_instant(day, business_hour())
            created += enroll(
                playbook, trigger.scan(playbook.trigger_config, moment), now=now
            ).created
            day += timedelta(days=1)
        if last is None or today > last:
            cursor.position = today.isoformat()
            cursor.updated_at = now
            cursor.save(update_fields=["position", "updated_at"])
    return created


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _scan_events(playbook: Playbook, trigger: Any, now: datetime) -> int:
    """Event triggers read events by arrival time since the cursor, minus an overlap window
    (events of transactions that committed late); the occurrence is the event id, so events
    read twice enroll once."""
    name = f"playbook:{playbook.pk}:events"
    with transaction.atomic():
        cursor, _new = TriggerCursor.objects.get_or_create(name=name)
        cursor = TriggerCursor.objects.select_for_update().get(pk=cursor.pk)
        try:
            since = datetime.fromisoformat(cursor.position) if cursor.position else None
        except ValueError:
            since = None
        if since is None:
            since = playbook.enabled_at or now
        config = dict(playbook.trigger_config)
        config["_since"] = (since - EVENT_OVERLAP).isoformat()
        created = enroll(playbook, trigger.scan(config, now), now=now).created
        cursor.position = now.isoformat()
        cursor.updated_at = now
        cursor.save(update_fields=["position", "updated_at"])
    return created


EVENT_OVERLAP = timedelta(minutes=15)


# --- the executor --------------------------------------------------------------------------


def lease() -> timedelta:
    return timedelta(seconds=int(settings.TEND_PLAYBOOK_LEASE_SECONDS))


def max_attempts() -> int:
    return int(settings.TEND_PLAYBOOK_STEP_ATTEMPTS)


def backoff(attempt: int) -> timedelta:
    """Wait before retry ``attempt`` (1, 2, …): 1, 2, 4, 8 … minutes, at most a day."""
    base = int(settings.TEND_PLAYBOOK_RETRY_SECONDS)
    return timedelta(seconds=min(base * 2 ** max(attempt - 1, 0), 86_400))


def _claim(now: datetime, limit: int) -> tuple[str, list[int]]:
    token = uuid.uuid4().hex
    with transaction.atomic():
        qs = (
            PlaybookRun.objects.due(now)
            .filter(playbook__status=PlaybookStatus.ACTIVE)
            .order_by("next_at", "pk")
        )
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        ids = list(qs.values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        PlaybookRun.objects.due(now).filter(pk__in=ids).update(
            claimed_until=now + lease(), claim_token=token
        )
    return token, list(
        PlaybookRun.objects.filter(pk__in=ids, claim_token=token)
        .order_by("next_at", "pk")
        .values_list("pk", flat=True)
    )


def runs_advance(*, now: datetime | None = None, limit: int = 200) -> int:
    """Claim up to ``limit`` due runs and run their steps until each waits or ends; returns
    the steps executed. ``now`` fixes the clock (tests); by default each step reads it."""
    fixed = now
    token, ids = _claim(now or timezone.now(), limit)
    done = 0
    for pk in ids:
        done += _advance(pk, token, fixed)
    return done


def _advance(pk: int, token: str, fixed: datetime | None) -> int:
    executed = 0
    while True:
        with transaction.atomic():
            run = (
                PlaybookRun.objects.select_for_update(of=("self",))
                .select_related("playbook", "customer")
                .filter(pk=pk, claim_token=token)
                .first()
            )
            if run is None:
                return executed  # the claim was lost (lease expired and taken over)
            now = fixed or timezone.now()
            stop = (
                run.status != RunStatus.ACTIVE
                or run.playbook.status != PlaybookStatus.ACTIVE
                or (run.next_at is not None and run.next_at > now)
                or executed >= MAX_STEPS_PER_CLAIM
            )
            if not stop:
                stop = _step(run, now)
                executed += 1
            if stop:
                run.claimed_until = None
                run.claim_token = ""
            else:
                run.claimed_until = now + lease()
            run.save()
        if stop:
            return executed


def _timeline(run: PlaybookRun, msg: str, now: datetime, **data: Any) -> None:
    from tend.customers.actions import timeline_add

    timeline_add(
        customer=run.customer,
        kind=TimelineKind.PLAYBOOK,
        at=now,
        data={
            "msg": msg,
            "playbook": run.playbook.name,
            "playbook_id": run.playbook_id,
            "run": run.pk,
            **data,
        },
    )


def _record(
    run: PlaybookRun,
    step: dict[str, Any],
    outcome: str,
    detail: dict[str, Any],
    now: datetime,
    error: str = "",
    timeline: bool = True,
) -> None:
    RunStep.objects.create(
        run=run,
        step_id=step.get("id", ""),
        step_type=step.get("type", ""),
        outcome=outcome,
        detail=detail,
        error=error[:2000],
        at=now,
    )
    if timeline:
        _timeline(
            run,
            "playbook_step",
            now,
            step=step.get("id", ""),
            type=step.get("type", ""),
            outcome=outcome,
            detail=detail,
            error=error[:500],
        )


def _finish(run: PlaybookRun, now: datetime) -> None:
    run.status = RunStatus.DONE
    run.finished_at = now
    run.next_at = None
    _timeline(run, "playbook_done", now)


def _step(run: PlaybookRun, now: datetime) -> bool:
    """Run the step at the run's position; True when the run stops (waits, ends, fails)."""
    steps = run.playbook.steps or []
    if not run.position:
        _finish(run, now)
        return True
    step = step_at(steps, list(run.position))
    if step is None:
        gone = {"id": run.position[-1], "type": ""}
        _record(run, gone, StepOutcome.SKIPPED, {"msg": "step_removed"}, now)
        _finish(run, now)
        return True
    kind = step.get("type", "")
    config = step.get("config") or {}
    if kind in (WAIT, WAIT_UNTIL):
        if kind == WAIT:
            until = add_days(now, int(config.get("days") or 0), int(config.get("hours") or 0))
        else:
            until = next_weekday_hour(now, int(config["weekday"]), int(config["hour"]))
        run.position = next_position(steps, list(run.position))
        run.next_at = until
        _record(
            run,
            step,
            StepOutcome.WAITING,
            {"msg": "waiting", "until": until.isoformat()},
            now,
            timeline=False,
        )
        return until > now
    if kind == BRANCH:
        try:
            matched = condition_matches(config.get("condition"), run.customer, now=now)
        except ConditionError as exc:
            return _fail(run, step, exc.text(), retry=False, now=now)
        arm = "then" if matched else "else"
        run.position = enter_arm(steps, list(run.position), arm)
        _record(run, step, StepOutcome.DONE, {"msg": "branch", "arm": arm}, now, timeline=False)
        return False
    if kind not in actions:
        return _fail(
            run, step, _("Unknown step type “%(type)s”.") % {"type": kind}, retry=False, now=now
        )
    action = actions.get(kind)
    ctx = StepContext(
        run=run,
        customer=run.customer,
        step_id=step["id"],
        config=config,
        key=f"playbook:{run.pk}:{step['id']}",
    )
    try:
        with transaction.atomic():
            result = action.run(ctx)
    except StepFailed as exc:
        return _fail(run, step, str(exc), retry=exc.retry, now=now)
    except Exception as exc:
        log.exception("playbook run %s step %s failed", run.pk, step.get("id"))
        return _fail(run, step, f"{type(exc).__name__}: {exc}", retry=True, now=now)
    detail = {"msg": result.msg, **result.params}
    outcome = StepOutcome.SKIPPED if result.skipped else StepOutcome.DONE
    # A note is its own timeline entry; a task writes one itself.
    _record(run, step, outcome, detail, now, timeline=kind not in ("note", "task"))
    run.attempts = 0
    run.last_error = ""
    run.position = next_position(steps, list(run.position))
    run.next_at = now
    return False


def _fail(
    run: PlaybookRun, step: dict[str, Any], error: str, *, retry: bool, now: datetime
) -> bool:
    run.attempts += 1
    run.last_error = error[:2000]
    if retry and run.attempts < max_attempts():
        at = now + backoff(run.attempts)
        run.next_at = at
        _record(
            run,
            step,
            StepOutcome.RETRYING,
            {"msg": "retrying", "attempt": run.attempts, "at": at.isoformat()},
            now,
            error=error,
            timeline=False,
        )
        return True
    run.status = RunStatus.FAILED
    run.finished_at = now
    run.next_at = None
    _record(
        run, step, StepOutcome.FAILED, {"msg": "failed", "attempts": run.attempts}, now, error=error
    )
    return True


# --- the dry run ---------------------------------------------------------------------------


@dataclass
class DryRunStep:
    step_id: str
    type: str
    text: str  # what the step would do for this customer


@dataclass
class DryRunCustomer:
    customer: Customer
    occurrence: str
    group: str
    steps: list[DryRunStep] = field(default_factory=list)


@dataclass
class DryRun:
    playbook: Playbook
    trigger: str  # the trigger in words
    customers: list[DryRunCustomer]
    candidates: int  # customers the trigger found (up to the scan limit)
    not_matching: int = 0
    already: int = 0  # left out by re-entry (or already enrolled for the occurrence)
    notes: list[str] = field(default_factory=list)


def _preview_path(playbook: Playbook, run: PlaybookRun, now: datetime) -> list[DryRunStep]:
    out: list[DryRunStep] = []
    steps = playbook.steps or []
    position = first_position(steps)
    guard = 0
    while position and guard < 200:
        guard += 1
        step = step_at(steps, position)
        if step is None:
            break
        kind = step.get("type", "")
        config = step.get("config") or {}
        if kind == BRANCH:
            try:
                matched = condition_matches(config.get("condition"), run.customer, now=now)
            except ConditionError as exc:
                out.append(DryRunStep(step["id"], kind, exc.text()))
                break
            arm = "then" if matched else "else"
            text = _("%(condition)s: yes") if matched else _("%(condition)s: no")
            out.append(DryRunStep(step["id"], kind, text % {"condition": step_describe(step)}))
            position = enter_arm(steps, position, arm)
            continue
        if kind in actions and actions.get(kind).preview is not None:
            ctx = StepContext(
                run=run,
                customer=run.customer,
                step_id=step["id"],
                config=config,
                key=f"dry-run:{step['id']}",
                dry_run=True,
            )
            try:
                preview = actions.get(kind).preview
                assert preview is not None
                text = preview(ctx)
            except Exception as exc:
                text = _("Would fail: %(error)s") % {"error": exc}
        else:
            text = step_describe(step)
        out.append(DryRunStep(step["id"], kind, text))
        position = next_position(steps, position)
    return out


def playbook_dry_run(
    *,
    playbook: Playbook,
    limit: int = 50,
    customers: Iterable[Customer] | None = None,
    now: datetime | None = None,
) -> DryRun:
    """Who would enter ``playbook`` now and what each step would do for them; writes nothing.
    ``customers`` (a manual start's) replaces what the trigger would find."""
    from tend.playbooks.actions import trigger_describe

    now = now or timezone.now()
    limit = max(1, min(int(limit), 500))
    notes: list[str] = []
    if customers is not None:
        candidates = [Enrollment(c.pk, f"manual:{local_date(now).isoformat()}") for c in customers]
    elif playbook.trigger in triggers and triggers.get(playbook.trigger).preview is not None:
        preview = triggers.get(playbook.trigger).preview
        assert preview is not None
        candidates = list(preview(playbook.trigger_config, now, limit * 20))
    else:
        candidates = []
        notes.append(_("This trigger finds nobody in advance: it reacts as things happen."))
    result = EnrollResult()
    wanted: list[Enrollment] = []
    condition = None
    if playbook.condition:
        try:
            condition = condition_parse(playbook.condition)
        except ConditionError as exc:
            notes.append(exc.text())
    ids = sorted({e.customer_id for e in candidates})
    matching: set[int] = set()
    for chunk in chunks(ids):
        qs: Any = Customer.objects.filter(pk__in=chunk)
        if condition is not None:
            qs = customers_matching(condition, qs, now=now)
        matching.update(qs.order_by().values_list("pk", flat=True))
    # An unsaved playbook (the editor's form before saving) has no runs yet.
    runs = (
        PlaybookRun.objects.filter(playbook=playbook) if playbook.pk else PlaybookRun.objects.none()
    )
    for item in candidates:
        if item.customer_id not in matching:
            result.not_matching += 1
            continue
        existing = runs.filter(customer_id=item.customer_id)
        if playbook.reentry == Reentry.ONCE:
            blocked = existing.exists()
        elif playbook.reentry == Reentry.AFTER_DAYS:
            blocked = existing.filter(
                started_at__gt=now - timedelta(days=playbook.reentry_days)
            ).exists()
        else:
            blocked = existing.filter(occurrence=item.occurrence[:200]).exists()
        if blocked:
            result.reentry += 1
            continue
        wanted.append(item)
        if len(wanted) >= limit:
            break
    shown: list[DryRunCustomer] = []
    people = Customer.objects.in_bulk([e.customer_id for e in wanted])
    for item in wanted:
        customer = people.get(item.customer_id)
        if customer is None:
            continue
        group = assign_group(playbook.pk or 0, customer.pk, playbook.holdout_percent)
        run = PlaybookRun(
            playbook=playbook,
            customer=customer,
            occurrence=item.occurrence,
            group=group,
            context=dict(item.context),
        )
        entry = DryRunCustomer(customer, item.occurrence, group)
        if group == Group.TREATED:
            entry.steps = _preview_path(playbook, run, now)
        shown.append(entry)
    return DryRun(
        playbook=playbook,
        trigger=trigger_describe(playbook),
        customers=shown,
        candidates=len(candidates),
        not_matching=result.not_matching,
        already=result.reentry,
        notes=notes,
    )


# --- loop guard at save --------------------------------------------------------------------


def _segment_fields(segment_id: str) -> set[str]:
    from tend.segments.models import Segment

    segment = Segment.objects.filter(pk=int(segment_id) if segment_id.isdigit() else 0).first()
    if segment is None:
        return set()
    fields: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("field"), str):
                fields.add(node["field"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(segment.condition)
    return fields


def _effects(playbook: Playbook) -> set[tuple[str, str]]:
    from tend.playbooks.steps import iter_steps

    out: set[tuple[str, str]] = set()
    for step in iter_steps(playbook.steps or []):
        kind = step.get("type", "")
        if kind in actions:
            effects = actions.get(kind).effects
            if effects is not None:
                out.update(effects(step.get("config") or {}))
    return out


def _listens(playbook: Playbook) -> set[tuple[str, str]]:
    if playbook.trigger not in triggers:
        return set()
    listens = triggers.get(playbook.trigger).listens
    return set(listens(playbook.trigger_config)) if listens is not None else set()


def _reaches(effects: set[tuple[str, str]], listens: set[tuple[str, str]]) -> bool:
    for kind, value in listens:
        if (kind, value) in effects:
            return True
        if kind == "segment":
            fields = _segment_fields(value)
            wanted = {"stage": "stage", "tag": "tags"}
            if any(wanted.get(k) in fields for k, _v in effects):
                return True
    return False


def loop_find(playbook: Playbook) -> list[str] | None:
    """A circle of active playbooks (with ``playbook`` as it is about to be saved) where each
    one's actions set off the next one's trigger; the names around it, or None."""
    others = [p for p in _active() if p.pk != playbook.pk]
    nodes = [playbook, *others]
    effects = {id(p): _effects(p) for p in nodes}
    listens = {id(p): _listens(p) for p in nodes}
    edges: dict[int, list[Playbook]] = {
        id(p): [q for q in nodes if q is not p and _reaches(effects[id(p)], listens[id(q)])]
        for p in nodes
    }
    # Depth-first search for a path from the playbook back to itself.
    stack: list[tuple[Playbook, list[Playbook]]] = [(playbook, [playbook])]
    visited: set[int] = set()
    while stack:
        node, path = stack.pop()
        for nxt in edges[id(node)]:
            if nxt is playbook:
                return [p.name for p in path] + [playbook.name]
            if id(nxt) not in visited:
                visited.add(id(nxt))
                stack.append((nxt, [*path, nxt]))
    return None
