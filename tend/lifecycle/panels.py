"""The customer page's lifecycle panel: a stage set by hand, and the button that clears it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tend.lib.access import can_write
from tend.lifecycle.models import StageOverride
from tend.web.panels import Panel


def _context(request: HttpRequest, customer: Any) -> dict[str, Any] | None:
    override = StageOverride.objects.active().select_related("by").filter(customer=customer).first()
    if override is None:
        return None
    return {"override": override, "can_clear": can_write(request.user)}


override_panel = Panel(
    name="lifecycle_override",
    template="lifecycle/_override_panel.html",
    context=_context,
    order=20,
    column="side",
)
