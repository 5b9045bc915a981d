"""``tend pipeline run|status``: runs the steps in the pipeline's order, records each run, and
refuses a bad day or an unknown step naming the option."""

from __future__ import annotations

from datetime import date
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tend.activity.models import DailyRollup, Event
from tend.factories import make_customer
from tend.jobs import pipeline
from tend.jobs.models import PipelineStepRun

pytestmark = pytest.mark.django_db

SEEN: list[tuple[str, date]] = []


def probe_step(as_of: date) -> dict[str, int]:
    SEEN.append(("probe", as_of))
    return {"probed": 7}


def broken_step(as_of: date) -> dict[str, int]:
    raise RuntimeError("the scores table is missing")


@pytest.fixture
def test_steps(monkeypatch: Any) -> None:
    """The real rollups step, then two steps registered for these tests only."""
    SEEN.clear()
    steps = (
        pipeline.Step("rollups", "tend.activity.tasks.rollups_pipeline_step"),
        pipeline.Step("probe", f"{__name__}.probe_step"),
        pipeline.Step("broken", f"{__name__}.broken_step"),
    )
    monkeypatch.setattr(pipeline, "PIPELINE", steps)


def run(*args: str) -> str:
    out = StringIO()
    call_command("pipeline", *args, stdout=out)
    return out.getvalue()


def test_run_recounts_rollups_for_the_day_and_records_the_step() -> None:
    customer = make_customer()
    Event.objects.create(customer=customer, name="login", timestamp="2026-03-02T10:00:00Z")
    out = run("run", "--as-of", "2026-03-03", "--step", "rollups")
    assert out.startswith("rollups: ")
    assert "rollups 1" in out and "Pipeline for 2026-03-03: 1 steps" in out
    assert DailyRollup.objects.get().count == 1
    row = PipelineStepRun.objects.get()
    assert (row.step, row.as_of, row.counts, row.error) == (
        "rollups",
        date(2026, 3, 3),
        {"rollups": 1},
        "",
    )


def test_steps_run_in_the_pipeline_order_and_a_failure_stops_the_rest(test_steps: None) -> None:
    out = run("run", "--as-of", "2026-03-03", "--step", "probe", "--step", "rollups")
    assert [line.split(":")[0] for line in out.splitlines()[:2]] == ["rollups", "probe"]
    assert "probed 7" in out
    assert [("probe", date(2026, 3, 3))] == SEEN
    with pytest.raises(CommandError, match="step broken failed: RuntimeError: the scores"):
        run("run", "--as-of", "2026-03-04")
    assert SEEN[-1] == ("probe", date(2026, 3, 4))
    status = run("status")
    assert "failed: RuntimeError: the scores table is missing" in status
    assert "probed 7" in status and "2026-03-04" in status


def test_a_step_whose_code_is_missing_is_named(monkeypatch: Any) -> None:
    steps = (pipeline.Step("ghost", "tend.nowhere.engine.ghost_pipeline_step"),)
    monkeypatch.setattr(pipeline, "PIPELINE", steps)
    with pytest.raises(CommandError, match=r"a pipeline step's code is missing: .*tend\.nowhere"):
        run("run")


def test_status_says_when_a_step_never_ran(test_steps: None) -> None:
    status = run("status")
    assert status.count("never run") == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "03/03/2026"], "--as-of: “03/03/2026” is not a date"),
        (["--as-of", "2026-02-30"], "--as-of: “2026-02-30” is not a date"),
        (["--as-of", "2026-03-03\x00"], "--as-of:"),
        (["--step", "nonsense"], "--step: there is no step 'nonsense'"),
    ],
)
def test_bad_options_are_refused_naming_the_option(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("run", *args)
    assert not PipelineStepRun.objects.exists()
