"""``tend apikey create|list|revoke``: manage keys for the REST and tracking APIs.

``create`` prints the raw key alone on standard output (messages go to standard error), so
``KEY=$(tend apikey create ...)`` works in scripts.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rich.console import Console
from rich.table import Table

from tend.accounts.actions import apikey_create, apikey_revoke
from tend.accounts.models import ApiKey, ApiKeyKind, User
from tend.lib.access import key_status

RIGHTS = {
    ApiKeyKind.WRITE: _lazy(
        "It sends events to the tracking API (/v1) and cannot use the REST API."
    ),
    ApiKeyKind.READ: _lazy("It reads through the REST API (/api/v1) and cannot send events."),
    ApiKeyKind.READ_WRITE: _lazy(
        "It reads and changes data through the REST API (/api/v1) and can send events to /v1."
    ),
}


class Command(BaseCommand):
    help = "Create, list and revoke API keys."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="create|list|revoke")
        create = actions.add_parser("create", help="create a key and print it once")
        create.add_argument("--name", required=True, help="shown in the audit log as api:<name>")
        create.add_argument(
            "--kind",
            required=True,
            choices=ApiKeyKind.values,
            help=(
                "write: event ingestion only; read: REST reads; read_write: REST reads and "
                "writes (and events). Viewers may own read keys only."
            ),
        )
        create.add_argument("--user", required=True, help="username the key acts for")
        listing = actions.add_parser("list", help="list keys (never their secrets)")
        listing.add_argument("--active", action="store_true", help="leave out revoked keys")
        revoke = actions.add_parser("revoke", help="revoke a key by id")
        revoke.add_argument("id", type=int)
        revoke.add_argument("--user", help="username recorded as revoking (default: its creator)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"user: no user called {username!r}.")
        if not user.is_active:
            raise CommandError(f"user: {username!r} is deactivated.")
        return user

    def _create(self, options: dict[str, Any]) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("name: give the key a name.")
        user = self._user(options["user"])
        try:
            key, raw = apikey_create(name=name, kind=options["kind"], by=user)
        except ValidationError as error:
            raise CommandError(f"kind: {' '.join(error.messages)}") from None
        self.stderr.write(
            f"Created {key.kind} key {key.pk} {key.name!r} for {user.username}. "
            "Copy it now; it is not shown again:"
        )
        self.stderr.write(str(RIGHTS[ApiKeyKind(key.kind)]))
        self.stderr.write(
            _(
                "The key acts as %(user)s and never does more than %(user)s may: it stops "
                "working when %(user)s is deactivated, and only reads if %(user)s becomes a "
                "viewer."
            )
            % {"user": user.username}
        )
        self.stdout.write(raw)

    def _list(self, options: dict[str, Any]) -> None:
        keys = ApiKey.objects.select_related("created_by").order_by("pk")
        if options["active"]:
            keys = keys.active()
        table = Table("ID", "Name", "Kind", "User", "Created", "Last used", "Status")
        for key in keys:
            table.add_row(
                str(key.pk),
                key.name,
                key.kind,
                key.created_by.username,
                f"{key.created_at:%Y-%m-%d %H:%M}",
                f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never",
                key_status(key),
            )
        buffer = io.StringIO()
        Console(file=buffer, width=120).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _revoke(self, options: dict[str, Any]) -> None:
        key = ApiKey.objects.select_related("created_by").filter(pk=options["id"]).first()
        if key is None:
            raise CommandError(f"id: no API key {options['id']}.")
        if key.revoked_at is not None:
            self.stdout.write(f"Key {key.pk} {key.name!r} was already revoked.")
            return
        by = self._user(options["user"]) if options["user"] else key.created_by
        apikey_revoke(key=key, by=by)
        self.stdout.write(self.style.SUCCESS(f"Revoked key {key.pk} {key.name!r}."))
