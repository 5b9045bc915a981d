"""Privacy entries of prediction: a customer's churn scores (with the feature values behind
them) and probabilistic CLV. Both are derived from the customer's data, so erasure deletes
them; the next daily run does not score an erased shell (it has no activity or orders)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _

from tend.customers.models import Customer
from tend.predict.models import ChurnScore, CustomerClv
from tend.privacy.registry import DELETE, PrivacyEntry, privacy
from tend.privacy.scrub import customer_rows, model_rows


def _clv_rows(customer: Customer) -> Iterator[dict[str, Any]]:
    yield from model_rows(CustomerClv.objects.filter(customer=customer))


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="churn-scores",
            description=_("Churn risk per day, with the features that raised or lowered it."),
            models=("predict.ChurnScore",),
            **customer_rows(ChurnScore),
            erase=lambda c, ctx: ChurnScore.objects.filter(customer=c).delete()[0],
            on_erase=DELETE,
            order=620,
        )
    )
    privacy.register(
        PrivacyEntry(
            name="clv",
            description=_("Expected purchases, chance of still being a customer, and CLV."),
            models=("predict.CustomerClv",),
            export=_clv_rows,
            count=lambda c: CustomerClv.objects.filter(customer=c).count(),
            erase=lambda c, ctx: CustomerClv.objects.filter(customer=c).delete()[0],
            on_erase=DELETE,
            order=630,
        )
    )
