"""Apply the lifecycle rules: daily to every customer, and within minutes to changed ones.

Rules are evaluated in order and the first rule whose condition holds for a customer decides:
when its stage differs from the customer's, the customer moves there; when it is the same, the
customer stays (and no later rule is asked). A customer no rule matches stays where they are.
Customers with an active ``StageOverride`` (a stage a person chose) are left alone.

Each rule is one compiled query (``condition_q``) over the customers not claimed by an earlier
rule; the moves of each rule are written by ``customers_change_stage_bulk`` with the rule as
the reason, so the statements do not grow with the number of customers moved.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tend.accounts.models import User
from tend.changes.actions import changes_consume
from tend.changes.consumers import Consumer
from tend.changes.models import ChangeKind, CustomerChange
from tend.customers.actions import customers_change_stage_bulk
from tend.customers.models import Customer, Stage
from tend.lib.db import chunks
from tend.lifecycle.models import LifecycleRule, StageOverride
from tend.segments.conditions import ConditionError, condition_parse, condition_q

log = logging.getLogger(__name__)

CONSUMER = "lifecycle"
# The changes after which a customer's rules are evaluated again.
REACTS_TO = (
    ChangeKind.CREATED,
    ChangeKind.FIELDS,
    ChangeKind.STAGE,
    ChangeKind.TAGS,
    ChangeKind.MRR,
    ChangeKind.SUBSCRIPTION,
    ChangeKind.PAYMENT_FAILED,
    ChangeKind.ORDER,
    ChangeKind.ACTIVITY,
    ChangeKind.HEALTH,
    ChangeKind.SEGMENT,
)
REASON_MSG = "lifecycle_rule"


@dataclass
class RuleOutcome:
    rule: LifecycleRule
    matched: int = 0  # customers this rule decided (first match)
    moved: list[Customer] = field(default_factory=list)  # those whose stage it changes
    previous: dict[int, str] = field(default_factory=dict)  # their stage before, by id
    error: str = ""  # why the rule was skipped (its condition no longer parses)


@dataclass
class Evaluation:
    now: datetime
    outcomes: list[RuleOutcome]
    overridden: int = 0

    @property
    def moved(self) -> int:
        return sum(len(o.moved) for o in self.outcomes)

    @property
    def matched(self) -> int:
        return sum(o.matched for o in self.outcomes)


def moment(as_of: date) -> datetime:
    """The instant rules are evaluated at for the day ``as_of``: now for today (or later), the
    end of that day (UTC) for a day in the past."""
    now = timezone.now()
    end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=UTC)
    return min(now, end)


def overridden_ids() -> QuerySet[StageOverride, Any]:
    return StageOverride.objects.active().values("customer_id")


def lifecycle_evaluate(
    *,
    now: datetime | None = None,
    customer_ids: Iterable[int] | None = None,
    rules: Sequence[LifecycleRule] | None = None,
    apply: bool = True,
) -> Evaluation:
    """Evaluate ``rules`` (default: the enabled ones, in order) for every customer (or those
    in ``customer_ids``) and, when ``apply``, move the customers whose first matching rule
    names another stage. Without ``apply`` it is a dry run: nothing is written."""
    now = now or timezone.now()
    rules = list(LifecycleRule.objects.active()) if rules is None else list(rules)
    ids = None if customer_ids is None else sorted(set(customer_ids))
    outcomes = [RuleOutcome(rule) for rule in rules]
    if ids is not None and not ids:
        return Evaluation(now, outcomes)
    claimed: set[int] = set()
    to_move: dict[int, tuple[RuleOutcome, str]] = {}  # customer → (deciding rule, stage seen)
    for outcome in outcomes:
        rule = outcome.rule
        try:
            condition = condition_q(condition_parse(rule.condition), now=now)
        except ConditionError as exc:
            # A stored condition that no longer parses (it names a deleted segment): the rule
            # is skipped, as the rules page says, and the others still run.
            outcome.error = exc.text()
            log.warning("lifecycle rule %s skipped: %s", rule.pk, outcome.error)
            continue
        for chunk in _id_chunks(ids):
            qs = Customer.objects.filter(condition).exclude(pk__in=overridden_ids())
            if chunk is not None:
                qs = qs.filter(pk__in=chunk)
            if rule.from_stages:
                qs = qs.filter(stage__in=rule.from_stages)
            for pk, stage in qs.order_by().values_list("pk", "stage"):
                if pk in claimed:
                    continue
                claimed.add(pk)
                outcome.matched += 1
                if stage != rule.stage:
                    to_move[pk] = (outcome, stage)
    evaluation = Evaluation(now, outcomes)
    if not to_move:
        return evaluation
    if not apply:
        _collect(to_move, Customer.objects.all())
        return evaluation
    with transaction.atomic():
        # Locked and read again: a customer moved (by hand, or by a concurrent run) since the
        # rules were evaluated is left for the next evaluation rather than moved twice.
        locked = Customer.objects.select_for_update().exclude(pk__in=overridden_ids())
        _collect(to_move, locked)
        for outcome in outcomes:
            if outcome.moved:
                _move(outcome, now)
    return evaluation


def _collect(to_move: dict[int, tuple[RuleOutcome, str]], customers: QuerySet[Customer]) -> None:
    """Load the customers to move (one query per chunk of ids) onto their rule's outcome,
    keeping only those still in the stage the rules saw."""
    for chunk in chunks(sorted(to_move)):
        for customer in customers.filter(pk__in=chunk).order_by("pk"):
            outcome, seen = to_move[customer.pk]
            if customer.stage == seen:
                outcome.moved.append(customer)
                outcome.previous[customer.pk] = customer.stage


def _id_chunks(ids: list[int] | None) -> Iterable[list[int] | None]:
    if ids is None:
        yield None
        return
    yield from chunks(ids)


def _move(outcome: RuleOutcome, now: datetime) -> None:
    rule = outcome.rule
    reason: dict[str, Any] = {"msg": REASON_MSG, "rule": rule.name, "rule_id": rule.pk}
    if rule.key:
        reason["key"] = rule.key
    customers_change_stage_bulk(
        moves=[(c, now) for c in outcome.moved],
        stage=rule.stage,
        by=None,
        reason_data=reason,
        label="lifecycle",
    )


# --- overrides ------------------------------------------------------------------------------


def _manual(change: CustomerChange) -> bool:
    data = change.data or {}
    return change.kind == ChangeKind.STAGE and bool(data.get("manual"))


def _own_move(change: CustomerChange) -> bool:
    """A stage change this engine made: reacting to it would only ask the same rules again."""
    data = change.data or {}
    reason = data.get("reason")
    return (
        change.kind == ChangeKind.STAGE
        and not data.get("manual")
        and isinstance(reason, dict)
        and reason.get("msg") == REASON_MSG
    )


def overrides_from_changes(changes: Sequence[CustomerChange]) -> int:
    """Record an override for each manual stage change (a person moved the customer), unless
    the customer's override was set or cleared after that change. Returns overrides set."""
    latest: dict[int, CustomerChange] = {}
    for change in changes:
        if _manual(change):
            seen = latest.get(change.customer_id)
            if seen is None or (change.at, change.id) >= (seen.at, seen.id):
                latest[change.customer_id] = change
    if not latest:
        return 0
    existing = StageOverride.objects.in_bulk(list(latest))
    users = set(
        User.objects.filter(
            pk__in=[c.data.get("by") for c in latest.values() if isinstance(c.data.get("by"), int)]
        ).values_list("pk", flat=True)
    )
    rows: list[StageOverride] = []
    for customer_id, change in latest.items():
        row = existing.get(customer_id)
        if row is not None and (row.at >= change.at or (row.cleared_at or row.at) >= change.at):
            continue
        data = change.data or {}
        stage = str(data.get("to") or "")
        if stage not in Stage.values:
            continue
        by = data.get("by")
        rows.append(
            StageOverride(
                customer_id=customer_id,
                stage=stage,
                by_id=by if by in users else None,
                at=change.at,
                reason="",
                cleared_at=None,
                cleared_by=None,
            )
        )
    # One statement for a whole batch: a person's bulk move of thousands is thousands of rows.
    StageOverride.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=["stage", "by", "at", "reason", "cleared_at", "cleared_by"],
    )
    set_count = len(rows)
    return set_count


def lifecycle_handle(changes: Sequence[CustomerChange]) -> None:
    """The outbox consumer: record overrides for manual moves, then evaluate the rules for
    every customer whose changes may alter which rule matches."""
    overrides_from_changes(changes)
    ids = {c.customer_id for c in changes if not _manual(c) and not _own_move(c)}
    if ids:
        lifecycle_evaluate(customer_ids=ids)


consumer = Consumer(CONSUMER, tuple(str(k) for k in REACTS_TO), lifecycle_handle)


def lifecycle_react(*, evaluate: bool = True, max_batches: int | None = None) -> int:
    """Read the lifecycle consumer's unread changes now (what the scheduler does every few
    minutes); returns the changes handed over. Without ``evaluate`` only the overrides are
    recorded: for a caller about to evaluate every customer anyway."""
    handler = lifecycle_handle if evaluate else overrides_only
    return changes_consume(CONSUMER, handler, kinds=consumer.kinds, max_batches=max_batches)


def overrides_only(changes: Sequence[CustomerChange]) -> None:
    overrides_from_changes(changes)


def lifecycle_pipeline_step(as_of: date) -> dict[str, int]:
    """The daily pipeline's lifecycle step: first the unread changes (so a stage set by hand a
    minute ago is an override before the rules run; the changed customers are not evaluated on
    their own, as everyone is next), then every rule for every customer."""
    reacted = lifecycle_react(evaluate=False)
    evaluation = lifecycle_evaluate(now=moment(as_of))
    return {
        "changes_read": reacted,
        "rules": len(evaluation.outcomes),
        "matched": evaluation.matched,
        "moved": evaluation.moved,
        "overrides": StageOverride.objects.active().count(),
    }
