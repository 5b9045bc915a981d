"""Privacy entry of tasks: to-dos about the customer (titles and notes are free text)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tend.customers.models import Contact, Customer
from tend.privacy.registry import PrivacyEntry, privacy
from tend.privacy.scrub import ErasureContext, customer_rows, scrub_rows
from tend.tasks.models import Task


def _erase(customer: Customer, ctx: ErasureContext) -> int:
    deleted, _by_model = Task.objects.filter(customer=customer).delete()
    return int(deleted)


def _erase_contact(contact: Contact, ctx: ErasureContext) -> int:
    return scrub_rows(ctx, Task.objects.filter(customer_id=contact.customer_id), ["title", "notes"])


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="tasks",
            description=_("To-dos about the customer: title, notes, due date, status, assignee."),
            models=("tasks.Task",),
            **customer_rows(Task),
            erase=_erase,
            erase_contact=_erase_contact,
            order=300,
        )
    )
