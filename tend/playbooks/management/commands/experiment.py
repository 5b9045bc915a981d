"""``tend experiment NAME``: does the playbook work? The same numbers and sentence as the
playbook page and ``GET /api/v1/playbooks/{id}/experiment``; ``--json`` prints the API's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from rich.console import Console
from rich.table import Table

from tend.playbooks.experiment_api import results_out
from tend.playbooks.experiments import experiment_results
from tend.playbooks.models import Playbook


def _as_of(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--as-of: give an ISO 8601 time such as 2025-01-31T09:30, not {text!r}."
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Compare a playbook's treated and control groups on its outcome."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the playbook's name (or its id)")
        parser.add_argument("--as-of", help="judge as of this time (ISO 8601, UTC by default)")
        parser.add_argument("--json", action="store_true", help="print the API's JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        playbook = Playbook.objects.filter(name=name).first()
        if playbook is None and name.isdigit():
            playbook = Playbook.objects.filter(pk=int(name)).first()
        if playbook is None:
            raise CommandError(f"name: no playbook called {name!r}.")
        results = experiment_results(playbook=playbook, as_of=_as_of(options.get("as_of")))
        if options["json"]:
            self.stdout.write(json.dumps(results_out(results), cls=DjangoJSONEncoder, indent=2))
            return
        console = Console(file=self.stdout, width=100, highlight=False)  # type: ignore[arg-type]
        console.print(f"[bold]{playbook.name}[/bold] — {results.outcome_label}")
        table = Table()
        for column in ("group", "entered", "waiting", "not paying", "judged (n)", "outcome"):
            table.add_column(column, justify="left" if column == "group" else "right")
        for group in results.groups:
            table.add_row(
                group.label,
                str(group.enrolled),
                str(group.waiting),
                str(group.not_paying),
                str(group.judged),
                results.rate_text(group),
            )
        console.print(table)
        c = results.comparison
        if c is not None:
            console.print(
                f"difference {c.difference * 100:+.1f} points, 95% CI "
                f"{c.low * 100:+.1f} to {c.high * 100:+.1f}, p = {results.p_value_text}"
            )
        console.print(results.sentence, soft_wrap=True)
        console.print(results.formula, style="dim", soft_wrap=True)
