"""Erasing one person at a customer removes them everywhere and leaves the rest as it was."""

import io
import json
import zipfile

import pytest

from tend.accounts.models import AuditEntry
from tend.activity.models import Event
from tend.customers.models import Contact, Customer, TimelineEntry
from tend.factories import make_contact
from tend.messaging.models import Message, Suppression
from tend.privacy.actions import contact_erase, customer_export
from tend.privacy.models import Erasure
from tend.privacy.scrub import email_hash
from tend.privacy.tests.filling import (
    CONTACT_EMAIL,
    CONTACT_NAME,
    CONTACT_PHONE,
    EMAIL,
    NAME,
    fill,
)

pytestmark = pytest.mark.django_db


def test_the_contact_goes_everywhere_and_the_customer_stays(owner):
    filled = fill(owner)
    keep = make_contact(filled.customer, "Wilhelmina Staysworth", email="wil@quint.example")
    contact_pk = filled.contact.pk
    erasure = contact_erase(contact=filled.contact, by=owner, reference="")

    assert not Contact.objects.filter(pk=contact_pk).exists()
    assert Contact.objects.filter(pk=keep.pk).exists()
    customer = Customer.objects.get(pk=filled.customer.pk)
    assert customer.name == NAME and customer.email == EMAIL
    assert not Message.objects.filter(to=CONTACT_EMAIL).exists()
    assert Suppression.objects.filter(email=email_hash(CONTACT_EMAIL)).exists()
    assert not Event.objects.filter(contact_id=contact_pk).exists()

    for text in (CONTACT_NAME, CONTACT_EMAIL, CONTACT_PHONE):
        blob = json.dumps(list(AuditEntry.objects.values_list("changes", flat=True)))
        assert text not in blob
        assert not TimelineEntry.objects.filter(body__icontains=text).exists()
    # The customer's own history is untouched; the contact's rows keep who and when.
    assert AuditEntry.objects.filter(action="customer.create", changes__name=NAME).exists()
    assert AuditEntry.objects.filter(
        object_type="customers.contact", object_id=str(contact_pk), changes={"erased": True}
    ).exists()
    assert erasure.kind == "contact" and erasure.subject_id == contact_pk
    assert Erasure.objects.count() == 1

    data = customer_export(customer=customer, by=owner)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        blob = "".join(archive.read(n).decode() for n in archive.namelist())
    assert "Wilhelmina Staysworth" in blob
    for text in (CONTACT_NAME, CONTACT_EMAIL, CONTACT_PHONE):
        assert text not in blob, text
