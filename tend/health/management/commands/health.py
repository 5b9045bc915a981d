"""``tend health recompute|backfill|show|scorecards``: health scores from the command line.

``tend health recompute`` scores every customer for today (UTC; ``--day`` for another day);
``tend health backfill --days 365`` computes the history from the rollups; ``tend health show
CUSTOMER`` prints a customer's score, colour and measures; ``tend health scorecards`` lists
the scorecards and their measures (``--json`` for the exact definitions).
"""

from __future__ import annotations

import io
import json
import time
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from rich.console import Console
from rich.table import Table

from tend.health.engine import (
    FORMULA,
    day_problem,
    health_backfill,
    health_compute,
    today_utc,
)
from tend.health.measures import measures, params_describe
from tend.health.models import CustomerHealth, HealthScore
from tend.health.panel import COMPARE_DAYS, lines_explained
from tend.health.scorecards import scorecard_as_dict, scorecards_ordered

MAX_BACKFILL_DAYS = 3650


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--day: {text!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = "Compute, backfill and show customers' health scores; list scorecards."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="recompute|backfill|show|scorecards"
        )
        recompute = actions.add_parser("recompute", help="score every customer for a day")
        recompute.add_argument("--day", help="YYYY-MM-DD (default: today, UTC)")
        backfill = actions.add_parser("backfill", help="compute the history of past days")
        backfill.add_argument("--days", type=int, default=365, help="days back (default 365)")
        backfill.add_argument("--end", help="last day, YYYY-MM-DD (default: today, UTC)")
        show = actions.add_parser("show", help="a customer's health and its measures")
        show.add_argument("customer", help="customer id, external id or exact name")
        show.add_argument("--days", type=int, default=30, help="history rows to print")
        cards = actions.add_parser("scorecards", help="the scorecards, in the order tried")
        cards.add_argument("--json", action="store_true", help="print the definitions as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _print(self, table: Table) -> None:
        buffer = io.StringIO()
        Console(file=buffer, width=140).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _recompute(self, options: dict[str, Any]) -> None:
        day = _day(options["day"]) or today_utc()
        problem = day_problem(day)
        if problem:
            raise CommandError(f"--day: {problem}")
        clock = time.perf_counter()
        counts = health_compute(day)
        self.stdout.write(
            self.style.SUCCESS(
                f"Health for {day}: {counts['scored']} customers scored, "
                f"{counts['changed']} changed colour ({time.perf_counter() - clock:.1f} s)."
            )
        )

    def _backfill(self, options: dict[str, Any]) -> None:
        days = options["days"]
        if days < 1 or days > MAX_BACKFILL_DAYS:
            raise CommandError(f"--days: enter a number from 1 to {MAX_BACKFILL_DAYS}.")
        end = _day(options["end"]) or today_utc()
        problem = day_problem(end) or day_problem(end - timedelta(days=days - 1))
        if problem:
            raise CommandError(f"--end: {problem}")
        clock = time.perf_counter()
        counts = health_backfill(days, end=end)
        self.stdout.write(
            self.style.SUCCESS(
                f"Health history for {counts['days']} days up to {end}: "
                f"{counts['scored']} scores ({time.perf_counter() - clock:.1f} s)."
            )
        )

    def _show(self, options: dict[str, Any]) -> None:
        from tend.customers.models import Customer

        ref = str(options["customer"]).strip()
        query = Q(external_id=ref) | Q(name=ref)
        if ref.isdigit():
            query |= Q(pk=int(ref))
        found = list(Customer.objects.filter(query)[:2])
        if not found:
            raise CommandError(f"customer: no customer {ref!r}.")
        if len(found) > 1:
            raise CommandError(f"customer: {ref!r} names more than one customer; use the id.")
        customer = found[0]
        health = CustomerHealth.objects.filter(customer=customer).first()
        if health is None:
            self.stdout.write(f"{customer.name} (#{customer.pk}): not scored yet.")
            return
        score = "no data" if health.score is None else f"{health.score}/100"
        since = f" since {health.colour_since}" if health.colour_since else ""
        self.stdout.write(
            f"{customer.name} (#{customer.pk}) on {health.day}: {score} "
            f"{health.colour or '-'}{since}"
        )
        self.stdout.write(f"Score = {FORMULA}.")
        latest = HealthScore.objects.filter(customer=customer, day=health.day).first()
        if latest is not None:
            earlier = HealthScore.objects.filter(
                customer=customer, day=health.day - timedelta(days=COMPARE_DAYS)
            ).first()
            table = Table("Measure", "Value", "Points", "Weight")
            for line in lines_explained(
                latest.details, latest.score, earlier.details if earlier else None
            ):
                table.add_row(
                    line["label"],
                    line["text"],
                    "no data (left out)" if not line["has_data"] else str(line["points"]),
                    f"{line['weight']:g}",
                )
            self._print(table)
        days = max(1, min(int(options["days"]), 3650))
        history = Table("Day", "Score", "Colour")
        for row in HealthScore.objects.filter(customer=customer).order_by("-day")[:days]:
            history.add_row(str(row.day), "-" if row.score is None else str(row.score), row.colour)
        self._print(history)

    def _scorecards(self, options: dict[str, Any]) -> None:
        cards = scorecards_ordered()
        if options["json"]:
            self.stdout.write(json.dumps([scorecard_as_dict(c) for c in cards], indent=2))
            return
        for card in cards:
            applies = (
                "everyone else (default)"
                if card.is_default
                else (f"segment #{card.segment_id}" if card.segment_id else "condition")
            )
            self.stdout.write(
                f"{card.name} — {applies}; red below {card.red_below}, green from {card.green_from}"
            )
            table = Table("Measure", "Parameters", "Weight", "Mapping")
            for line in card.measures.all():
                measure = measures.get(line.measure) if line.measure in measures else None
                mapping = (
                    f"percentile ({line.direction} is better)"
                    if line.mapping == "percentile"
                    else f"thresholds ({line.direction} is better) "
                    + " ".join(f"{a:g}→{p:g}" for a, p in line.thresholds)
                )
                table.add_row(
                    str(measure.label) if measure else line.measure,
                    params_describe(measure, line.params) if measure else "",
                    f"{line.weight:g}",
                    mapping,
                )
            self._print(table)
