"""Sections of the Today page supplied by other apps (the tasks due for the user, …).

``today`` renders the page but does not import those apps: each registers a ``Section`` in
``AppConfig.ready()`` and the page shows the registered sections, in ``order``, above the
ranked list of customers. A section's context function returns None to leave it out.
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
class Section:
    name: str
    template: str
    # The template's context for the request's user, or None to leave the section out.
    context: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100  # lower first


sections: Registry[Section] = Registry("Today page section")


def sections_render(request: HttpRequest) -> list[SafeString]:
    """The HTML of every registered section, in order, for the request's user."""
    out: list[SafeString] = []
    for section in sorted(sections, key=lambda s: (s.order, s.name)):
        context = section.context(request)
        if context is None:
            continue
        html = render_to_string(section.template, context, request)
        out.append(mark_safe(html))  # rendered by Django's autoescaping templates
    return out
