"""Privacy entry of metrics: per-customer monthly figures, kept with the anonymised shell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _

from tend.customers.models import Customer
from tend.metrics.models import CustomerLife, CustomerMonth
from tend.privacy.registry import KEEP, PrivacyEntry, privacy
from tend.privacy.scrub import model_rows


def _rows(customer: Customer) -> Iterator[dict[str, Any]]:
    for row in model_rows(CustomerLife.objects.filter(customer=customer)):
        yield {"record": "life", **row}
    for row in model_rows(CustomerMonth.objects.filter(customer=customer)):
        yield {"record": "month", **row}


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="metrics",
            description=_(
                "Figures computed for the reports: MRR per month, cohort, when the customer "
                "first paid and churned."
            ),
            models=("metrics.CustomerMonth", "metrics.CustomerLife"),
            export=_rows,
            erase=lambda c, ctx: 0,
            count=lambda c: (
                CustomerMonth.objects.filter(customer=c).count()
                + CustomerLife.objects.filter(customer=c).count()
            ),
            on_erase=KEEP,
            order=600,
        )
    )
