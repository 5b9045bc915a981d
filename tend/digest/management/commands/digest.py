"""``tend digest send [--user NAME] [--dry-run]`` and ``tend digest preview --user NAME``.

``send`` without ``--user`` does what the hourly schedule does: every digest due now (by
each user's choice and TEND_DIGEST_HOUR in TEND_TIME_ZONE), once per user and day. With
``--user`` it sends that user's digest for today now, whatever the hour or their choice
(still once a day: the same outbox key). ``--dry-run`` lists who would get one and writes
nothing. ``preview`` prints the plain-text digest (``--html`` the HTML).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tend.accounts.models import User
from tend.digest.actions import (
    digest_key,
    digest_recipients,
    digest_render,
    digest_send,
    local_now,
    may_receive,
)
from tend.digest.content import digest_build
from tend.messaging.models import Message


class Command(BaseCommand):
    help = "Send the digest emails that are due, or preview one user's digest."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="send|preview")
        send = actions.add_parser("send", help="send the digests due now (or one user's)")
        send.add_argument("--user", help="send this user's digest for today now")
        send.add_argument("--dry-run", action="store_true", help="list, write nothing")
        preview = actions.add_parser("preview", help="print a user's digest")
        preview.add_argument("--user", required=True, help="whose digest")
        preview.add_argument("--html", action="store_true", help="print the HTML part")

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active user called {username!r}.")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["action"] == "preview":
            user = self._user(options["user"])
            rendered = digest_render(digest_build(user=user, day=local_now(now).date(), now=now))
            self.stdout.write(f"Subject: {rendered.subject}\n")
            self.stdout.write(rendered.html if options["html"] else rendered.text)
            return
        if options.get("user"):
            user = self._user(options["user"])
            if not may_receive(user):
                raise CommandError(f"--user: {user.username} is a viewer; viewers get no digest.")
            if not user.email:
                raise CommandError(f"--user: {user.username} has no email address.")
            due = [(user, local_now(now).date())]
        else:
            due = digest_recipients(now)
        if options["dry_run"]:
            for user, day in due:
                sent = Message.objects.filter(key=digest_key(user, day)).exists()
                state = "already sent" if sent else "would send"
                self.stdout.write(f"{user.username} <{user.email}> {day.isoformat()}: {state}")
            self.stdout.write(f"{len(due)} digest(s) due; nothing written (--dry-run).")
            return
        written = 0
        for user, day in due:
            existed = Message.objects.filter(key=digest_key(user, day)).exists()
            try:
                message = digest_send(user=user, day=day, now=now)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            written += 0 if existed else 1
            note = "already sent today" if existed else message.status
            self.stdout.write(f"{user.username} <{user.email}> {day.isoformat()}: {note}")
        self.stdout.write(f"{written} digest(s) written to the outbox.")
