"""Experiments: a playbook's random control group, and whether the playbook works.

Assignment is a pure function of (playbook, customer): a customer always lands in the same
group of the same playbook, across re-entries, workers and restarts, with no state to keep.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from django.db.models import DateTimeField, Exists, ExpressionWrapper, OuterRef, Subquery
from django.utils import timezone

from tend.activity.models import Event
from tend.billing.models import MrrMovement
from tend.playbooks.experiment_text import (
    formula_text,
    outcome_label,
    points,
    sentence_text,
    statistics_text,
)
from tend.playbooks.models import Group, Playbook, PlaybookRun

if TYPE_CHECKING:
    from tend.playbooks.experiment_stats import Comparison

GroupName = Literal["treated", "control"]


def assign_bucket(playbook_id: int, customer_id: int) -> float:
    """A number in [0, 100) from sha256 of ``"{playbook_id}:{customer_id}"`` (uniform enough)."""
    digest = hashlib.sha256(f"{playbook_id}:{customer_id}".encode()).digest()
    # The first 8 bytes as an unsigned integer, scaled to [0, 100).
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def assign_group(playbook_id: int, customer_id: int, percent: int | float) -> GroupName:
    """``"control"`` when the customer's bucket is below ``percent`` (the hold-out share), else
    ``"treated"``. Stable: the same arguments always give the same group."""
    if percent <= 0:
        return "treated"
    return "control" if assign_bucket(playbook_id, customer_id) < percent else "treated"


# --- results ------------------------------------------------------------------------------

# Fewer judged customers than this in either group: no verdict, whatever the numbers say.
MIN_PER_GROUP = 20
DEFAULT_OUTCOME: dict[str, Any] = {"kind": "retention", "days": 30}
MAX_DAYS = 365  # as the engine validates outcome.days
KINDS = ("retention", "mrr", "event")


@dataclass(frozen=True)
class Outcome:
    kind: str  # "retention", "mrr" or "event"
    days: int
    event: str = ""
    default: bool = False  # the playbook chose none; retention over 30 days is used


def outcome_of(playbook: Playbook) -> Outcome:
    """The playbook's outcome, or retention over 30 days when it has none (or a broken one)."""
    raw = playbook.outcome if isinstance(playbook.outcome, dict) else {}
    kind = raw.get("kind")
    days = raw.get("days")
    event = raw.get("event") if isinstance(raw.get("event"), str) else ""
    valid_days = isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= MAX_DAYS
    if kind not in KINDS or not valid_days or (kind == "event" and not event):
        return Outcome(**DEFAULT_OUTCOME, default=True)
    return Outcome(kind=str(kind), days=int(days), event=str(event))  # type: ignore[arg-type]


@dataclass(frozen=True)
class GroupResult:
    """One group's customers (first enrollment each) up to ``as_of``."""

    group: str  # "treated" or "control"
    enrolled: int = 0
    waiting: int = 0  # entered less than N days before as_of: too recent to judge
    not_paying: int = 0  # retention and MRR kept only: no MRR when they entered
    judged: int = 0  # n: the customers the outcome is computed over
    successes: int = 0  # retention and event: retained / did the event
    rate: float | None = None  # share (0–1) or mean MRR kept (1.0 = 100 %)

    @property
    def label(self) -> str:
        return str(Group(self.group).label)


@dataclass(frozen=True)
class ExperimentResults:
    playbook_id: int
    playbook_name: str
    as_of: datetime
    holdout_percent: int
    outcome: Outcome
    treated: GroupResult
    control: GroupResult
    comparison: Comparison | None  # None: not enough data to compare
    verdict: str  # no_control | not_enough | works | harms | need_more | no_difference
    sentence: str  # the verdict in the reader's language
    formula: str  # how the outcome is computed, in the reader's language
    statistics: str  # how the interval and the p-value are computed

    @property
    def groups(self) -> list[GroupResult]:
        return [self.treated, self.control]

    @property
    def outcome_label(self) -> str:
        return outcome_label(self.outcome)

    @property
    def chart(self) -> dict[str, Any] | None:
        """The difference and its interval on a symmetric axis around 0, as x positions
        (0–400) for the partial's SVG error bar (attributes, not styles: CSP)."""
        c = self.comparison
        if c is None:
            return None
        reach = max(abs(c.low), abs(c.high), abs(c.difference), 0.05) * 1.15

        def x(value: float) -> float:
            return round(200 + value / reach * 190, 1)

        return {
            "zero": 200,
            "low": x(c.low),
            "high": x(c.high),
            "point": x(c.difference),
            "left_label": points(-reach, signed=True),
            "right_label": points(reach, signed=True),
            "low_label": points(c.low, signed=True),
            "high_label": points(c.high, signed=True),
            "difference": points(c.difference, signed=True),
            # Bootstrap's success, danger and secondary colours.
            "colour": {"works": "#198754", "harms": "#dc3545"}.get(self.verdict, "#6c757d"),
        }

    def rate_text(self, group: GroupResult) -> str:
        return "—" if group.rate is None else f"{points(group.rate)}%"

    @property
    def treated_rate(self) -> str:
        return self.rate_text(self.treated)

    @property
    def control_rate(self) -> str:
        return self.rate_text(self.control)

    @property
    def p_value_text(self) -> str:
        c = self.comparison
        if c is None:
            return "—"
        return "< 0.001" if c.p_value < 0.001 else f"{c.p_value:.3f}"

    @property
    def more_treated(self) -> int:
        c = self.comparison
        return max(0, c.needed_treated - self.treated.judged) if c else 0

    @property
    def more_control(self) -> int:
        c = self.comparison
        return max(0, c.needed_control - self.control.judged) if c else 0


@dataclass
class _Tally:
    enrolled: int = 0
    waiting: int = 0
    not_paying: int = 0
    successes: int = 0
    values: list[float] = field(default_factory=list)


def _mrr_at(moment: Any) -> Subquery:
    """The customer's MRR at ``moment`` from the ledger: ``mrr_after`` of their last movement
    stamped at or before it (no movement yet: none)."""
    return Subquery(
        MrrMovement.objects.filter(customer=OuterRef("customer"), at__lte=moment)
        .order_by("-at", "-pk")
        .values("mrr_after")[:1]
    )


def _first_runs(playbook: Playbook, as_of: datetime, outcome: Outcome) -> list[dict[str, Any]]:
    """Each customer's first run of the playbook up to ``as_of`` with what the outcome needs,
    in one query (correlated subqueries served by the (customer, at) and (customer, timestamp)
    indexes of the ledger and the events)."""
    # Inside the subqueries: the run's start + N days.
    after = ExpressionWrapper(
        OuterRef("started_at") + timedelta(days=outcome.days), output_field=DateTimeField()
    )
    qs = PlaybookRun.objects.filter(playbook=playbook, started_at__lte=as_of)
    if outcome.kind in ("retention", "mrr"):
        qs = qs.annotate(mrr_start=_mrr_at(OuterRef("started_at")), mrr_end=_mrr_at(after))
    else:
        qs = qs.annotate(
            did=Exists(
                Event.objects.filter(
                    customer=OuterRef("customer"),
                    name=outcome.event,
                    timestamp__gte=OuterRef("started_at"),
                    timestamp__lt=after,
                )
            )
        )
    fields = ["customer_id", "group", "started_at"]
    fields += ["mrr_start", "mrr_end"] if outcome.kind != "event" else ["did"]
    seen: set[int] = set()
    rows = []
    for row in qs.order_by("started_at", "pk").values(*fields):
        if row["customer_id"] not in seen:
            seen.add(row["customer_id"])
            rows.append(row)
    return rows


def _tally(rows: list[dict[str, Any]], outcome: Outcome, as_of: datetime) -> dict[str, _Tally]:
    tallies = {Group.TREATED.value: _Tally(), Group.CONTROL.value: _Tally()}
    span = timedelta(days=outcome.days)
    for row in rows:
        tally = tallies.get(row["group"])
        if tally is None:
            continue
        tally.enrolled += 1
        if row["started_at"] + span > as_of:
            tally.waiting += 1
            continue
        if outcome.kind == "event":
            tally.values.append(1.0 if row["did"] else 0.0)
            tally.successes += 1 if row["did"] else 0
            continue
        start = Decimal(row["mrr_start"] or 0)
        if start <= 0:
            tally.not_paying += 1
            continue
        end = Decimal(row["mrr_end"] or 0)
        tally.successes += 1 if end > 0 else 0
        tally.values.append(float(end / start) if outcome.kind == "mrr" else float(end > 0))
    return tallies


def _group(name: str, tally: _Tally) -> GroupResult:
    judged = len(tally.values)
    return GroupResult(
        group=name,
        enrolled=tally.enrolled,
        waiting=tally.waiting,
        not_paying=tally.not_paying,
        judged=judged,
        successes=tally.successes,
        rate=(sum(tally.values) / judged) if judged else None,
    )


def experiment_results(*, playbook: Playbook, as_of: datetime | None = None) -> ExperimentResults:
    """Treated against control on the playbook's outcome, with a verdict in the reader's
    language. Reads only: PlaybookRun rows (group, started_at), the MRR ledger, the events."""
    as_of = as_of or timezone.now()
    outcome = outcome_of(playbook)
    tallies = _tally(_first_runs(playbook, as_of, outcome), outcome, as_of)
    treated = _group(Group.TREATED.value, tallies[Group.TREATED.value])
    control = _group(Group.CONTROL.value, tallies[Group.CONTROL.value])
    comparison = None
    if treated.judged >= MIN_PER_GROUP and control.judged >= MIN_PER_GROUP:
        # Imported here: scipy and statsmodels took a second of every `tend` command's
        # start-up (the playbook engine imports this module when the apps load).
        from tend.playbooks.experiment_stats import compare_means, compare_proportions

        if outcome.kind == "mrr":
            comparison = compare_means(
                tallies[Group.TREATED.value].values, tallies[Group.CONTROL.value].values
            )
        else:
            comparison = compare_proportions(
                treated.successes, treated.judged, control.successes, control.judged
            )
    verdict = _verdict(playbook, control, comparison, treated)
    results = ExperimentResults(
        playbook_id=playbook.pk,
        playbook_name=playbook.name,
        as_of=as_of,
        holdout_percent=playbook.holdout_percent,
        outcome=outcome,
        treated=treated,
        control=control,
        comparison=comparison,
        verdict=verdict,
        sentence="",
        formula=formula_text(outcome),
        statistics=statistics_text(outcome),
    )
    return replace(results, sentence=sentence_text(results))


def _verdict(
    playbook: Playbook, control: GroupResult, comparison: Comparison | None, treated: GroupResult
) -> str:
    if playbook.holdout_percent <= 0 and control.enrolled == 0:
        return "no_control"
    if comparison is None:
        return "not_enough"
    if comparison.significant:
        return "works" if comparison.difference > 0 else "harms"
    if comparison.needed_treated > treated.judged or comparison.needed_control > control.judged:
        return "need_more"
    return "no_difference"
