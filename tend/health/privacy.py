"""Privacy entry of health: daily scores and the latest one, numbers kept with the shell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _

from tend.customers.models import Customer
from tend.health.models import CustomerHealth, HealthScore
from tend.privacy.registry import KEEP, PrivacyEntry, privacy
from tend.privacy.scrub import model_rows


def _rows(customer: Customer) -> Iterator[dict[str, Any]]:
    for row in model_rows(CustomerHealth.objects.filter(customer=customer)):
        yield {"record": "latest", **row}
    for row in model_rows(HealthScore.objects.filter(customer=customer)):
        yield {"record": "daily", **row}


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="health",
            description=_("Health scores per day with how each measure scored, and the latest."),
            models=("health.HealthScore", "health.CustomerHealth"),
            export=_rows,
            erase=lambda c, ctx: 0,
            count=lambda c: (
                HealthScore.objects.filter(customer=c).count()
                + CustomerHealth.objects.filter(customer=c).count()
            ),
            on_erase=KEEP,
            order=600,
        )
    )
