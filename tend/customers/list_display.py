"""What a row of the customers list shows, as text ready for the template.

The list's template used to format every cell itself (a ``{% url %}``, the stage badge tag
with its translated label, three ``|date`` filters and ``|ago`` per row): about two thirds of
the time of a list page went to that (docs/benchmarks.md, issue 20). Here each value is
computed once in Python, and what repeats across rows (the stage badges, the owners' names,
the date formats) once per page; the cells read exactly as the filters and tags made them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import dateformat, formats
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]

from tend.customers.models import Customer
from tend.lib.money import format_money
from tend.web.templatetags.tend_time import ago
from tend.web.templatetags.tend_ui import stage_badge


@dataclass(frozen=True, slots=True)
class ListRow:
    customer: Customer
    url: str
    badge: SafeString
    plan: str
    mrr: str
    owner: str
    tags: list[str]
    signed_up: str  # the short date shown
    signed_up_title: str  # the date and time in the cell's title
    last_seen: str  # "3 days ago"; "" when never seen
    last_seen_title: str


def list_rows(customers: list[Customer], currency: str) -> list[ListRow]:
    """One ``ListRow`` per customer (plan, owner and tags already loaded with them)."""
    marker = 2_147_483_647
    detail = reverse("customers:detail", args=[marker]).replace(str(marker), "{}")
    short = formats.get_format("SHORT_DATE_FORMAT")
    full = formats.get_format("DATETIME_FORMAT")
    badges: dict[str, SafeString] = {}
    owners: dict[int, str] = {}

    def when(value: datetime | None, fmt: str) -> str:
        # As the |date filter: in the current time zone, "" for no date.
        if value is None:
            return ""
        return dateformat.format(template_localtime(value), fmt)

    rows = []
    for c in customers:
        badge = badges.get(c.stage)
        if badge is None:
            badge = badges[c.stage] = stage_badge(c.stage, c.get_stage_display())
        owner = "—"
        if c.owner_id is not None:
            owner = owners.get(c.owner_id) or owners.setdefault(c.owner_id, str(c.owner) or "—")
        seen: Any = c.last_seen_at
        rows.append(
            ListRow(
                customer=c,
                url=detail.format(c.pk),
                badge=badge,
                plan=(c.plan.name if c.plan is not None else "") or "—",
                mrr=format_money(c.mrr, currency),
                owner=owner,
                tags=[tag.name for tag in c.tags.all()],
                signed_up=when(c.signed_up_at, short),
                signed_up_title=when(c.signed_up_at, full),
                last_seen=str(ago(seen)) if seen else "",
                last_seen_title=when(seen, full),
            )
        )
    return rows
