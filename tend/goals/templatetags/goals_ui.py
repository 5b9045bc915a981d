"""Template filters for goal pages."""

from __future__ import annotations

from typing import Any

from django import template

from tend.goals.display import format_value

register = template.Library()


@register.filter
def goal_value(value: Any, unit: str) -> str:
    """A metric value or target in its unit: "2.5%", "$12,000.00", "3.1×"; "—" if undefined."""
    return format_value(value, unit)
