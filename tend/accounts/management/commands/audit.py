"""``tend audit``: the audit log in the terminal, with the filters of the ``/audit/`` page.

``--since``/``--until`` are days in the business time zone (``TEND_TIME_ZONE``) and the range
is half-open: ``--since 2026-01-01 --until 2026-02-01`` is all of January. ``--csv FILE``
writes every matching entry to FILE (``-`` for standard output) instead of the table.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from tend.accounts.audit_queries import (
    AuditFilterError,
    changes_lines,
    csv_lines,
    entries_filtered,
    filters_parse,
    page_of,
    who,
)
from tend.accounts.audit_words import action_words


class Command(BaseCommand):
    help = "Show or export the audit log: who changed what, when and from where."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="a username, or an actor label such as api:crm-sync")
        parser.add_argument("--customer", help="only entries about this customer id")
        parser.add_argument("--action", help="an action name, e.g. customer.update")
        parser.add_argument("--since", help="first day included, YYYY-MM-DD")
        parser.add_argument("--until", help="first day NOT included, YYYY-MM-DD")
        parser.add_argument("--limit", type=int, default=50, help="rows in the table (1–1000)")
        parser.add_argument("--csv", metavar="FILE", help="write CSV to FILE ('-': stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            filters = filters_parse(
                {key: options.get(key) for key in ("user", "customer", "action", "since", "until")}
            )
        except AuditFilterError as exc:
            raise CommandError(f"--{exc.field}: {exc.message}") from None
        qs = entries_filtered(filters)
        if options["csv"]:
            self._csv(qs, options["csv"])
            return
        limit = options["limit"]
        if not 1 <= limit <= 1000:
            raise CommandError("--limit: give a number from 1 to 1000.")
        entries = page_of(qs, size=limit).entries
        if not entries:
            self.stdout.write("No audit entries match.")
            return
        table = Table(show_lines=False)
        for name in ("When", "Who", "Action", "Object", "Customer", "From", "Changes"):
            table.add_column(name, overflow="fold")
        for e in entries:
            changes = "; ".join(
                f"{f + ': ' if f else ''}{b}{' → ' + a if a is not None else ''}"
                for f, b, a in changes_lines(e.changes)
            )
            table.add_row(
                timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                who(e),
                f"{action_words(e.action)} ({e.action})",
                f"{e.object_type} #{e.object_id}",
                str(e.customer_id or ""),
                " ".join(x for x in (e.ip or "", e.via) if x),
                changes,
            )
        buffer = io.StringIO()
        Console(file=buffer, width=160).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _csv(self, qs: Any, target: str) -> None:
        if target == "-":
            for line in csv_lines(qs, bom=False):
                self.stdout.write(line, ending="")
            return
        try:
            with open(target, "w", encoding="utf-8", newline="") as fh:
                rows = -1
                for line in csv_lines(qs):
                    fh.write(line)
                    rows += 1
        except OSError as exc:
            raise CommandError(f"--csv: cannot write {target}: {exc.strerror}") from None
        self.stderr.write(f"Wrote {rows} audit entries to {target}.")
