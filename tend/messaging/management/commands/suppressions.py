"""``tend suppressions list|add EMAIL [--note]|remove EMAIL``: the addresses Tend never emails."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from rich.table import Table

from tend.messaging.actions import suppression_add, suppression_remove
from tend.messaging.management.commands._common import LABEL, TableCommand, errors_of
from tend.messaging.models import Suppression, SuppressionReason


class Command(TableCommand):
    help = "List, add or remove suppressed email addresses."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="list|add|remove")
        listing = actions.add_parser("list", help="suppressed addresses, newest first")
        listing.add_argument("--limit", type=int, default=200)
        add = actions.add_parser("add", help="never email this address")
        add.add_argument("email")
        add.add_argument("--note", default="")
        add.add_argument("--user", help="username recorded as acting (default: cli)")
        remove = actions.add_parser("remove", help="take an address off the list")
        remove.add_argument("email")
        remove.add_argument("--user", help="username recorded as acting (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"])(options)

    def _list(self, options: dict[str, Any]) -> None:
        if not 1 <= options["limit"] <= 100_000:
            raise CommandError("--limit: give 1 to 100000.")
        table = Table("Email", "Reason", "Since", "Note")
        for row in Suppression.objects.order_by("-created_at", "-pk")[: options["limit"]]:
            table.add_row(row.email, row.reason, f"{row.created_at:%Y-%m-%d}", row.note[:80])
        self.print_table(table)

    def _add(self, options: dict[str, Any]) -> None:
        if len(options["note"]) > 300:
            raise CommandError("--note: at most 300 characters.")
        try:
            row, created = suppression_add(
                email=options["email"],
                reason=SuppressionReason.MANUAL,
                note=options["note"],
                by=self.acting_user(options),
                label=LABEL,
            )
        except ValidationError as exc:
            raise CommandError(errors_of(exc)) from None
        verb = "added" if created else "was on the list already"
        self.stdout.write(self.style.SUCCESS(f"{row.email} {verb}."))

    def _remove(self, options: dict[str, Any]) -> None:
        email = options["email"].strip().lower()
        row = Suppression.objects.filter(email=email).first()
        if row is None:
            raise CommandError(f"email: {email!r} is not on the suppression list.")
        suppression_remove(suppression=row, by=self.acting_user(options), label=LABEL)
        self.stdout.write(self.style.SUCCESS(f"{email} removed."))
