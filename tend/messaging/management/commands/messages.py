"""``tend messages list|show ID|send-due|retry ID|cancel ID``: the outbox from the shell.

``list`` prints the send log (filters ``--status``, ``--channel``, ``--customer``, ``--source``);
``show`` one message with its attempts; ``send-due`` claims and sends what is due now (what
the worker does every minute); ``retry`` queues a failed, canceled or suppressed message again.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from rich.table import Table

from tend.messaging.actions import message_cancel, message_retry
from tend.messaging.management.commands._common import (
    LABEL,
    TableCommand,
    errors_of,
    positive_id,
)
from tend.messaging.models import Channel, Message, MessageStatus
from tend.messaging.sending import messages_send_due


class Command(TableCommand):
    help = "List, show, send or retry outgoing emails and webhook calls."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="list|show|send-due|retry|cancel"
        )
        listing = actions.add_parser("list", help="the send log, newest first")
        listing.add_argument("--status", choices=MessageStatus.values)
        listing.add_argument("--channel", choices=Channel.values)
        listing.add_argument("--customer", help="customer id")
        listing.add_argument("--source", help="playbook, digest, goal_alert, …")
        listing.add_argument("--limit", type=int, default=50, help="rows (50)")
        show = actions.add_parser("show", help="one message and its attempts")
        show.add_argument("id")
        send = actions.add_parser("send-due", help="send what is due now")
        send.add_argument("--limit", type=int, default=500, help="at most this many (500)")
        for name, text in (("retry", "send a message again"), ("cancel", "cancel a queued one")):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("id")
            sub.add_argument("--user", help="username recorded as acting (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _list(self, options: dict[str, Any]) -> None:
        if not 1 <= options["limit"] <= 10_000:
            raise CommandError("--limit: give 1 to 10000.")
        qs = Message.objects.order_by("-created_at", "-pk")
        if options["status"]:
            qs = qs.filter(status=options["status"])
        if options["channel"]:
            qs = qs.filter(channel=options["channel"])
        if options["customer"]:
            qs = qs.filter(customer_id=positive_id(options["customer"], "--customer"))
        if options["source"]:
            qs = qs.filter(source=options["source"])
        table = Table("Id", "Channel", "To", "Subject", "Status", "Tries", "Created", "Last error")
        for m in qs[: options["limit"]]:
            status = m.status + (" (daily cap)" if m.hold_reason else "")
            table.add_row(
                str(m.pk),
                m.channel,
                m.to[:60],
                m.subject[:60],
                status,
                str(m.attempts),
                f"{m.created_at:%Y-%m-%d %H:%M}",
                m.last_error[:80],
            )
        self.print_table(table)

    def _message(self, options: dict[str, Any]) -> Message:
        pk = positive_id(options["id"], "id")
        message = Message.objects.filter(pk=pk).first()
        if message is None:
            raise CommandError(f"id: no message {pk}.")
        return message

    def _show(self, options: dict[str, Any]) -> None:
        m = self._message(options)
        out = self.stdout.write
        out(f"Message {m.pk} ({m.channel}) to {m.to}")
        out(f"  status: {m.status}{' (waiting for the daily cap)' if m.hold_reason else ''}")
        out(f"  key: {m.key}   source: {m.source} {m.source_id}")
        out(f"  subject: {m.subject}")
        out(f"  tries: {m.attempts}   next try: {m.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC")
        if m.sent_at:
            out(f"  sent: {m.sent_at:%Y-%m-%d %H:%M:%S} UTC")
        if m.last_error:
            out(f"  last error: {m.last_error}")
        table = Table("When", "OK", "Code", "Reply", "ms")
        for a in m.attempt_log.order_by("at", "pk"):
            table.add_row(
                f"{a.at:%Y-%m-%d %H:%M:%S}",
                "yes" if a.ok else "no",
                a.code,
                a.detail[:100],
                str(a.duration_ms),
            )
        self.print_table(table)

    def _send_due(self, options: dict[str, Any]) -> None:
        if not 1 <= options["limit"] <= 100_000:
            raise CommandError("--limit: give 1 to 100000.")
        sent = messages_send_due(limit=options["limit"])
        self.stdout.write(self.style.SUCCESS(f"{sent} messages sent."))

    def _retry(self, options: dict[str, Any]) -> None:
        message = self._message(options)
        try:
            message_retry(message=message, by=self.acting_user(options), label=LABEL)
        except ValidationError as exc:
            raise CommandError(errors_of(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Message {message.pk} queued to be sent again."))

    def _cancel(self, options: dict[str, Any]) -> None:
        message = self._message(options)
        try:
            message_cancel(message=message, by=self.acting_user(options), label=LABEL)
        except ValidationError as exc:
            raise CommandError(errors_of(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Message {message.pk} canceled."))
