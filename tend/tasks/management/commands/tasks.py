"""``tend tasks list|add|done|snooze|assign|reopen``: tasks in the terminal.

``tend tasks list`` selects and orders tasks as the Tasks page and ``GET /api/v1/tasks`` do
(``--json`` prints the API's items). ``--user NAME`` says who is running the command: actions
are recorded as that user's, and ``--mine`` means the tasks assigned to them. The ID is the
first column of the list.
"""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder
from rich.console import Console
from rich.table import Table

from tend.accounts.models import Role, User
from tend.customers.models import Customer
from tend.tasks.actions import (
    task_complete,
    task_create,
    task_reassign,
    task_reopen,
    task_snooze,
)
from tend.tasks.api import task_out
from tend.tasks.models import Task
from tend.tasks.queries import TaskFilters, playbook_names, tasks_filtered
from tend.today.actions import today_date

LABEL = "cli"


def _refusal(exc: ValidationError) -> CommandError:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"task": exc.messages}
    return CommandError("\n".join(f"{field}: {' '.join(m)}" for field, m in errors.items()))


def _day(value: str, field: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"{field}: “{value[:40]}” is not a date; write it as YYYY-MM-DD, e.g. 2026-01-31."
        ) from None


class Command(BaseCommand):
    help = "List tasks; add one; complete, snooze, reassign or reopen a task."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="list|add|done|snooze|assign|reopen"
        )
        listing = actions.add_parser("list", help="open tasks, soonest due first")
        listing.add_argument("--mine", action="store_true", help="only tasks assigned to --user")
        listing.add_argument("--assignee", help="only tasks assigned to this username")
        listing.add_argument("--customer", type=int, help="only this customer's tasks (id)")
        listing.add_argument("--overdue", action="store_true", help="only overdue tasks")
        listing.add_argument("--due-today", action="store_true", help="only tasks due today")
        listing.add_argument(
            "--status", choices=["open", "done", "canceled"], default="open", help="default open"
        )
        listing.add_argument("--limit", type=int, default=100, help="how many (default 100)")
        listing.add_argument("--json", action="store_true", help="print the API's JSON items")
        add = actions.add_parser("add", help="add a task")
        add.add_argument("title")
        add.add_argument("--customer", type=int, help="the customer's id")
        add.add_argument("--due", help="due date, YYYY-MM-DD")
        add.add_argument("--priority", type=int, default=2, help="1 low, 2 normal, 3 high")
        add.add_argument("--assignee", help="username (default: --user, else nobody)")
        add.add_argument("--notes", default="")
        add.add_argument("--key", help="idempotency key: adding twice with it adds once")
        done = actions.add_parser("done", help="complete a task")
        done.add_argument("id", type=int)
        snooze = actions.add_parser("snooze", help="put a task off until a later day")
        snooze.add_argument("id", type=int)
        snooze.add_argument("date", help="YYYY-MM-DD, after today (UTC)")
        assign = actions.add_parser("assign", help="give a task to someone (- for nobody)")
        assign.add_argument("id", type=int)
        assign.add_argument("assignee", help="username, or - for nobody")
        reopen = actions.add_parser("reopen", help="open a done or canceled task again")
        reopen.add_argument("id", type=int)
        for sub in actions.choices.values():
            sub.add_argument("--user", help="who is running this (username; default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        user = self._user(options.get("user"))
        if action == "list":
            self._list(options, user)
            return
        if user is not None and user.role not in {Role.OWNER, Role.MEMBER}:
            raise CommandError(f"--user: {user.username} is a viewer; viewers only read.")
        label = "" if user else LABEL
        try:
            if action == "add":
                task = task_create(
                    title=options["title"],
                    by=user,
                    label=label,
                    customer=self._customer(options["customer"]),
                    assignee=self._person(options["assignee"]) if options["assignee"] else user,
                    due_on=_day(options["due"], "--due") if options["due"] else None,
                    priority=options["priority"],
                    notes=options["notes"],
                    source="cli",
                    key=options["key"],
                )
                self.stdout.write(f"Task {task.pk}: {task.title}")
                return
            task = self._task(options["id"])
            if action == "done":
                task = task_complete(task=task, by=user, label=label)
                self.stdout.write(f"Done: {task.title}")
            elif action == "snooze":
                task = task_snooze(
                    task=task, until=_day(options["date"], "date"), by=user, label=label
                )
                self.stdout.write(f"Snoozed until {task.due_on}: {task.title}")
            elif action == "assign":
                person = None if options["assignee"] == "-" else self._person(options["assignee"])
                task = task_reassign(task=task, assignee=person, by=user, label=label)
                who = person.username if person is not None else "nobody"
                self.stdout.write(f"Assigned to {who}: {task.title}")
            else:
                task = task_reopen(task=task, by=user, label=label)
                self.stdout.write(f"Reopened: {task.title}")
        except ValidationError as exc:
            raise _refusal(exc) from None

    def _user(self, username: str | None) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active user called {username!r}.")
        return user

    def _person(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"assignee: no user called {username!r}.")
        return user

    def _customer(self, pk: int | None) -> Customer | None:
        if pk is None:
            return None
        customer = Customer.objects.filter(pk=pk).first()
        if customer is None:
            raise CommandError(f"--customer: no customer with id {pk}.")
        return customer

    def _task(self, pk: int) -> Task:
        task = Task.objects.select_related("customer").filter(pk=pk).first()
        if task is None:
            raise CommandError(f"No task with id {pk}.")
        return task

    def _list(self, options: dict[str, Any], user: User | None) -> None:
        if options["mine"] and user is None:
            raise CommandError("--mine: say who you are with --user NAME.")
        if not 1 <= options["limit"] <= 10_000:
            raise CommandError("--limit: give 1 to 10000.")
        assignee = self._person(options["assignee"]) if options["assignee"] else None
        today = today_date()
        qs = tasks_filtered(
            filters=TaskFilters(
                mine=options["mine"],
                assignee_id=assignee.pk if assignee is not None else None,
                customer_id=options["customer"],
                status=options["status"],
                overdue=options["overdue"],
            ),
            user=user,
            today=today,
        ).select_related("created_by", "completed_by")
        if options["due_today"]:
            qs = qs.filter(due_on=today)
        if options["status"] != "open":
            qs = qs.order_by("-updated_at", "-id")
        tasks = list(qs[: options["limit"]])
        names = playbook_names(tasks)
        items = [task_out(t, names=names, today=today) for t in tasks]
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {"items": items, "count": len(items)},
                    cls=DjangoJSONEncoder,
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        table = Table("ID", "Due", "Pri", "Title", "Customer", "Assignee", title="Tasks")
        for item in items:
            due = str(item["due_on"] or "")
            if item["state"] == "overdue":
                due += " (overdue)"
            table.add_row(
                str(item["id"]),
                due,
                str(item["priority"]),
                item["title"],
                item["customer_name"] or "",
                item["assignee"] or "",
            )
        buffer = io.StringIO()
        Console(file=buffer, width=120).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
        self.stdout.write(f"{len(items)} task(s).")
