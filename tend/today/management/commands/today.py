"""``tend today``: the Today list in the terminal, and its actions.

``tend today`` prints the same list, in the same order, as the Today page and
``GET /api/v1/today`` (``--json`` prints the API's items); ``tend today snooze ID --days 7``
and ``tend today handled ID`` act on an item (ID is the first column).
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from rich.console import Console
from rich.table import Table

from tend.accounts.models import User
from tend.lib.money import format_money
from tend.today.actions import MAX_SNOOZE_DAYS, today_date, today_handle, today_snooze
from tend.today.api import item_out
from tend.today.models import TodayItem
from tend.today.queries import TodayFilters, today_items

LABEL = "cli"


def _refusal(exc: ValidationError) -> CommandError:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"item": exc.messages}
    return CommandError("\n".join(f"{field}: {' '.join(m)}" for field, m in errors.items()))


class Command(BaseCommand):
    help = "Show who needs you today, and why; snooze an item or mark it handled."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--owner", help="only customers this username owns")
        parser.add_argument("--signal", default="", help="only items with this reason")
        parser.add_argument("--limit", type=int, default=50, help="how many (1–200, default 50)")
        parser.add_argument("--offset", type=int, default=0, help="skip this many")
        parser.add_argument("--json", action="store_true", help="print the API's JSON")
        actions = parser.add_subparsers(dest="action", required=False, metavar="snooze|handled")
        snooze = actions.add_parser("snooze", help="hide an item for some days")
        snooze.add_argument("id", type=int, help="the item's id (first column)")
        snooze.add_argument("--days", type=int, required=True, help=f"1–{MAX_SNOOZE_DAYS}")
        handled = actions.add_parser("handled", help="mark an item handled")
        handled.add_argument("id", type=int, help="the item's id (first column)")
        for sub in (snooze, handled):
            sub.add_argument("--user", help="username recorded as acting (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options.get("action")
        if action == "snooze":
            self._act(options, lambda item, by: today_snooze(
                item=item, days=options["days"], by=by, label="" if by else LABEL
            ))  # fmt: skip
        elif action == "handled":
            self._act(options, lambda item, by: today_handle(
                item=item, by=by, label="" if by else LABEL
            ))  # fmt: skip
        else:
            self._list(options)

    def _user(self, username: str | None, option: str) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"{option}: no active user called {username!r}.")
        return user

    def _act(self, options: dict[str, Any], act: Any) -> None:
        by = self._user(options.get("user"), "--user")
        item = TodayItem.objects.select_related("customer").filter(pk=options["id"]).first()
        if item is None:
            raise CommandError(f"id: no Today item {options['id']}.")
        try:
            item = act(item, by)
        except ValidationError as exc:
            raise _refusal(exc) from None
        if item.snoozed_until and options["action"] == "snooze":
            self.stdout.write(f"{item.customer.name}: snoozed until {item.snoozed_until}.")
        else:
            self.stdout.write(
                f"{item.customer.name}: handled; it comes back only with a new reason."
            )

    def _list(self, options: dict[str, Any]) -> None:
        limit, offset = options["limit"], options["offset"]
        if not 1 <= limit <= 200:
            raise CommandError("--limit: give 1 to 200.")
        if offset < 0:
            raise CommandError("--offset: give 0 or more.")
        owner = self._user(options.get("owner"), "--owner")
        filters = TodayFilters(mine=owner is not None, signal=options["signal"])
        try:
            qs = today_items(on=today_date(), user=owner, filters=filters)
            items = list(qs[offset : offset + limit])
        except ValidationError as exc:
            raise _refusal(exc) from None
        count = qs.count()
        if options["json"]:
            page = {
                "items": [item_out(item) for item in items],
                "count": count,
                "limit": limit,
                "offset": offset,
            }
            self.stdout.write(json.dumps(page, cls=DjangoJSONEncoder, ensure_ascii=False))
            return
        table = Table("ID", "#", "Customer", "Reason", "MRR", "At stake", "Health")
        for item in items:
            row = item_out(item)
            more = len(row["reasons"]) - 1
            reason = row["reason"] + (f" (+{more} more)" if more > 0 else "")
            table.add_row(
                str(item.pk),
                str(item.rank),
                item.customer.name,
                reason,
                format_money(item.customer.mrr),
                format_money(item.money_at_stake),
                row["health_colour"] or "—",
            )
        buffer = io.StringIO()
        Console(file=buffer, width=160, force_terminal=False).print(table)
        self.stdout.write(buffer.getvalue().rstrip("\n"))
        self.stdout.write(
            f"{count} customer(s) need you today; money at stake = monthly value × risk "
            "(docs/today.md)."
        )
