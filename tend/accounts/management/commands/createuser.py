"""``tend createuser USERNAME --role owner|member|viewer``: add a login from the command line."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tend.accounts.actions import user_create
from tend.accounts.models import Role, User


class Command(BaseCommand):
    help = (
        "Create a user with a role. The password comes from --password, --password-stdin "
        "(for scripts) or a prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            required=True,
            choices=Role.values,
            help="owner: everything; member: read and change data; viewer: read only",
        )
        parser.add_argument("--email", default="")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--password", help="visible in the shell history; prefer the prompt")
        source.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"].strip()
        if not username:
            raise CommandError("username: give a username.")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"username: a user called {username!r} already exists.")
        password = self._password(options)
        try:
            validate_password(password, User(username=username, email=options["email"]))
        except ValidationError as exc:
            raise CommandError("password: " + " ".join(exc.messages)) from None
        user = user_create(
            username=username, password=password, role=options["role"], email=options["email"]
        )
        self.stdout.write(self.style.SUCCESS(f"Created {user.role} {user.username!r}."))

    def _password(self, options: dict[str, Any]) -> str:
        if options["password"] is not None:
            return str(options["password"])
        if options["password_stdin"]:
            return sys.stdin.readline().rstrip("\r\n")
        if not sys.stdin.isatty():
            raise CommandError("password: not in a terminal; use --password-stdin or --password.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("password: the two passwords differ.")
        return first
