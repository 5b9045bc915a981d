"""``{% digest_preference %}``: the digest choice card on the settings page (Your account)."""

from __future__ import annotations

from typing import Any

from django import template

from tend.digest.actions import may_receive
from tend.digest.forms import DigestForm

register = template.Library()


@register.inclusion_tag("digest/_preference.html", takes_context=True)
def digest_preference(context: Any) -> dict[str, Any]:
    user = context["request"].user
    return {
        "form": DigestForm(initial={"digest": user.digest}),
        "receives": may_receive(user),
        "has_email": bool(user.email),
        "csrf_token": context.get("csrf_token"),
    }
