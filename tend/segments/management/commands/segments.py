"""``tend segments list|show ID|members ID [--csv]|refresh|rfm|clusters``: segments from the
command line.

``tend segments list`` prints every segment with its members and 30-day change;
``tend segments show 3`` its rule in words, as JSON and its recent history;
``tend segments members 3 --csv > big.csv`` its members (all of them, streamed);
``tend segments refresh [--as-of 2026-03-01] [--segment 3 …]`` recomputes members (the daily
pipeline does this for every segment);
``tend segments rfm [--window 365] [--as-of YYYY-MM-DD] [--show]`` and
``tend segments clusters [--days 90] [--k-min 2] [--k-max 8] [--as-of YYYY-MM-DD] [--show]``
recompute the behavioural groups (docs/behaviour.md).
"""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tend.lib.spreadsheet import csv_writer
from tend.segments.behaviour_cli import ACTIONS as BEHAVIOUR_ACTIONS
from tend.segments.behaviour_cli import behaviour_add_parsers, behaviour_run
from tend.segments.conditions import ConditionError, condition_describe
from tend.segments.membership import segments_refresh
from tend.segments.models import Segment, SegmentMember
from tend.segments.queries import daily_history, moves_by_segment

CSV_COLUMNS = ["customer_id", "name", "email", "stage", "mrr", "currency", "since"]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of: give a day as YYYY-MM-DD, not {text!r}.") from None


class Command(BaseCommand):
    help = (
        "List saved segments, show one, print its members, refresh memberships, or recompute "
        "the behavioural groups (rfm, clusters)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="list|show|members|refresh|rfm|clusters"
        )
        actions.add_parser("list", help="every segment with members and 30-day change")
        show = actions.add_parser("show", help="one segment: rule, counts, recent history")
        show.add_argument("id", type=int)
        members = actions.add_parser("members", help="a segment's members, by name")
        members.add_argument("id", type=int)
        members.add_argument("--csv", action="store_true", help="CSV on standard output")
        refresh = actions.add_parser("refresh", help="recompute members, record who moved")
        refresh.add_argument("--as-of", help="the day (UTC) to record, YYYY-MM-DD; default today")
        refresh.add_argument(
            "--segment", type=int, action="append", help="only this segment id (repeatable)"
        )
        behaviour_add_parsers(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] in BEHAVIOUR_ACTIONS:
            behaviour_run(options["action"], options, self.stdout)
            return
        getattr(self, f"_{options['action']}")(options)

    def _print(self, table: Table) -> None:
        buffer = io.StringIO()
        Console(file=buffer, width=120).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _segment(self, pk: int) -> Segment:
        segment = Segment.objects.filter(pk=pk).first()
        if segment is None:
            raise CommandError(f"id: no segment with id {pk}.")
        return segment

    def _list(self, options: dict[str, Any]) -> None:
        segments = list(Segment.objects.order_by("name", "pk"))
        moves = moves_by_segment([s.pk for s in segments])
        table = Table("Id", "Name", "Members", "In (30 d)", "Out (30 d)", "Refreshed (UTC)")
        for s in segments:
            m = moves.get(s.pk)
            table.add_row(
                str(s.pk),
                s.name,
                f"{s.member_count:,}",
                f"{m.entered:,}" if m else "0",
                f"{m.left:,}" if m else "0",
                f"{s.refreshed_at:%Y-%m-%d %H:%M}" if s.refreshed_at else "never",
            )
        self._print(table)

    def _show(self, options: dict[str, Any]) -> None:
        segment = self._segment(options["id"])
        try:
            rule = condition_describe(segment.condition)
        except ConditionError as exc:
            rule = f"(cannot be used: {exc.text()})"
        out = self.stdout
        out.write(f"{segment.name} (id {segment.pk})")
        if segment.description:
            out.write(segment.description)
        out.write(f"Rule: {rule}")
        out.write(f"Condition: {json.dumps(segment.condition, ensure_ascii=False)}")
        refreshed = (
            f"{segment.refreshed_at:%Y-%m-%d %H:%M} UTC" if segment.refreshed_at else "never"
        )
        out.write(f"Members: {segment.member_count:,} (refreshed {refreshed})")
        if segment.refresh_error:
            out.write(self.style.ERROR(f"Last refresh failed: {segment.refresh_error}"))
        history = daily_history(segment)[-14:]
        if history:
            table = Table("Day", "Entered", "Left", "Members")
            for day in history:
                table.add_row(
                    day.day.isoformat(), f"{day.entered:,}", f"{day.left:,}", f"{day.members:,}"
                )
            self._print(table)

    def _members(self, options: dict[str, Any]) -> None:
        segment = self._segment(options["id"])
        rows = (
            SegmentMember.objects.filter(segment=segment)
            .order_by("customer__name", "customer_id")
            .values_list(
                "customer_id",
                "customer__name",
                "customer__email",
                "customer__stage",
                "customer__mrr",
                "since",
            )
        )
        if options["csv"]:
            writer = csv_writer(self.stdout)
            writer.writerow(CSV_COLUMNS)
            for pk, name, email, stage, mrr, since in rows.iterator(chunk_size=2000):
                writer.writerow(
                    [pk, name, email, stage, mrr, settings.TEND_CURRENCY, since.isoformat()]
                )
            return
        table = Table("Id", "Name", "Email", "Stage", "MRR", "Since")
        for pk, name, email, stage, mrr, since in rows.iterator(chunk_size=2000):
            table.add_row(str(pk), name, email, stage, f"{mrr:,}", since.isoformat())
        self._print(table)

    def _refresh(self, options: dict[str, Any]) -> None:
        as_of = _day(options["as_of"]) if options["as_of"] else None
        wanted = options["segment"]
        if wanted:
            missing = set(wanted) - set(
                Segment.objects.filter(pk__in=wanted).values_list("pk", flat=True)
            )
            if missing:
                raise CommandError(f"--segment: no segment with id {min(missing)}.")
        failed = 0
        for result in segments_refresh(as_of, segments=wanted):
            if result.error:
                failed += 1
                self.stdout.write(self.style.ERROR(f"{result.name}: {result.error}"))
            elif result.skipped:
                self.stdout.write(f"{result.name}: skipped (refreshed for a later day already)")
            else:
                self.stdout.write(
                    f"{result.name}: {result.entered:,} entered, {result.left:,} left, "
                    f"{result.members:,} members"
                )
        if failed:
            raise CommandError(f"{failed} segment(s) could not be refreshed.")
