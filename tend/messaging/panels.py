"""The customer page's "Emails" panel: the customer's latest messages and their status."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tend.messaging.models import Message
from tend.messaging.outbox import is_suppressed
from tend.web.panels import Panel

ROWS = 6


def _context(request: HttpRequest, customer: Any) -> dict[str, Any] | None:
    from tend.messaging.views import STATUS_BADGES

    latest = list(Message.objects.filter(customer=customer).order_by("-created_at", "-pk")[:ROWS])
    return {
        "rows": [(m, STATUS_BADGES.get(m.status, "")) for m in latest],
        "suppressed": bool(customer.email) and is_suppressed(customer.email),
    }


emails_panel = Panel(
    name="messaging_emails",
    template="messaging/_emails_panel.html",
    context=_context,
    order=60,
    column="side",
)
