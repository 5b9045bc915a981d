"""Template context shared by every page: navigation that lists only what exists."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from tend.lib.access import can_manage, can_write

# (url name, label, who sees it). Add an entry here when a page ships, not before.
# who: "all" (every role), "writer" (owners and members), "owner".
NAVIGATION = [
    ("today:list", _("Today"), "all"),
    ("customers:list", _("Customers"), "all"),
    ("metrics:dashboard", _("Revenue & retention"), "all"),
    ("ingest:data_quality", _("Data quality"), "writer"),
    ("imports:list", _("Imports"), "writer"),
    ("goals:list", _("Goals"), "all"),
    ("lifecycle:board", _("Lifecycle"), "all"),
    ("billing:plans", _("Plans"), "all"),
    ("billing:rates", _("Exchange rates"), "all"),
    ("behaviour:page", _("Behaviour"), "all"),
    ("health:scorecards", _("Health"), "all"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for name, label, who in NAVIGATION:
        if (who == "owner" and not can_manage(user)) or (who == "writer" and not can_write(user)):
            continue
        url = reverse(name)
        items.append({"url": url, "label": label, "active": request.path.startswith(url)})
    return {
        "nav_items": items,
        "user_can_write": can_write(user),
        "user_can_manage": can_manage(user),
    }
