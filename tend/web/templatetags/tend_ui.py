"""Small presentation helpers shared by every page: money, stage badges, key/value traits."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from tend.lib.money import format_money

register = template.Library()

# Bootstrap colour per lifecycle stage: calm for healthy stages, warm for ones needing care.
STAGE_COLOURS = {
    "prospect": "secondary",
    "trial": "info",
    "onboarding": "primary",
    "adopting": "primary",
    "established": "success",
    "renewal_due": "warning",
    "expansion": "success",
    "at_risk": "danger",
    "churned": "dark",
}


@register.filter
def money(value: Any, currency: str | None = None) -> str:
    """Format an amount in ``currency`` (default: the business currency, settings.TEND_CURRENCY)."""
    return format_money(value, currency)


@register.filter
def money0(value: Any, currency: str | None = None) -> str:
    """Like ``money`` without cents, for headline numbers."""
    return format_money(value, currency, decimals=0)


@register.filter
def signed_money(value: Any, currency: str | None = None) -> str:
    """``+$20.00`` / ``−$20.00``: for MRR movements."""
    text = format_money(value, currency)
    try:
        positive = Decimal(value) > 0
    except (InvalidOperation, TypeError, ValueError):
        positive = False
    return f"+{text}" if positive else text


@register.simple_tag
def stage_badge(stage: str, label: Any = None) -> SafeString:
    """A coloured pill for a lifecycle stage."""
    colour = STAGE_COLOURS.get(stage, "secondary")
    return format_html(
        '<span class="badge rounded-pill stage-badge text-{c}-emphasis bg-{c}-subtle '
        'border border-{c}-subtle" data-stage="{s}">{label}</span>',
        c=colour,
        s=stage,
        label=label if label is not None else stage,
    )


@register.filter
def flat_items(data: Any) -> list[tuple[str, str]]:
    """A JSON object as sorted (key, readable value) pairs; nested keys are joined with dots."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key in sorted(value, key=str):
                walk(f"{prefix}.{key}" if prefix else str(key), value[key])
        elif isinstance(value, list):
            out.append((prefix, ", ".join(_plain(v) for v in value) or "—"))
        else:
            out.append((prefix, _plain(value)))

    if isinstance(data, dict):
        walk("", data)
    return out


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return str(value)
