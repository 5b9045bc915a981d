"""``tend changes react|list``: the customer-change outbox from the command line.

``tend changes react`` hands each registered consumer (lifecycle rules, …) its unread changes
now, as the scheduler does every few minutes; ``tend changes list`` shows the latest changes,
of one customer with ``--customer ID``.
"""

from __future__ import annotations

import io
import json
from datetime import UTC
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tend.changes.consumers import consumers, consumers_run
from tend.changes.models import ChangeKind, CustomerChange
from tend.customers.models import Customer

MAX_LIMIT = 10_000


def _positive(name: str, value: str, *, most: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise CommandError(f"{name}: “{value}” is not a whole number.") from None
    if not 1 <= number <= most:
        raise CommandError(f"{name}: give a number from 1 to {most}.")
    return number


class Command(BaseCommand):
    help = "Run the outbox's consumers now, or list recent customer changes."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="react|list")
        actions.add_parser("react", help="hand every consumer its unread changes now")
        listing = actions.add_parser("list", help="the latest changes, newest first")
        listing.add_argument("--customer", help="only this customer's changes (its id)")
        listing.add_argument("--kind", choices=ChangeKind.values, help="only changes of this kind")
        listing.add_argument("--limit", default="50", help="how many (default 50)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _react(self, options: dict[str, Any]) -> None:
        if not list(consumers):
            self.stdout.write("No consumers are registered; nothing reacts to changes.")
            return
        for name, handled in consumers_run().items():
            self.stdout.write(f"{name}: {handled} changes handled")

    def _list(self, options: dict[str, Any]) -> None:
        limit = _positive("--limit", options["limit"], most=MAX_LIMIT)
        rows = CustomerChange.objects.select_related("customer").order_by("-id")
        title = "Customer changes"
        if options["customer"] is not None:
            pk = _positive("--customer", options["customer"], most=2**63 - 1)
            customer = Customer.objects.filter(pk=pk).first()
            if customer is None:
                raise CommandError(f"--customer: there is no customer with id {pk}.")
            rows = rows.filter(customer=customer)
            title = f"Changes of {customer.name} ({customer.pk})"
        if options["kind"]:
            rows = rows.filter(kind=options["kind"])
        found = list(rows[:limit])
        if not found:
            self.stdout.write("No changes recorded.")
            return
        table = Table("Id", "At (UTC)", "Customer", "Kind", "Data", title=title)
        for row in found:
            table.add_row(
                str(row.id),
                f"{row.at.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
                escape(f"{row.customer.name} ({row.customer_id})"),
                row.kind,
                escape(json.dumps(row.data, ensure_ascii=False, sort_keys=True)[:200]),
            )
        buffer = io.StringIO()
        Console(file=buffer, width=160).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
