"""``tend channels list|add|rename|move|archive|restore``: the founder's acquisition channels.

The same list as the web page /customers/channels/ and ``/api/v1/channels``: a customer's
channel is one of these codes; archived channels are no longer offered but keep their name.
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tend.accounts.models import User
from tend.customers.channels import (
    channel_archive,
    channel_code_free,
    channel_create,
    channel_move,
    channel_rename,
    channel_restore,
    channels_seed_defaults,
    channels_with_counts,
)
from tend.customers.models import AcquisitionChannel

LABEL = "cli"


class Command(BaseCommand):
    help = "List, add, rename, move, archive and restore your acquisition channels."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="list|add|rename|move|archive|restore"
        )
        listing = actions.add_parser("list", help="every channel with its number of customers")
        listing.add_argument("--format", choices=["table", "json"], default="table")
        add = actions.add_parser("add", help="add a channel at the end of the list")
        add.add_argument("name", help='what pages show, e.g. "Trade fairs"')
        add.add_argument("--code", help="the code customers store (default: made from the name)")
        rename = actions.add_parser("rename", help="give a channel a new name (code unchanged)")
        rename.add_argument("code")
        rename.add_argument("name", help='the new name; "" gives a built-in its own label back')
        move = actions.add_parser("move", help="put a channel at a place in the list")
        move.add_argument("code")
        move.add_argument("position", type=int, help="1 = first")
        for verb, text in (("archive", "stop offering a channel"), ("restore", "offer it again")):
            actions.add_parser(verb, help=text).add_argument("code")
        for sub in (add, rename, move, *actions.choices.values()):
            if sub is not listing and not any(a.dest == "user" for a in sub._actions):
                sub.add_argument("--user", help="username recorded as doing it (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list(options["format"])
            return
        by = self._user(options.get("user"))
        label = "" if by else LABEL
        try:
            if action == "add":
                code = options["code"] or channel_code_free(options["name"])
                channel = channel_create(
                    code=code, name=options["name"].strip(), by=by, label=label
                )
                self.stdout.write(f"Added {channel.label} (code {channel.code}).")
                return
            channel = self._channel(options["code"])
            if action == "rename":
                channel_rename(channel=channel, name=options["name"], by=by, label=label)
            elif action == "move":
                if options["position"] < 1:
                    raise CommandError("position: 1 is the first place.")
                channel_move(channel=channel, to=options["position"] - 1, by=by, label=label)
            elif action == "archive":
                channel_archive(channel=channel, by=by, label=label)
            else:
                channel_restore(channel=channel, by=by, label=label)
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(problems) from None
        self.stdout.write(
            f"{action.capitalize()}d {channel.code}." if action != "move" else "Moved."
        )

    def _user(self, username: str | None) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active user called {username!r}.")
        if user.role not in {"owner", "member"}:
            raise CommandError(f"--user: {username} is a viewer; viewers cannot change channels.")
        return user

    def _channel(self, code: str) -> AcquisitionChannel:
        channels_seed_defaults()
        channel = AcquisitionChannel.objects.filter(code=code).first()
        if channel is None:
            codes = ", ".join(AcquisitionChannel.objects.values_list("code", flat=True))
            raise CommandError(f"No channel with code {code!r}; the codes are: {codes}.")
        return channel

    def _list(self, fmt: str) -> None:
        rows = list(channels_with_counts())
        if fmt == "json":
            data = [
                {
                    "code": c.code,
                    "name": c.name,
                    "label": c.label,
                    "position": c.position,
                    "archived_at": c.archived_at.isoformat() if c.archived_at else None,
                    "customers": c.customer_count,
                }
                for c in rows
            ]
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            return
        table = Table("Code", "Name", "Customers", "Archived", title="Acquisition channels")
        for c in rows:
            archived = f"{c.archived_at:%Y-%m-%d}" if c.archived_at else ""
            table.add_row(c.code, c.label, str(c.customer_count), archived)
        buffer = io.StringIO()
        Console(file=buffer, width=100).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
