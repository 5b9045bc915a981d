"""``tend playbooks list|gallery|show|install|enable|pause|resume|archive|start|dry-run|runs|
advance|scan``.

PLAYBOOK is a playbook's id or its exact name. ``install KEY`` installs a built-in playbook
from the gallery as a draft; ``enable`` switches a draft on, ``pause``/``resume`` hold and
continue it, ``archive`` ends it (its unfinished runs are canceled). ``start PLAYBOOK
--customer ID`` (repeatable) or ``--segment ID`` starts it by hand; ``dry-run`` prints who
would enter now and what each step would do (nothing is written); ``runs`` lists the latest
runs; ``advance`` runs due steps now and ``scan`` the date, recurring and event triggers (what
the scheduler does every minute and every half hour).
"""

from __future__ import annotations

import io
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tend.accounts.models import User
from tend.customers.models import Customer
from tend.playbooks.actions import (
    PlaybookError,
    playbook_dry_run,
    playbook_install,
    playbook_set_status,
    playbook_start,
    playbooks_react,
    playbooks_scan,
    runs_advance,
    step_describe,
    trigger_describe,
)
from tend.playbooks.gallery import playbook_gallery
from tend.playbooks.models import Playbook, PlaybookRun
from tend.playbooks.steps import iter_steps

LABEL = "cli"
STATUS_OF = {"enable": "active", "pause": "paused", "resume": "active", "archive": "archived"}


class Command(BaseCommand):
    help = "List, install, switch on and off, start, dry-run and advance playbooks."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="action",
            required=True,
            metavar="list|gallery|show|install|enable|pause|resume|archive|start|dry-run|runs"
            "|advance|scan",
        )
        sub.add_parser("list", help="every playbook with its status and trigger")
        sub.add_parser("gallery", help="the built-in playbooks and whether they are installed")
        show = sub.add_parser("show", help="a playbook's trigger, condition and steps")
        show.add_argument("playbook")
        install = sub.add_parser("install", help="install a built-in playbook as a draft")
        install.add_argument("key")
        install.add_argument("--user", help="username recorded as acting")
        for name, text in (
            ("enable", "switch a playbook on"),
            ("pause", "pause a playbook (its runs keep their place)"),
            ("resume", "resume a paused playbook"),
            ("archive", "archive a playbook (its unfinished runs are canceled)"),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument("playbook")
            p.add_argument("--user", help="username recorded as acting")
        start = sub.add_parser("start", help="start a playbook by hand")
        start.add_argument("playbook")
        start.add_argument("--customer", action="append", default=[], help="customer id")
        start.add_argument("--segment", help="a segment id: its current members")
        start.add_argument("--user", help="username recorded as acting")
        dry = sub.add_parser("dry-run", help="who would enter now and what they would get")
        dry.add_argument("playbook")
        dry.add_argument("--limit", type=int, default=20)
        runs = sub.add_parser("runs", help="a playbook's latest runs")
        runs.add_argument("playbook")
        runs.add_argument("--limit", type=int, default=30)
        advance = sub.add_parser("advance", help="run the due steps now")
        advance.add_argument("--limit", type=int, default=500)
        sub.add_parser("scan", help="read customer changes and scan date and event triggers now")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"].replace("-", "_")
        try:
            if action in STATUS_OF:
                self._status(options)
            else:
                getattr(self, "_" + action)(options)
        except PlaybookError as exc:
            raise CommandError("; ".join(f"{f}: {m}" for f, m in exc.errors)) from None

    def _print(self, table: Table) -> None:
        buffer = io.StringIO()
        Console(file=buffer, width=140).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _playbook(self, ref: str) -> Playbook:
        playbook = None
        if ref.isdigit() and len(ref) < 19:
            playbook = Playbook.objects.filter(pk=int(ref)).first()
        if playbook is None:
            playbook = Playbook.objects.filter(name=ref).first()
        if playbook is None:
            raise CommandError(f"playbook: no playbook with the id or name {ref!r}.")
        return playbook

    def _user(self, options: dict[str, Any]) -> User | None:
        if not options.get("user"):
            return None
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active user called {options['user']!r}.")
        return user

    def _list(self, options: dict[str, Any]) -> None:
        table = Table("Id", "Name", "Status", "Trigger", "Steps", "Runs")
        for playbook in Playbook.objects.order_by("name"):
            table.add_row(
                str(playbook.pk),
                playbook.name,
                playbook.status,
                trigger_describe(playbook),
                str(sum(1 for _s in iter_steps(playbook.steps or []))),
                str(playbook.runs.count()),
            )
        self._print(table)

    def _gallery(self, options: dict[str, Any]) -> None:
        table = Table("Key", "Name", "Installed", "Description")
        for entry in playbook_gallery():
            installed = entry.installed
            table.add_row(
                entry.key,
                str(entry.name),
                f"#{installed.pk} {installed.status}" if installed else "no",
                str(entry.description),
            )
        self._print(table)

    def _show(self, options: dict[str, Any]) -> None:
        from tend.segments.conditions import ConditionError, condition_describe

        playbook = self._playbook(options["playbook"])
        self.stdout.write(
            f"{playbook.name} (#{playbook.pk}, {playbook.status}, v{playbook.version})"
        )
        self.stdout.write(f"Trigger: {trigger_describe(playbook)}")
        if playbook.condition:
            try:
                self.stdout.write(f"Only if: {condition_describe(playbook.condition)}")
            except ConditionError as exc:
                self.stdout.write(f"Only if: INVALID {exc.text()}")
        self.stdout.write(f"Re-entry: {playbook.get_reentry_display()}")
        if playbook.holdout_percent:
            self.stdout.write(f"Control group: {playbook.holdout_percent} %")
        self._steps(playbook.steps or [], 1)

    def _steps(self, steps: list[dict[str, Any]], depth: int) -> None:
        for step in steps:
            self.stdout.write(f"{'  ' * depth}{step.get('id')}: {step_describe(step)}")
            for arm in ("then", "else"):
                if step.get(arm):
                    self.stdout.write(f"{'  ' * (depth + 1)}{arm}:")
                    self._steps(step[arm], depth + 2)

    def _install(self, options: dict[str, Any]) -> None:
        playbook = playbook_install(key=options["key"], by=self._user(options))
        self.stdout.write(
            self.style.SUCCESS(
                f"Installed “{playbook.name}” (#{playbook.pk}) as a {playbook.status}."
            )
        )

    def _status(self, options: dict[str, Any]) -> None:
        playbook = self._playbook(options["playbook"])
        action = options["action"]
        if action == "resume" and playbook.status != "paused":
            raise CommandError(f"playbook: “{playbook.name}” is not paused.")
        playbook_set_status(
            playbook=playbook, status=STATUS_OF[action], by=self._user(options), label=LABEL
        )
        self.stdout.write(self.style.SUCCESS(f"“{playbook.name}” is now {playbook.status}."))

    def _start(self, options: dict[str, Any]) -> None:
        playbook = self._playbook(options["playbook"])
        customers: Any
        if options.get("segment"):
            from tend.segments.models import Segment

            ref = options["segment"]
            segment = Segment.objects.filter(
                pk=int(ref) if ref.isdigit() and len(ref) < 19 else 0
            ).first()
            if segment is None:
                raise CommandError(f"--segment: no segment with the id {ref!r}.")
            customers = Customer.objects.filter(segment_memberships__segment=segment)
        elif options["customer"]:
            ids = []
            for ref in options["customer"]:
                if not (ref.isdigit() and len(ref) < 19):
                    raise CommandError(f"--customer: {ref!r} is not a customer id.")
                ids.append(int(ref))
            found = set(Customer.objects.filter(pk__in=ids).values_list("pk", flat=True))
            missing = sorted(set(ids) - found)
            if missing:
                raise CommandError(f"--customer: no customer with the id {missing[0]}.")
            customers = ids
        else:
            raise CommandError("Give --customer ID (one or more) or --segment ID.")
        started = playbook_start(
            playbook=playbook, customers=customers, by=self._user(options), label=LABEL
        )
        self.stdout.write(self.style.SUCCESS(f"Started {started} run(s) of “{playbook.name}”."))

    def _dry_run(self, options: dict[str, Any]) -> None:
        if not 1 <= options["limit"] <= 500:
            raise CommandError("--limit: give 1 to 500.")
        playbook = self._playbook(options["playbook"])
        dry = playbook_dry_run(playbook=playbook, limit=options["limit"])
        self.stdout.write(f"{playbook.name}: {dry.trigger}")
        for note in dry.notes:
            self.stdout.write(f"  {note}")
        self.stdout.write(
            f"Found {dry.candidates}; {dry.not_matching} do not match the condition; "
            f"{dry.already} left out by re-entry; showing {len(dry.customers)}."
        )
        for entry in dry.customers:
            group = " (control group: nothing)" if entry.group == "control" else ""
            self.stdout.write(f"- {entry.customer.pk} {entry.customer.name}{group}")
            for step in entry.steps:
                self.stdout.write(f"    {step.step_id}: {step.text}")
        self.stdout.write("Nothing was written (dry run).")

    def _runs(self, options: dict[str, Any]) -> None:
        playbook = self._playbook(options["playbook"])
        table = Table("Run", "Customer", "Occurrence", "Status", "Next step", "Due", "Error")
        rows = PlaybookRun.objects.filter(playbook=playbook).select_related("customer")
        for run in rows.order_by("-started_at", "-pk")[: max(1, options["limit"])]:
            table.add_row(
                str(run.pk),
                f"{run.customer_id} {run.customer.name}",
                run.occurrence,
                run.status,
                "/".join(run.position) or "—",
                run.next_at.isoformat(timespec="minutes") if run.next_at else "—",
                run.last_error[:60],
            )
        self._print(table)

    def _advance(self, options: dict[str, Any]) -> None:
        total = 0
        while True:
            done = runs_advance(limit=max(1, options["limit"]))
            total += done
            if not done:
                break
        self.stdout.write(self.style.SUCCESS(f"{total} step(s) run."))

    def _scan(self, options: dict[str, Any]) -> None:
        read = playbooks_react()
        created = playbooks_scan()
        self.stdout.write(
            self.style.SUCCESS(
                f"{read} customer change(s) read; {created} run(s) started by scans."
            )
        )
