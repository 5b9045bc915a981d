"""How goal values and targets read on pages and in emails: "2.5%", "$12,000.00", "3.1×"."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from tend.lib.money import format_money


def _number(value: Decimal, places: int) -> str:
    """At most ``places`` decimals, without trailing zeros: 2 → "2", 2.50 → "2.5"."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{rounded:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text.replace("-", "−")


def format_value(value: Any, unit: str) -> str:
    """A metric value or target in its unit; "—" when it is undefined."""
    if value is None:
        return "—"
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if unit == "percent":
        return f"{_number(number, 2)}%"
    if unit == "money":
        return format_money(number)
    if unit == "ratio":
        return f"{_number(number, 2)}×"
    if unit == "months":
        return _("%(number)s months") % {"number": _number(number, 1)}
    if unit == "count":
        return _number(number, 0)
    return _number(number, 2)


def plan_names() -> dict[str, str]:
    """Plan id (as stored in goal filters) → name; plans are few, so read them all once."""
    from tend.billing.models import Plan

    return {str(pk): name for pk, name in Plan.objects.values_list("pk", "name")}


def segment_names() -> dict[str, str]:
    """Segment id (as stored in goal filters) → name, read in one query."""
    from tend.segments.models import Segment

    return {str(pk): name for pk, name in Segment.objects.values_list("pk", "name")}


def scope_parts(
    filters: dict[str, list[str]],
    plans: dict[str, str] | None = None,
    segments: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The customer filters of a goal as (label, values) pairs in the active language."""
    from tend.customers.channels import channel_labels

    channels = channel_labels() if filters.get("channel") else {}
    parts: list[tuple[str, str]] = []
    if filters.get("plan"):
        names = plans if plans is not None else plan_names()
        parts.append((_("Plan"), ", ".join(names.get(str(p), f"#{p}") for p in filters["plan"])))
    if filters.get("channel"):
        parts.append(
            (
                _("Channel"),
                ", ".join(str(channels.get(c, c)) for c in filters["channel"]),
            )
        )
    if filters.get("country"):
        from tend.goals.models import country_name

        # The name beside the code, so a slip ("GE" for Germany) shows as "Georgia (GE)".
        countries = (
            _("%(country)s (%(code)s)") % {"country": country_name(code), "code": code}
            for code in filters["country"]
        )
        parts.append((_("Country"), ", ".join(countries)))
    if filters.get("tag"):
        parts.append((_("Tag"), ", ".join(filters["tag"])))
    if filters.get("segment"):
        names = segments if segments else segment_names()
        shown = (
            names.get(str(pk)) or _("deleted segment #%(id)s") % {"id": pk}
            for pk in filters["segment"]
        )
        parts.append((_("Segment"), ", ".join(shown)))
    return parts


def scope_text(
    filters: dict[str, list[str]],
    plans: dict[str, str] | None = None,
    segments: dict[str, str] | None = None,
) -> str:
    """ "All customers", or "Plan: Pro · Channel: Paid search"."""
    parts = scope_parts(filters, plans, segments)
    if not parts:
        return _("All customers")
    return " · ".join(
        _("%(field)s: %(message)s") % {"field": label, "message": value} for label, value in parts
    )
