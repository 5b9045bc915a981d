"""``tend pipeline run|status``: the daily pipeline (``tend.jobs.pipeline``) by hand.

``tend pipeline run`` runs every step for today (UTC), or for ``--as-of YYYY-MM-DD``, or only
the steps named with ``--step`` (in the pipeline's order, whatever order they are given in);
``tend pipeline status`` shows each step's latest recorded run.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tend.jobs import pipeline
from tend.jobs.pipeline import PipelineError, last_runs, pipeline_run, step_names


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"--as-of: “{value}” is not a date; write it as YYYY-MM-DD, e.g. 2026-01-31."
        ) from None


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value}" for name, value in counts.items()) or "—"


class Command(BaseCommand):
    help = "Run the daily pipeline (rollups, health, segments, lifecycle, today) or show its runs."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="run|status")
        run = actions.add_parser("run", help="run the pipeline's steps for a day")
        run.add_argument("--as-of", dest="as_of", help="the day, YYYY-MM-DD (default: today, UTC)")
        run.add_argument(
            "--step",
            dest="steps",
            action="append",
            metavar="NAME",
            help=f"run only this step (repeatable): {', '.join(step_names())}",
        )
        actions.add_parser("status", help="each step's latest run: when, how long, what it did")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _run(self, options: dict[str, Any]) -> None:
        as_of = _day(options["as_of"]) if options["as_of"] else datetime.now(UTC).date()
        steps = options["steps"]
        if steps is not None:
            unknown = [s for s in steps if s not in step_names()]
            if unknown:
                raise CommandError(
                    f"--step: there is no step {unknown[0]!r}; the steps are "
                    f"{', '.join(step_names())}."
                )
        try:
            results = pipeline_run(as_of=as_of, only=steps)
        except PipelineError as exc:
            raise CommandError(f"{exc} (the steps after it did not run)") from None
        except ImportError as exc:
            # A step declared in PIPELINE whose app is not installed (a partial checkout).
            raise CommandError(f"a pipeline step's code is missing: {exc}") from None
        for result in results:
            self.stdout.write(f"{result.name}: {result.seconds:.2f} s — {_counts(result.counts)}")
        total = sum(r.seconds for r in results)
        self.stdout.write(
            f"Pipeline for {as_of.isoformat()}: {len(results)} steps in {total:.2f} s"
        )

    def _status(self, options: dict[str, Any]) -> None:
        runs = last_runs()
        table = Table("Step", "Day", "Started (UTC)", "Seconds", "Result", title="Daily pipeline")
        for step in pipeline.PIPELINE:
            row = runs.get(step.name)
            if row is None:
                table.add_row(step.name, "—", "never run", "—", "—")
                continue
            result = f"failed: {row.error.splitlines()[-1]}" if row.error else _counts(row.counts)
            table.add_row(
                step.name,
                row.as_of.isoformat(),
                f"{row.started_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
                f"{row.seconds:.2f}",
                result,
            )
        buffer = io.StringIO()
        Console(file=buffer, width=200).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
