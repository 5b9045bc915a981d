"""REST: a playbook's experiment results (``GET /playbooks/{id}/experiment``).

The same numbers and sentence as the playbook page's "Does it work?" card and
``tend experiment NAME`` (tend.playbooks.experiments.experiment_results). Read-only: any key
or role that reads may call it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from tend.api.schemas import ERRORS_404, PathId, UtcDatetime
from tend.playbooks.experiments import ExperimentResults, GroupResult, experiment_results
from tend.playbooks.models import Playbook

router = Router(tags=["playbooks"])


class OutcomeOut(Schema):
    kind: str = Field(..., description="`retention`, `mrr` (MRR kept) or `event`.")
    days: int = Field(..., description="Judged this many days after entering.")
    event: str = Field(..., description="The event's name (kind `event`), else empty.")
    default: bool = Field(..., description="The playbook chose no outcome: retention, 30 days.")


class GroupOut(Schema):
    group: str = Field(..., description="`treated` or `control`.")
    enrolled: int = Field(..., description="Customers who entered up to `as_of` (first entry).")
    waiting: int = Field(..., description="Entered less than `days` days before `as_of`.")
    not_paying: int = Field(..., description="No MRR when entering (retention, mrr): left out.")
    judged: int = Field(..., description="n: the customers the outcome is computed over.")
    successes: int = Field(..., description="Retained, or did the event (not for `mrr`).")
    rate: float | None = Field(
        ..., description="Share 0–1 (retention, event) or mean MRR kept (1.0 = 100 %)."
    )


class ComparisonOut(Schema):
    difference: float = Field(..., description="treated − control, as a fraction (0.081).")
    ci_low: float = Field(..., description="95 % confidence interval, low end.")
    ci_high: float = Field(..., description="95 % confidence interval, high end.")
    p_value: float
    method: str = Field(..., description="`newcomb` (shares) or `welch` (MRR kept).")
    needed_treated: int = Field(..., description="Treated customers for 80 % power.")
    needed_control: int = Field(..., description="Control customers for 80 % power.")
    target: float = Field(..., description="The difference planned for (at least 0.05).")


class ExperimentOut(Schema):
    playbook_id: int
    playbook_name: str
    as_of: UtcDatetime
    holdout_percent: int
    outcome: OutcomeOut
    treated: GroupOut
    control: GroupOut
    comparison: ComparisonOut | None = Field(
        ..., description="Missing while either group has fewer than 20 judged customers."
    )
    verdict: str = Field(
        ...,
        description="`no_control`, `not_enough`, `works`, `harms`, `need_more` or `no_difference`.",
    )
    sentence: str = Field(..., description="The verdict in the caller's language.")
    formula: str
    statistics: str


class ExperimentQuery(Schema):
    as_of: UtcDatetime | None = Field(
        None, description="Judge as of this time (default now); later runs are left out."
    )


def _group(group: GroupResult) -> dict[str, Any]:
    return {
        "group": group.group,
        "enrolled": group.enrolled,
        "waiting": group.waiting,
        "not_paying": group.not_paying,
        "judged": group.judged,
        "successes": group.successes,
        "rate": group.rate,
    }


def results_out(results: ExperimentResults) -> dict[str, Any]:
    c = results.comparison
    return {
        "playbook_id": results.playbook_id,
        "playbook_name": results.playbook_name,
        "as_of": results.as_of,
        "holdout_percent": results.holdout_percent,
        "outcome": {
            "kind": results.outcome.kind,
            "days": results.outcome.days,
            "event": results.outcome.event,
            "default": results.outcome.default,
        },
        "treated": _group(results.treated),
        "control": _group(results.control),
        "comparison": None
        if c is None
        else {
            "difference": c.difference,
            "ci_low": c.low,
            "ci_high": c.high,
            "p_value": c.p_value,
            "method": c.method,
            "needed_treated": c.needed_treated,
            "needed_control": c.needed_control,
            "target": c.target,
        },
        "verdict": results.verdict,
        "sentence": results.sentence,
        "formula": results.formula,
        "statistics": results.statistics,
    }


@router.get("/playbooks/{playbook_id}/experiment", response={200: ExperimentOut, **ERRORS_404})
def playbook_experiment(
    request: HttpRequest, playbook_id: PathId, query: Query[ExperimentQuery]
) -> dict[str, Any]:
    """Does the playbook work? Treated against control on its outcome, with a 95 % interval."""
    playbook = Playbook.objects.filter(pk=playbook_id).first()
    if playbook is None:
        raise Http404(f"Playbook {playbook_id} not found.")
    as_of: datetime | None = query.as_of
    return results_out(experiment_results(playbook=playbook, as_of=as_of))
