"""Privacy entries of the customers app: the customer, its contacts, stage history, timeline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tend.customers.models import Contact, Customer, StageChange, TimelineEntry
from tend.privacy.registry import ANONYMISE, DELETE, PrivacyEntry, privacy
from tend.privacy.scrub import ErasureContext, customer_rows, model_rows, scrub_rows


def erased_name(customer_id: int) -> str:
    """The name an erased customer keeps (stored, so in one language for every reader)."""
    return f"Erased customer #{customer_id}"


def _customer_rows(customer: Customer) -> Iterator[dict[str, Any]]:
    for row in model_rows(Customer.objects.filter(pk=customer.pk), exclude=["stage_rank"]):
        row["tags"] = ", ".join(customer.tags.order_by("name").values_list("name", flat=True))
        yield row


def _customer_erase(customer: Customer, ctx: ErasureContext) -> int:
    """The customer row stays as an anonymised shell: billing rows, the MRR ledger and the
    metrics built on them keep pointing at it. Everything that names or reaches the person
    goes; what reports count (stage, plan, channel, country, dates, MRR, owner) stays."""
    customer.tags.clear()
    return Customer.objects.filter(pk=customer.pk).update(
        name=erased_name(customer.pk),
        email="",
        phone="",
        external_id=None,
        industry="",
        size=None,
        birthday=None,
        traits={},
        updated_at=timezone.now(),
    )


def _contacts_erase(customer: Customer, ctx: ErasureContext) -> int:
    deleted, _by_model = Contact.objects.filter(customer=customer).delete()
    return int(deleted)


def _contact_erase(contact: Contact, ctx: ErasureContext) -> int:
    deleted, _by_model = Contact.objects.filter(pk=contact.pk).delete()
    return int(deleted)


def _stage_erase(customer: Customer, ctx: ErasureContext) -> int:
    # The moves stay (lifecycle reports count them); what a person wrote as the reason goes.
    return StageChange.objects.filter(customer=customer).exclude(reason="").update(reason="")


def _timeline_erase(customer: Customer, ctx: ErasureContext) -> int:
    deleted, _by_model = TimelineEntry.objects.filter(customer=customer).delete()
    return int(deleted)


def _timeline_erase_contact(contact: Contact, ctx: ErasureContext) -> int:
    return scrub_rows(
        ctx,
        TimelineEntry.objects.filter(customer_id=contact.customer_id),
        ["title", "body", "data"],
    )


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="customer",
            description=_(
                "The customer's profile: name, email, phone, external id, industry, size, "
                "country, birthday, traits, tags, plan, stage, owner and key dates."
            ),
            models=("customers.Customer",),
            export=_customer_rows,
            erase=_customer_erase,
            count=lambda c: 1,
            on_erase=ANONYMISE,
            order=1000,
        )
    )
    privacy.register(
        PrivacyEntry(
            name="contacts",
            description=_(
                "The people at the customer: name, email, phone, job title, external id, "
                "traits and marketing-email consent."
            ),
            models=("customers.Contact",),
            **customer_rows(Contact),
            erase=_contacts_erase,
            erase_contact=_contact_erase,
            order=900,
        )
    )
    privacy.register(
        PrivacyEntry(
            name="stage-history",
            description=_("Every move between lifecycle stages, when and why."),
            models=("customers.StageChange",),
            **customer_rows(StageChange),
            erase=_stage_erase,
            on_erase=ANONYMISE,
            order=800,
        )
    )
    privacy.register(
        PrivacyEntry(
            name="timeline",
            description=_("The customer's timeline: notes, calls, emails, meetings and events."),
            models=("customers.TimelineEntry",),
            **customer_rows(TimelineEntry),
            erase=_timeline_erase,
            erase_contact=_timeline_erase_contact,
            on_erase=DELETE,
            order=500,
        )
    )
