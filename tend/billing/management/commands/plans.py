"""``tend plans list|create|update|archive|restore``: the Plans page from the command line.

``tend plans create team --name Team --price 99 --interval month`` offers a plan;
``tend plans archive team`` stops offering it (customers and subscriptions on it keep it).
Every field at fault is reported at once, one line per field.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tend.accounts.models import User
from tend.billing.actions import plan_archive, plan_create, plan_restore, plan_update
from tend.billing.models import Interval, Plan

LABEL = "cli"


def _refusal(exc: ValidationError) -> CommandError:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"plan": exc.messages}
    return CommandError("\n".join(f"{field}: {' '.join(m)}" for field, m in errors.items()))


class Command(BaseCommand):
    help = "List, create, change, archive and restore plans."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="list|create|update|archive|restore"
        )
        listing = actions.add_parser("list", help="every plan, offered first")
        listing.add_argument("--offered", action="store_true", help="only offered plans")
        create = actions.add_parser("create", help="offer a new plan")
        create.add_argument("code", help="letters, digits, - and _, e.g. pro-monthly")
        create.add_argument("--name", required=True)
        create.add_argument("--price", required=True, help="per interval, e.g. 49 or 49.90")
        create.add_argument("--interval", default="month", help="|".join(Interval.values))
        create.add_argument("--currency", help="ISO 4217 code (default: TEND_CURRENCY)")
        update = actions.add_parser("update", help="change the fields given")
        update.add_argument("code", help="the plan's current code")
        update.add_argument("--code", dest="new_code", help="a new code")
        for name in ("name", "price", "interval", "currency"):
            update.add_argument(f"--{name}")
        for name, text in [("archive", "stop offering a plan"), ("restore", "offer it again")]:
            sub = actions.add_parser(name, help=text)
            sub.add_argument("code")
        for name, sub in actions.choices.items():
            if name != "list":
                sub.add_argument("--user", help="username recorded as acting (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _by(self, options: dict[str, Any]) -> User | None:
        username = options.get("user")
        if not username:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active user called {username!r}.")
        return user

    def _plan(self, code: str) -> Plan:
        plan = Plan.objects.filter(code=code).first()
        if plan is None:
            raise CommandError(f"code: no plan with the code {code!r}.")
        return plan

    def _list(self, options: dict[str, Any]) -> None:
        plans = Plan.objects.offered() if options["offered"] else Plan.objects.all()
        table = Table("Code", "Name", "Price", "Interval", "Status")
        for plan in plans.order_by("-is_active", "price", "name"):
            table.add_row(
                plan.code,
                plan.name,
                f"{plan.price} {plan.currency}",
                plan.interval,
                "offered" if plan.is_active else "archived",
            )
        buffer = io.StringIO()
        Console(file=buffer, width=120).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _create(self, options: dict[str, Any]) -> None:
        try:
            plan = plan_create(
                code=options["code"],
                name=options["name"],
                price=options["price"],
                interval=options["interval"],
                currency=options["currency"],
                by=self._by(options),
                label=LABEL,
            )
        except ValidationError as exc:
            raise _refusal(exc) from None
        self.stdout.write(self.style.SUCCESS(f"Created plan {plan.code!r} ({plan.name})."))

    def _update(self, options: dict[str, Any]) -> None:
        plan = self._plan(options["code"])
        changes = {
            field: options[field]
            for field in ("name", "price", "interval", "currency")
            if options[field] is not None
        }
        if options["new_code"] is not None:
            changes["code"] = options["new_code"]
        try:
            plan = plan_update(plan=plan, by=self._by(options), label=LABEL, **changes)
        except ValidationError as exc:
            raise _refusal(exc) from None
        self.stdout.write(self.style.SUCCESS(f"Saved plan {plan.code!r}."))

    def _archive(self, options: dict[str, Any]) -> None:
        plan = plan_archive(plan=self._plan(options["code"]), by=self._by(options), label=LABEL)
        self.stdout.write(self.style.SUCCESS(f"Plan {plan.code!r} is archived: no longer offered."))

    def _restore(self, options: dict[str, Any]) -> None:
        plan = plan_restore(plan=self._plan(options["code"]), by=self._by(options), label=LABEL)
        self.stdout.write(self.style.SUCCESS(f"Plan {plan.code!r} is offered again."))
