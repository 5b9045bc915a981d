"""``tend lifecycle rules|run [--dry-run]|clear-override CUSTOMER``.

``rules`` prints the rules in evaluation order (first match wins); ``run`` reads the pending
customer changes and applies every enabled rule to every customer now (``--dry-run`` only
prints who would move); ``clear-override`` lets the rules move a customer whose stage was set
by hand (CUSTOMER is an id or an external id).
"""

from __future__ import annotations

import io
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tend.accounts.models import User
from tend.customers.models import Customer
from tend.lifecycle.actions import stage_override_clear
from tend.lifecycle.engine import lifecycle_evaluate, lifecycle_react
from tend.lifecycle.models import LifecycleRule
from tend.segments.conditions import ConditionError, condition_describe, condition_parse

LABEL = "cli"


class Command(BaseCommand):
    help = "Show the lifecycle rules, apply them now, or clear a customer's stage override."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="rules|run|clear-override"
        )
        actions.add_parser("rules", help="the rules in evaluation order")
        run = actions.add_parser("run", help="apply the enabled rules to every customer now")
        run.add_argument("--dry-run", action="store_true", help="only print who would move")
        run.add_argument("--show", type=int, default=20, help="moves listed per rule (20)")
        clear = actions.add_parser("clear-override", help="let the rules move a customer again")
        clear.add_argument("customer", help="the customer's id or external id")
        clear.add_argument("--user", help="username recorded as acting (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _print(self, table: Table) -> None:
        buffer = io.StringIO()
        Console(file=buffer, width=140).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _rules(self, options: dict[str, Any]) -> None:
        table = Table("#", "Id", "Name", "Move to", "Only from", "Enabled", "When")
        for i, rule in enumerate(LifecycleRule.objects.in_order(), 1):
            try:
                when = condition_describe(condition_parse(rule.condition))
            except ConditionError as exc:
                when = f"INVALID: {exc.text()}"
            table.add_row(
                str(i),
                str(rule.pk),
                rule.label,
                rule.stage,
                ", ".join(rule.from_stages) or "any",
                "yes" if rule.enabled else "no",
                when,
            )
        self._print(table)

    def _run(self, options: dict[str, Any]) -> None:
        if options["show"] < 0:
            raise CommandError("--show: give 0 or more.")
        dry = options["dry_run"]
        if not dry:
            lifecycle_react(evaluate=False)
        evaluation = lifecycle_evaluate(apply=not dry)
        table = Table("Rule", "Move to", "Decided", "Moved" if not dry else "Would move")
        for outcome in evaluation.outcomes:
            table.add_row(
                outcome.rule.label,
                outcome.rule.stage,
                str(outcome.matched),
                str(len(outcome.moved)),
            )
        self._print(table)
        for outcome in evaluation.outcomes:
            for customer in outcome.moved[: options["show"]]:
                before = outcome.previous.get(customer.pk, "")
                self.stdout.write(
                    f"  {customer.pk} {customer.name}: {before} → {outcome.rule.stage}"
                )
            extra = len(outcome.moved) - options["show"]
            if extra > 0:
                self.stdout.write(f"  … and {extra} more to {outcome.rule.stage}")
        verb = "would move" if dry else "moved"
        self.stdout.write(
            self.style.SUCCESS(f"{evaluation.moved} customers {verb}.")
            + (" Nothing was changed (dry run)." if dry else "")
        )

    def _clear_override(self, options: dict[str, Any]) -> None:
        ref = options["customer"]
        customer = None
        if ref.isdigit() and len(ref) < 19:
            customer = Customer.objects.filter(pk=int(ref)).first()
        if customer is None:
            customer = Customer.objects.filter(external_id=ref).first()
        if customer is None:
            raise CommandError(f"customer: no customer with the id or external id {ref!r}.")
        by: User | None = None
        if options.get("user"):
            by = User.objects.filter(username=options["user"], is_active=True).first()
            if by is None:
                raise CommandError(f"--user: no active user called {options['user']!r}.")
        if not stage_override_clear(customer=customer, by=by, label=LABEL):
            raise CommandError(f"customer: {customer.name} has no stage override to clear.")
        customer.refresh_from_db()
        self.stdout.write(
            self.style.SUCCESS(
                f"Override cleared: the rules now have {customer.name} in {customer.stage}."
            )
        )
