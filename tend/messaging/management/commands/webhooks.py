"""``tend webhooks list|create NAME URL|archive ID|rotate ID``: outgoing webhook endpoints.

``create`` and ``rotate`` print the signing secret once; nothing shows it again.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from rich.table import Table

from tend.messaging.actions import (
    webhook_endpoint_archive,
    webhook_endpoint_create,
    webhook_endpoint_rotate,
)
from tend.messaging.management.commands._common import (
    LABEL,
    TableCommand,
    errors_of,
    positive_id,
)
from tend.messaging.models import WebhookEndpoint
from tend.messaging.webhooks import secret_hint


class Command(TableCommand):
    help = "List, create, archive webhook endpoints or give one a new secret."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="list|create|archive|rotate"
        )
        actions.add_parser("list", help="the endpoints")
        create = actions.add_parser("create", help="add an endpoint; prints its secret once")
        create.add_argument("name")
        create.add_argument("url", help="http:// or https:// URL")
        create.add_argument("--user", help="username recorded as acting (default: cli)")
        for name, text in (("archive", "post nothing more to it"), ("rotate", "new secret")):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("id")
            sub.add_argument("--user", help="username recorded as acting (default: cli)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"])(options)

    def _list(self, options: dict[str, Any]) -> None:
        table = Table("Id", "Name", "URL", "Secret", "Archived")
        for e in WebhookEndpoint.objects.order_by("archived_at", "name"):
            archived = f"{e.archived_at:%Y-%m-%d}" if e.archived_at else ""
            table.add_row(str(e.pk), e.name, e.url, secret_hint(e.secret), archived)
        self.print_table(table)

    def _create(self, options: dict[str, Any]) -> None:
        try:
            endpoint, secret = webhook_endpoint_create(
                name=options["name"], url=options["url"], by=self.acting_user(options), label=LABEL
            )
        except ValidationError as exc:
            raise CommandError(errors_of(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Endpoint {endpoint.pk} “{endpoint.name}” added."))
        self.stdout.write(f"Signing secret (shown once): {secret}")

    def _endpoint(self, options: dict[str, Any]) -> WebhookEndpoint:
        pk = positive_id(options["id"], "id")
        endpoint = WebhookEndpoint.objects.filter(pk=pk).first()
        if endpoint is None:
            raise CommandError(f"id: no webhook endpoint {pk}.")
        return endpoint

    def _archive(self, options: dict[str, Any]) -> None:
        endpoint = self._endpoint(options)
        canceled = webhook_endpoint_archive(
            endpoint=endpoint, by=self.acting_user(options), label=LABEL
        )
        self.stdout.write(
            self.style.SUCCESS(f"“{endpoint.name}” archived; {canceled} queued calls canceled.")
        )

    def _rotate(self, options: dict[str, Any]) -> None:
        endpoint = self._endpoint(options)
        try:
            secret = webhook_endpoint_rotate(
                endpoint=endpoint, by=self.acting_user(options), label=LABEL
            )
        except ValidationError as exc:
            raise CommandError(errors_of(exc)) from None
        self.stdout.write(f"New signing secret of “{endpoint.name}” (shown once): {secret}")
