"""``tend contacts consent EMAIL [granted|withdrawn|unknown]``: a contact's marketing-email
consent and unsubscribe state, read or changed from the command line.

    tend contacts consent ana@example.com              # every contact with it, and whether
                                                       # outreach may reach the address
    tend contacts consent ana@example.com withdrawn    # on every contact with the address
    tend contacts consent ana@example.com granted --contact 42 --user alice
"""

from __future__ import annotations

import io
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rich.console import Console
from rich.table import Table

from tend.accounts.models import User
from tend.customers.consent import (
    consent_set,
    consent_state,
    email_allowed,
    email_normal,
    suppression_reason,
)
from tend.customers.models import Contact

LABEL = "cli"


class Command(BaseCommand):
    help = "Read or change contacts' marketing-email consent."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="consent")
        consent = actions.add_parser("consent", help="read or set consent for an email address")
        consent.add_argument("email")
        consent.add_argument("state", nargs="?", help="granted, withdrawn or unknown")
        consent.add_argument("--contact", type=int, help="only this contact id")
        consent.add_argument("--user", help="username recorded as acting (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        email = email_normal(options["email"]).replace("\x00", "")
        if not email or len(email) > 254:
            raise CommandError("email: give an email address.")
        contacts = Contact.objects.filter(email__iexact=email).select_related("customer")
        if options["contact"] is not None:
            contacts = contacts.filter(pk=options["contact"])
        found = list(contacts.order_by("pk"))
        if options["state"]:
            try:
                state = consent_state(options["state"], field="state")
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            if not found:
                raise CommandError(f"email: no contact has the address {email!r}.")
            user = self._user(options.get("user"))
            with transaction.atomic():
                changed = sum(
                    consent_set(contact=c, state=state, source="cli", by=user, label=LABEL)
                    for c in found
                )
            self.stdout.write(
                self.style.SUCCESS(f"{changed} of {len(found)} contacts set to {state}.")
            )
            found = list(contacts.order_by("pk"))
        table = Table("Contact", "Customer", "Consent", "Changed", "Source")
        for c in found:
            changed_at = f"{c.consent_changed_at:%Y-%m-%d %H:%M}" if c.consent_changed_at else "—"
            table.add_row(
                f"#{c.pk} {c.name}",
                c.customer.name,
                c.marketing_consent,
                changed_at,
                c.consent_source or "—",
            )
        buffer = io.StringIO()
        Console(file=buffer, width=160).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
        allowed, reason = email_allowed(email)
        suppressed = suppression_reason(email)
        self.stdout.write(f"Suppression list: {suppressed or 'not on it'}")
        self.stdout.write(
            "Outreach emails: " + ("may be sent" if allowed else f"not sent ({reason})")
        )

    def _user(self, name: str | None) -> User | None:
        if not name:
            return None
        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active user called {name!r}.")
        return user
