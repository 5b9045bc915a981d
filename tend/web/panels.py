"""Customer-page panels, supplied by the apps that own them (health, lifecycle, Today…).

``customers`` renders the page but does not import every app: each app registers a ``Panel``
in ``AppConfig.ready()`` and the customer page shows the registered panels in ``order``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from tend.lib.registry import Registry


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    # The template's context for one customer, or None to leave the panel out for this one.
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]
    order: int = 100  # lower first; the profile is 0, the timeline 1000
    column: str = "main"  # "main" (the wide column) or "side"


panels: Registry[Panel] = Registry("customer-page panel")


def panels_render(request: HttpRequest, customer: Any, *, column: str) -> list[SafeString]:
    """The HTML of every panel registered for ``column``, in order, for ``customer``."""
    out: list[SafeString] = []
    for panel in sorted(panels, key=lambda p: (p.order, p.name)):
        if panel.column != column:
            continue
        context = panel.context(request, customer)
        if context is None:
            continue
        html = render_to_string(panel.template, {"customer": customer, **context}, request)
        out.append(mark_safe(html))  # rendered by Django's autoescaping templates
    return out
