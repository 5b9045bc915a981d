"""Privacy entry of segments: memberships, their history and behavioural scores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _

from tend.customers.models import Customer
from tend.privacy.registry import KEEP, PrivacyEntry, privacy
from tend.privacy.scrub import model_rows
from tend.segments.models import CustomerCluster, CustomerRfm, SegmentChange, SegmentMember

_MODELS = (
    ("member", SegmentMember),
    ("history", SegmentChange),
    ("rfm", CustomerRfm),
    ("usage cluster", CustomerCluster),
)


def _rows(customer: Customer) -> Iterator[dict[str, Any]]:
    for record, model in _MODELS:
        for row in model_rows(model.objects.filter(customer=customer)):
            yield {"record": record, **row}


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="segments",
            description=_(
                "The segments the customer is in and was in, its RFM scores and usage cluster."
            ),
            models=(
                "segments.SegmentMember",
                "segments.SegmentChange",
                "segments.CustomerRfm",
                "segments.CustomerCluster",
            ),
            export=_rows,
            erase=lambda c, ctx: 0,
            count=lambda c: sum(m.objects.filter(customer=c).count() for _r, m in _MODELS),
            on_erase=KEEP,
            order=600,
        )
    )
