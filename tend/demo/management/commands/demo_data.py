"""``tend demo-data``: fill the database with a believable SaaS, course school or web shop.

    tend demo-data --business saas --customers 2000 --months 24 --seed 42
    tend demo-data --customers 100000 --events-per-customer 50 --flush

The same seed (and ``--end``) gives the same data. Without ``--flush`` the command refuses to
run on a database that already has customers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tend.demo.catalog import BUSINESSES
from tend.demo.generator import DemoDataError, DemoSummary, demo_generate


class _RichProgress:
    """One progress bar per phase of the generator."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: Any = None

    def phase(self, name: str, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[-1].total)
        self.task = self.progress.add_task(name, total=max(total, 1))

    def advance(self, steps: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, steps)

    def finish(self) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[-1].total)


class Command(BaseCommand):
    help = "Generate demo customers, billing, lifecycle history and usage events."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--business", default="saas", choices=list(BUSINESSES))
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--months", type=int, default=24)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--events-per-customer",
            type=float,
            default=None,
            help="average usage events per customer (default: 150 saas, 100 course, 60 shop)",
        )
        parser.add_argument(
            "--end",
            type=date.fromisoformat,
            default=None,
            help="day the data ends (exclusive, YYYY-MM-DD; default today UTC)",
        )
        parser.add_argument("--flush", action="store_true", help="delete earlier demo data first")

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=self.stdout, highlight=False)  # type: ignore[arg-type]
        quiet = options["verbosity"] == 0
        progress = Progress(
            TextColumn("{task.description:<42}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
        )
        bar = _RichProgress(progress)
        try:
            with progress:
                summary = demo_generate(
                    business=options["business"],
                    customers=options["customers"],
                    months=options["months"],
                    seed=options["seed"],
                    events_per_customer=options["events_per_customer"],
                    end=options["end"],
                    flush=options["flush"],
                    progress=bar,
                )
                bar.finish()
        except DemoDataError as exc:
            raise CommandError(str(exc)) from None
        if not quiet:
            console.print(_table(summary))


def _table(s: DemoSummary) -> Table:
    table = Table(title=f"Demo data: {BUSINESSES[s.business].label}", show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    rows = [
        ("Period", f"{s.start} … {s.end} (exclusive)"),
        ("Seed / fingerprint", f"{s.seed} / {s.fingerprint}"),
        ("Customers", f"{s.customers:,}"),
        ("Paying now", f"{s.paying:,}"),
        ("MRR", f"{s.mrr:,.2f}"),
        ("Subscriptions", f"{s.subscriptions:,}"),
        ("MRR movements", f"{s.movements:,}"),
        ("Orders", f"{s.orders:,}"),
        ("Contacts", f"{s.contacts:,}"),
        ("Stage changes", f"{s.stage_changes:,}"),
        ("Timeline entries", f"{s.timeline:,}"),
        ("Events", f"{s.events:,}"),
        ("Daily rollups", f"{s.rollups:,}"),
        ("Time", f"{s.seconds:.1f} s"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table
