"""System checks for the Stripe webhook settings (ids tend.W010, tend.W011)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


# Deploy-only: an install that does not use Stripe should not see this on every command.
@register(Tags.security, deploy=True)
def check_stripe_webhook_secret(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    secret: str = getattr(settings, "TEND_STRIPE_WEBHOOK_SECRET", "")
    if not secret:
        return [
            Warning(
                "TEND_STRIPE_WEBHOOK_SECRET is not set: POST /webhooks/stripe answers 503.",
                hint="Set it to the signing secret of the endpoint in Stripe's dashboard "
                "(Developers → Webhooks), or ignore this if you do not bill with Stripe.",
                id="tend.W010",
            )
        ]
    if not secret.startswith("whsec_"):
        return [
            Warning(
                "TEND_STRIPE_WEBHOOK_SECRET does not start with whsec_.",
                hint="Use the endpoint's signing secret, not an API key (sk_…/rk_…).",
                id="tend.W011",
            )
        ]
    return []
