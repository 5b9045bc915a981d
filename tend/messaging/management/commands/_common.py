"""Shared bits of the ``messages``, ``suppressions`` and ``webhooks`` commands."""

from __future__ import annotations

import io
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from tend.accounts.models import User

LABEL = "cli"


class TableCommand(BaseCommand):
    def print_table(self, table: Table) -> None:
        buffer = io.StringIO()
        Console(file=buffer, width=160).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def acting_user(self, options: dict[str, Any]) -> User | None:
        name = options.get("user")
        if not name:
            return None
        user = User.objects.filter(username=name, is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active user called {name!r}.")
        return user


def positive_id(value: str, what: str) -> int:
    if not value.isdigit() or len(value) > 18 or int(value) < 1:
        raise CommandError(f"{what}: give a numeric id, not {value[:40]!r}.")
    return int(value)


def errors_of(exc: Any) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(getattr(exc, "messages", [str(exc)]))
