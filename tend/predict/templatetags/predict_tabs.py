"""``{% predict_tabs "churn" %}``: the tabs of the prediction pages (churn risk, customer
lifetime, CLV). A tab shows only when its page exists in this installation (its URL name
resolves), so each prediction page works whichever of the others are installed."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

register = template.Library()

TABS = (
    ("churn", "predict:churn", _("Churn risk")),
    ("lifetime", "predict:lifetime", _("Customer lifetime")),
    ("clv", "predict:clv", _("CLV")),
)


@register.inclusion_tag("predict/_tabs.html")
def predict_tabs(active: str = "") -> dict[str, Any]:
    tabs = []
    for key, name, label in TABS:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        tabs.append({"key": key, "url": url, "label": label, "active": key == active})
    return {"tabs": tabs}
