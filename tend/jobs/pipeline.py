"""The daily pipeline, declared in one place: rollups → health → (prediction) → RFM →
segments → lifecycle → Today. Each step is idempotent (running it twice for a day gives the
same rows) and timed; the scheduler runs the whole pipeline once a day
(``TEND_SCHEDULES["daily-pipeline"]``) and ``tend pipeline run`` runs it (or some steps) by hand.

A step is a function ``step(as_of: date) -> dict[str, int]`` returning what it did ("scored":
1200, "moved": 4). A later issue adds its step by adding a line to ``PIPELINE``.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.utils import timezone
from django.utils.module_loading import import_string

from tend.jobs.models import PipelineStepRun

log = logging.getLogger(__name__)

StepFunction = Callable[[date], dict[str, int]]


@dataclass(frozen=True)
class Step:
    name: str
    function: str  # dotted path of a ``step(as_of) -> counts`` function
    help: str = ""


PIPELINE: tuple[Step, ...] = (
    Step("rollups", "tend.activity.tasks.rollups_pipeline_step", "Recount recent daily rollups."),
    Step(
        "churn",
        "tend.predict.scoring.churn_pipeline_step",
        "Score every customer's churn risk with the active model (none until one is trained).",
    ),
    Step("health", "tend.health.engine.health_pipeline_step", "Score every customer's health."),
    Step(
        "rfm",
        "tend.segments.rfm.rfm_pipeline_step",
        "Score recency, frequency and monetary value from orders (segments can use them).",
    ),
    Step(
        "clv",
        "tend.predict.clv_actions.clv_pipeline_step",
        "Refit probabilistic CLV (BG/NBD or Pareto/NBD, Gamma-Gamma) on orders, if any.",
    ),
    Step(
        "segments",
        "tend.segments.membership.segments_pipeline_step",
        "Refresh saved segments' members; record who entered and left.",
    ),
    Step(
        "lifecycle",
        "tend.lifecycle.engine.lifecycle_pipeline_step",
        "Apply the lifecycle rules to every customer.",
    ),
    Step(
        "today",
        "tend.today.engine.today_pipeline_step",
        "Find who needs the founder today, and why.",
    ),
)


class PipelineError(RuntimeError):
    """A step failed; the steps after it did not run (they read what it writes)."""


@dataclass
class StepResult:
    name: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""


def step_names() -> list[str]:
    return [step.name for step in PIPELINE]


def pipeline_run(
    *, as_of: date | None = None, only: Iterable[str] | None = None, record: bool = True
) -> list[StepResult]:
    """Run the pipeline's steps (all, or those named in ``only``) in their declared order for
    the day ``as_of`` (today, UTC, by default). Stops at the first failing step and raises
    ``PipelineError`` after recording it."""
    as_of = as_of or timezone.now().astimezone(UTC).date()
    chosen = set(only) if only is not None else None
    if chosen is not None:
        unknown = chosen - set(step_names())
        if unknown:
            raise ValueError(
                f"unknown pipeline step {sorted(unknown)[0]!r}; steps: {', '.join(step_names())}"
            )
    run = uuid.uuid4()
    results: list[StepResult] = []
    for step in PIPELINE:
        if chosen is not None and step.name not in chosen:
            continue
        function: StepFunction = import_string(step.function)
        started = timezone.now()
        clock = time.perf_counter()
        try:
            counts = dict(function(as_of) or {})
            error = ""
        except Exception as exc:  # recorded, then raised: the next steps read what this writes
            counts = {}
            error = "".join(traceback.format_exception_only(exc)).strip()
            log.exception("pipeline step %s failed", step.name)
        seconds = time.perf_counter() - clock
        result = StepResult(step.name, seconds, counts, error)
        results.append(result)
        if record:
            PipelineStepRun.objects.create(
                run=run,
                step=step.name,
                as_of=as_of,
                started_at=started,
                seconds=seconds,
                counts=counts,
                error=error,
            )
        log.info("pipeline step %s for %s: %.2f s %s", step.name, as_of, seconds, counts)
        if error:
            raise PipelineError(f"step {step.name} failed: {error}")
    return results


def last_runs() -> dict[str, PipelineStepRun]:
    """The latest recorded run of each step (for the data-quality and operations pages)."""
    latest: dict[str, PipelineStepRun] = {}
    for name in step_names():
        row = PipelineStepRun.objects.filter(step=name).order_by("-started_at").first()
        if row is not None:
            latest[name] = row
    return latest


def as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value
