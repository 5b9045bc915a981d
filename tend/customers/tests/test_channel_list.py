"""Acquisition channels are the founder's own list; a customer's channel must be on it."""

import pytest
from django.core.exceptions import ValidationError

from tend.customers.actions import customer_create, customer_update
from tend.customers.channels import (
    channel_archive,
    channel_choices,
    channel_create,
    channel_labels,
    channels_ensure,
)
from tend.customers.models import AcquisitionChannel

pytestmark = pytest.mark.django_db


def test_a_new_install_offers_the_built_in_channels_in_order(owner):
    codes = [code for code, _label in channel_choices()]
    assert codes[:3] == ["organic", "paid_search", "social"]
    assert "other" in codes


def test_a_channel_not_on_the_list_is_refused_with_the_allowed_ones_named(owner):
    with pytest.raises(ValidationError) as caught:
        customer_create(by=owner, name="Acme", channel="web")
    message = " ".join(caught.value.message_dict["channel"])
    assert "“web”" in message and "organic" in message and "paid_search" in message
    assert not AcquisitionChannel.objects.filter(code="web").exists()


def test_the_founders_own_channel_can_be_used_and_keeps_its_name(owner):
    channel_create(code="web", name="Website form", by=owner)
    customer = customer_create(by=owner, name="Acme", channel="web")
    assert customer.channel_label == "Website form"
    assert ("web", "Website form") in channel_choices()


def test_an_archived_channel_is_no_longer_offered_but_old_customers_keep_its_label(owner):
    channel = channel_create(code="fairs", name="Trade fairs", by=owner)
    customer = customer_create(by=owner, name="Acme", channel="fairs")
    channel_archive(channel=channel, by=owner)
    assert "fairs" not in dict(channel_choices())
    assert channel_labels()["fairs"] == "Trade fairs"
    customer_update(customer=customer, by=owner, industry="Retail")  # still valid
    customer.refresh_from_db()
    assert customer.channel == "fairs"


def test_ensuring_channels_creates_only_the_missing_ones_once(owner):
    created = channels_ensure(codes=["web", "organic", "web", ""], by=owner)
    assert [c.code for c in created] == ["web"]
    assert channels_ensure(codes=["web"], by=owner) == []
    assert AcquisitionChannel.objects.filter(code="web").count() == 1
