"""``tend user list|role|deactivate|reactivate|reset-password``: what Settings → Users does,
from the command line (``tend createuser`` adds a user).

``reset-password`` prints the new temporary password alone on standard output (messages go
to standard error), so ``PASSWORD=$(tend user reset-password nina)`` works in scripts.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tend.accounts.actions import (
    temporary_password,
    user_change_role,
    user_deactivate,
    user_reactivate,
    user_set_password,
)
from tend.accounts.models import Role, User


class Command(BaseCommand):
    help = "List users, change a role, deactivate or reactivate a user, reset a password."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="list|role|deactivate|reactivate|reset-password"
        )
        actions.add_parser("list", help="every user with role, status and last login")
        role = actions.add_parser("role", help="give a user another role")
        role.add_argument("username")
        role.add_argument("role", choices=Role.values)
        for name, text in [
            ("deactivate", "stop a user logging in; their API keys are refused"),
            ("reactivate", "let a deactivated user log in again"),
            ("reset-password", "set a temporary password and print it once"),
        ]:
            sub = actions.add_parser(name, help=text)
            sub.add_argument("username")
        for sub in actions.choices.values():
            if sub.prog.split()[-1] != "list":
                sub.add_argument("--by", help="username recorded as acting (default: none)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _user(self, username: str, *, field: str = "username") -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"{field}: no user called {username!r}.")
        return user

    def _by(self, options: dict[str, Any]) -> User | None:
        return self._user(options["by"], field="by") if options.get("by") else None

    def _list(self, options: dict[str, Any]) -> None:
        table = Table("Username", "Name", "Email", "Role", "Active", "Last login")
        for user in User.objects.order_by("-is_active", "username"):
            table.add_row(
                user.username,
                user.get_full_name(),
                user.email,
                user.role,
                "yes" if user.is_active else "no",
                f"{user.last_login:%Y-%m-%d %H:%M}" if user.last_login else "never",
            )
        buffer = io.StringIO()
        Console(file=buffer, width=120).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _role(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        try:
            user = user_change_role(user=user, role=options["role"], by=self._by(options))
        except ValidationError as exc:
            raise CommandError("role: " + " ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"{user.username} is now a {user.role}."))

    def _deactivate(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        try:
            user_deactivate(user=user, by=self._by(options))
        except ValidationError as exc:
            raise CommandError("username: " + " ".join(exc.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(f"{user.username} is deactivated; their API keys are refused.")
        )

    def _reactivate(self, options: dict[str, Any]) -> None:
        user = user_reactivate(user=self._user(options["username"]), by=self._by(options))
        self.stdout.write(self.style.SUCCESS(f"{user.username} can log in again."))

    def _reset_password(self, options: dict[str, Any]) -> None:
        user = self._user(options["username"])
        password = temporary_password()
        user_set_password(user=user, password=password, by=self._by(options), reset=True)
        self.stderr.write(
            f"Temporary password for {user.username}; hand it over safely, it is not shown again:"
        )
        self.stdout.write(password)
