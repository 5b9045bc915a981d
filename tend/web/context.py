"""Template context shared by every page: navigation that lists only what exists."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tend.lib.access import can_manage, can_write

# (url name, label, who sees it, where). Add an entry here when a page ships, not before.
# who: "all" (every role), "writer" (owners and members), "owner".
# where: "main" (the bar: what a founder opens every day) or "more" (the "More" menu: setup
# and data that is visited now and then), so the bar fits a laptop screen on one line.
NAVIGATION = [
    ("today:list", _("Today"), "all", "main"),
    ("tasks:list", _("Tasks"), "all", "main"),
    ("customers:list", _("Customers"), "all", "main"),
    ("playbooks:list", _("Playbooks"), "all", "main"),
    ("lifecycle:board", _("Lifecycle"), "all", "main"),
    ("segments:list", _("Segments"), "all", "main"),
    ("metrics:dashboard", _("Revenue & retention"), "all", "main"),
    ("goals:list", _("Goals"), "all", "main"),
    ("predict:churn", _("Predictions"), "all", "more"),
    ("health:scorecards", _("Health scorecards"), "all", "more"),
    ("emailtemplates:list", _("Email templates"), "all", "more"),
    ("messaging:list", _("Sent emails and webhooks"), "all", "more"),
    ("jobs:operations", _("Operations"), "writer", "more"),
    ("imports:list", _("Imports"), "writer", "more"),
    ("ingest:data_quality", _("Data quality"), "writer", "more"),
    ("audit:log", _("Audit log"), "owner", "more"),
    ("privacy:erasures", _("Erasures"), "owner", "more"),
    ("billing:plans", _("Plans"), "all", "more"),
    ("billing:rates", _("Exchange rates"), "all", "more"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_more": []}
    items: list[dict[str, Any]] = []
    more: list[dict[str, Any]] = []
    for name, label, who, where in NAVIGATION:
        if (who == "owner" and not can_manage(user)) or (who == "writer" and not can_write(user)):
            continue
        url = reverse(name)
        item = {"url": url, "label": label, "active": request.path.startswith(url)}
        (items if where == "main" else more).append(item)
    return {
        "nav_items": items,
        "nav_more": more,
        "nav_more_active": any(item["active"] for item in more),
        "user_can_write": can_write(user),
        "user_can_manage": can_manage(user),
    }
