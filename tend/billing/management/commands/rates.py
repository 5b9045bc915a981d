"""``tend rates list|set|delete``: the exchange rates that count other currencies' MRR.

A rate is how much of the reporting currency (``TEND_CURRENCY``) one unit of a currency is
worth from a day on: ``tend rates set EUR 1.08 --from 2026-01-01`` when reporting in USD.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tend.accounts.models import User
from tend.billing.actions import exchange_rate_delete, exchange_rate_set
from tend.billing.currency import reporting_currency
from tend.billing.models import ExchangeRate

LABEL = "cli"


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"--from: “{value}” is not a date; write it as YYYY-MM-DD, e.g. 2026-01-01."
        ) from None


class Command(BaseCommand):
    help = "List, set and delete the exchange rates used to count MRR in other currencies."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="list|set|delete")
        listing = actions.add_parser("list", help="list the stored rates")
        listing.add_argument("--currency", help="only this currency, e.g. EUR")
        put = actions.add_parser(
            "set", help="set a rate from a day on (replaces the rate of that day, if any)"
        )
        put.add_argument("currency", help="three-letter ISO 4217 code, e.g. EUR")
        put.add_argument(
            "rate", help="units of the reporting currency (TEND_CURRENCY) for 1 unit, e.g. 1.08"
        )
        put.add_argument(
            "--from", dest="valid_from", help="first day it applies, YYYY-MM-DD (default: today)"
        )
        put.add_argument("--user", help="username recorded as setting it (default: cli)")
        delete = actions.add_parser("delete", help="delete the rate of a currency from a day")
        delete.add_argument("currency")
        delete.add_argument("--from", dest="valid_from", required=True, help="YYYY-MM-DD")
        delete.add_argument("--user", help="username recorded as deleting it (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _user(self, username: str | None) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active user called {username!r}.")
        return user

    def _list(self, options: dict[str, Any]) -> None:
        rates = ExchangeRate.objects.select_related("created_by").order_by("currency", "valid_from")
        if options["currency"]:
            rates = rates.filter(currency=options["currency"].strip().upper())
        rows = list(rates)
        if not rows:
            self.stdout.write(
                f"No exchange rates. Every subscription must be in {reporting_currency()}, "
                "or add one: tend rates set EUR 1.08 --from 2026-01-01"
            )
            return
        reporting = reporting_currency()
        table = Table(
            "Currency",
            f"{reporting} per 1",
            "From",
            "Until",
            "Set by",
            "Set at",
            title=f"Exchange rates into {reporting}",
        )
        for i, rate in enumerate(rows):
            later = rows[i + 1] if i + 1 < len(rows) else None
            until = (
                (later.valid_from - timedelta(days=1)).isoformat()
                if later is not None and later.currency == rate.currency
                else "—"
            )
            table.add_row(
                rate.currency,
                rate.rate_text,
                rate.valid_from.isoformat(),
                until,
                rate.created_by.username if rate.created_by else LABEL,
                f"{rate.created_at:%Y-%m-%d %H:%M}",
            )
        buffer = io.StringIO()
        Console(file=buffer, width=100).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _set(self, options: dict[str, Any]) -> None:
        day = _day(options["valid_from"]) if options["valid_from"] else datetime.now(UTC).date()
        by = self._user(options["user"])
        try:
            rate = exchange_rate_set(
                currency=options["currency"],
                rate=options["rate"],
                valid_from=day,
                by=by,
                label="" if by else LABEL,
            )
        except ValidationError as exc:
            raise CommandError(_problems(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"1 {rate.currency} = {rate.rate_text} {reporting_currency()} "
                f"from {rate.valid_from.isoformat()}."
            )
        )

    def _delete(self, options: dict[str, Any]) -> None:
        day = _day(options["valid_from"])
        code = options["currency"].strip().upper()
        rate = ExchangeRate.objects.filter(currency=code, valid_from=day).first()
        if rate is None:
            raise CommandError(f"No {code} rate starts on {day.isoformat()}; see tend rates list.")
        by = self._user(options["user"])
        exchange_rate_delete(rate=rate, by=by, label="" if by else LABEL)
        self.stdout.write(self.style.SUCCESS(f"Deleted the {code} rate from {day.isoformat()}."))


def _problems(exc: ValidationError) -> str:
    names = {"valid_from": "--from"}
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return "\n".join(
        f"{names.get(field, field)}: {' '.join(messages)}"
        for field, messages in exc.message_dict.items()
    )
