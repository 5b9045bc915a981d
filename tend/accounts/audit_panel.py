"""The customer page's "History" panel: the customer's latest audit entries, for owners."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tend.accounts.audit_queries import changes_lines, who
from tend.accounts.audit_words import action_words
from tend.accounts.models import AuditEntry
from tend.lib.access import can_manage
from tend.web.panels import Panel

PANEL_ROWS = 10


def _context(request: HttpRequest, customer: Any) -> dict[str, Any] | None:
    # The audit log (with client addresses) is for owners; others see the timeline.
    if not can_manage(request.user):
        return None
    entries = list(
        AuditEntry.objects.filter(customer_id=customer.pk)
        .select_related("actor")
        .order_by("-at", "-id")[:PANEL_ROWS]
    )
    return {
        "rows": [
            {
                "entry": e,
                "who": who(e),
                "words": action_words(e.action),
                "changes": changes_lines(e.changes)[:3],
            }
            for e in entries
        ],
    }


history_panel = Panel(
    name="history",
    template="audit/_panel.html",
    context=_context,
    order=900,
    column="main",
)
