"""``tend privacy export|erase|erase-contact|erasures``: a customer's data and its erasure.

CUSTOMER is a customer's id or its external id. Erasing asks for ``--yes`` (it cannot be
undone); ``--user NAME`` records who ran it (an owner), else the audit log says ``cli``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tend.accounts.models import Role, User
from tend.customers.models import Contact, Customer
from tend.privacy.actions import contact_erase, customer_erase, customer_export, export_filename
from tend.privacy.models import Erasure

LABEL = "cli"


def _refusal(exc: ValidationError) -> CommandError:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"erase": exc.messages}
    return CommandError("\n".join(f"{field}: {' '.join(m)}" for field, m in errors.items()))


def find_customer(value: str) -> Customer:
    """A customer by id, else by external id."""
    value = value.strip()
    customer = None
    if value.isdigit() and len(value) < 19:
        customer = Customer.objects.filter(pk=int(value)).first()
    if customer is None and value and "\x00" not in value:
        customer = Customer.objects.filter(external_id=value).first()
    if customer is None:
        raise CommandError(f"CUSTOMER: no customer with id or external id “{value[:60]}”.")
    return customer


class Command(BaseCommand):
    help = "Export everything held about a customer; erase a customer or a contact."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="export|erase|erase-contact|erasures"
        )
        export = actions.add_parser("export", help="write a customer's data as a ZIP")
        export.add_argument("customer", metavar="CUSTOMER", help="id or external id")
        export.add_argument(
            "-o", "--output", help="file to write (default: a dated name; - for stdout)"
        )
        erase = actions.add_parser("erase", help="erase a customer (cannot be undone)")
        erase.add_argument("customer", metavar="CUSTOMER", help="id or external id")
        erase.add_argument("--yes", action="store_true", help="really erase")
        erase.add_argument("--reference", default="", help="your note, e.g. a ticket number")
        contact = actions.add_parser("erase-contact", help="erase one contact")
        contact.add_argument("id", type=int, help="the contact's id")
        contact.add_argument("--yes", action="store_true", help="really erase")
        contact.add_argument("--reference", default="", help="your note, e.g. a ticket number")
        listing = actions.add_parser("erasures", help="list past erasures")
        listing.add_argument("--limit", type=int, default=100)
        for sub in actions.choices.values():
            sub.add_argument("--user", help="who is running this (username; default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        user = self._user(options.get("user"))
        label = "" if user else LABEL
        if action == "export":
            if user is not None and user.role not in {Role.OWNER, Role.MEMBER}:
                raise CommandError(f"--user: {user.username} is a viewer and cannot export.")
            self._export(find_customer(options["customer"]), options.get("output"), user, label)
            return
        if action == "erasures":
            self._list(options["limit"])
            return
        if user is not None and user.role != Role.OWNER:
            raise CommandError(f"--user: {user.username} is not an owner; only owners erase.")
        if not options["yes"]:
            raise CommandError("Erasing cannot be undone: add --yes to erase.")
        try:
            if action == "erase":
                customer = find_customer(options["customer"])
                erasure = customer_erase(
                    customer=customer, by=user, label=label, reference=options["reference"]
                )
                self.stdout.write(
                    f"Erased customer #{customer.pk}: {erasure.total} rows removed or anonymised "
                    f"(erasure {erasure.pk})."
                )
            else:
                contact = Contact.objects.filter(pk=options["id"]).first()
                if contact is None:
                    raise CommandError(f"id: no contact with id {options['id']}.")
                erasure = contact_erase(
                    contact=contact, by=user, label=label, reference=options["reference"]
                )
                self.stdout.write(
                    f"Erased contact #{erasure.subject_id}: {erasure.total} rows removed or "
                    f"anonymised (erasure {erasure.pk})."
                )
        except ValidationError as exc:
            raise _refusal(exc) from None

    def _export(
        self, customer: Customer, output: str | None, user: User | None, label: str
    ) -> None:
        data = customer_export(customer=customer, by=user, label=label)
        if output == "-":
            sys.stdout.buffer.write(data)
            return
        path = Path(output or export_filename(customer))
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise CommandError(f"--output: cannot write {path}: {exc.strerror}") from None
        self.stdout.write(f"Wrote {path} ({len(data):,} bytes).")

    def _list(self, limit: int) -> None:
        table = Table("id", "when (UTC)", "what", "by", "reference", "rows")
        for e in Erasure.objects.order_by("-at", "-pk")[: max(1, min(limit, 10_000))]:
            table.add_row(
                str(e.pk),
                f"{e.at:%Y-%m-%d %H:%M}",
                f"{e.kind} #{e.subject_id}",
                e.actor_label,
                e.reference,
                str(e.total),
            )
        buffer = io.StringIO()
        Console(file=buffer, width=120).print(table)
        self.stdout.write(buffer.getvalue().rstrip("\n"))

    def _user(self, username: str | None) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active user “{username[:60]}”.")
        return user
