"""Privacy entry of Today: why the customer is on the Today list."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tend.customers.models import Customer
from tend.privacy.registry import PrivacyEntry, privacy
from tend.privacy.scrub import ErasureContext, customer_rows
from tend.today.models import TodayItem


def _erase(customer: Customer, ctx: ErasureContext) -> int:
    deleted, _by_model = TodayItem.objects.filter(customer=customer).delete()
    return int(deleted)


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="today",
            description=_("The customer's place on the Today list: reasons, value, handled."),
            models=("today.TodayItem",),
            **customer_rows(TodayItem),
            erase=_erase,
            order=300,
        )
    )
