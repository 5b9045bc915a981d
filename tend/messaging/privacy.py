"""Privacy entries of messaging: emails and webhook calls about the customer, and the
suppression list's rows for its addresses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tend.customers.models import Contact, Customer
from tend.messaging.models import DeliveryAttempt, Message, Suppression
from tend.privacy.registry import PrivacyEntry, privacy
from tend.privacy.scrub import ErasureContext, model_rows


def _emails(customer: Customer) -> list[str]:
    emails = [
        customer.email,
        *Contact.objects.filter(customer=customer).values_list("email", flat=True),
    ]
    return sorted({e.strip().lower() for e in emails if e})


def _messages(customer: Customer) -> Any:
    contacts = Contact.objects.filter(customer=customer).values("pk")
    return Message.objects.filter(Q(customer=customer) | Q(contact__in=contacts))


def _message_rows(customer: Customer) -> Iterator[dict[str, Any]]:
    messages = _messages(customer)
    for row in model_rows(messages, exclude=["html"]):
        yield {"record": "message", **row}
    for row in model_rows(DeliveryAttempt.objects.filter(message__in=messages.values("pk"))):
        yield {"record": "delivery attempt", **row}


def _messages_erase(customer: Customer, ctx: ErasureContext) -> int:
    deleted, _by_model = _messages(customer).delete()  # delivery attempts go with them
    return int(deleted)


def _messages_erase_contact(contact: Contact, ctx: ErasureContext) -> int:
    deleted, _by_model = Message.objects.filter(contact=contact).delete()
    return int(deleted)


def _suppressions(emails: list[str]) -> Any:
    return Suppression.objects.filter(email__in=[e.lower() for e in emails])


def _suppressions_erase(customer: Customer, ctx: ErasureContext) -> int:
    # The address itself goes; tend.privacy.actions leaves its sha256 in its place, so the
    # person is never emailed again.
    deleted, _by_model = _suppressions(ctx.emails).delete()
    return int(deleted)


def _suppressions_erase_contact(contact: Contact, ctx: ErasureContext) -> int:
    deleted, _by_model = _suppressions(ctx.emails).delete()
    return int(deleted)


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="messages",
            description=_(
                "Emails and webhook calls sent or queued about the customer or its contacts "
                "(recipient, subject, text, status) and each delivery attempt."
            ),
            models=("messaging.Message", "messaging.DeliveryAttempt"),
            export=_message_rows,
            erase=_messages_erase,
            erase_contact=_messages_erase_contact,
            count=lambda c: _messages(c).count(),
            order=300,
        )
    )
    privacy.register(
        PrivacyEntry(
            name="suppressions",
            description=_(
                "The customer's and its contacts' addresses on the do-not-email list, and why."
            ),
            models=("messaging.Suppression",),
            export=lambda c: model_rows(_suppressions(_emails(c))),
            erase=_suppressions_erase,
            erase_contact=_suppressions_erase_contact,
            count=lambda c: _suppressions(_emails(c)).count(),
            order=300,
        )
    )
