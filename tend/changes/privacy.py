"""Privacy entry of the customer-change outbox: rows stay for their consumers, scrubbed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tend.changes.models import CustomerChange
from tend.privacy.registry import ANONYMISE, PrivacyEntry, privacy
from tend.privacy.scrub import customer_rows, scrub_rows


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="changes",
            description=_(
                "The internal log of changes to the customer that other parts of Tend react to."
            ),
            models=("changes.CustomerChange",),
            **customer_rows(CustomerChange),
            erase=lambda c, ctx: scrub_rows(
                ctx, CustomerChange.objects.filter(customer=c), ["data"]
            ),
            erase_contact=lambda p, ctx: scrub_rows(
                ctx, CustomerChange.objects.filter(customer_id=p.customer_id), ["data"]
            ),
            on_erase=ANONYMISE,
            order=850,
        )
    )
