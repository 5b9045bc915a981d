"""The daily pipeline runs its declared steps in order, records each one, and stops at the
first failure (the steps after it read what it writes)."""

from __future__ import annotations

from datetime import date

import pytest

from tend.jobs import pipeline
from tend.jobs.models import PipelineStepRun
from tend.jobs.pipeline import PipelineError, Step, pipeline_run
from tend.lib.registry import Registry, RegistryError

pytestmark = pytest.mark.django_db

calls: list[tuple[str, date]] = []


def first_step(as_of: date) -> dict[str, int]:
    calls.append(("first", as_of))
    return {"done": 3}


def second_step(as_of: date) -> dict[str, int]:
    calls.append(("second", as_of))
    return {}


def broken_step(as_of: date) -> dict[str, int]:
    calls.append(("broken", as_of))
    raise RuntimeError("the rollups table is locked")


HERE = __name__


@pytest.fixture(autouse=True)
def _steps(monkeypatch: pytest.MonkeyPatch) -> None:
    calls.clear()
    monkeypatch.setattr(
        pipeline,
        "PIPELINE",
        (
            Step("first", f"{HERE}.first_step"),
            Step("second", f"{HERE}.second_step"),
        ),
    )


def test_steps_run_in_their_declared_order_and_are_recorded() -> None:
    results = pipeline_run(as_of=date(2026, 3, 1))
    assert [r.name for r in results] == ["first", "second"]
    assert calls == [("first", date(2026, 3, 1)), ("second", date(2026, 3, 1))]
    rows = list(PipelineStepRun.objects.order_by("started_at", "pk"))
    assert [(r.step, r.counts, r.error) for r in rows] == [
        ("first", {"done": 3}, ""),
        ("second", {}, ""),
    ]
    assert len({r.run for r in rows}) == 1
    assert all(r.seconds >= 0 for r in rows)


def test_only_runs_the_named_steps_and_an_unknown_name_is_refused() -> None:
    pipeline_run(as_of=date(2026, 3, 1), only=["second"])
    assert calls == [("second", date(2026, 3, 1))]
    with pytest.raises(ValueError, match="unknown pipeline step 'third'"):
        pipeline_run(only=["third"])


def test_a_failing_step_is_recorded_and_stops_the_ones_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        pipeline,
        "PIPELINE",
        (Step("broken", f"{HERE}.broken_step"), Step("second", f"{HERE}.second_step")),
    )
    with pytest.raises(PipelineError, match="the rollups table is locked"):
        pipeline_run(as_of=date(2026, 3, 1))
    assert calls == [("broken", date(2026, 3, 1))]
    row = PipelineStepRun.objects.get()
    assert row.step == "broken" and "the rollups table is locked" in row.error


def test_a_registry_refuses_a_name_twice_and_names_what_is_missing() -> None:
    registry: Registry[Step] = Registry("pipeline step")
    registry.register(Step("a", "x.y"))
    with pytest.raises(RegistryError, match="registered twice"):
        registry.register(Step("a", "x.z"))
    with pytest.raises(RegistryError, match="no pipeline step named “b”"):
        registry.get("b")
    assert registry.names() == ["a"] and "a" in registry and len(registry) == 1
