""" "Send a test to me": the previewed email goes through the outbox to the logged-in user,
not to the customer, once per click."""

from __future__ import annotations

import pytest

from tend.factories import make_customer
from tend.messaging.models import Message
from tend.messaging.templating import email_template_install

pytest.importorskip("tend.messaging.outbox")
pytestmark = pytest.mark.django_db


def test_a_test_email_goes_to_me_not_to_the_customer(owner, owner_client):
    template = email_template_install(key="welcome", by=owner)
    customer = make_customer(name="Acme", email="ceo@acme.example")
    data = {"customer": customer.pk, "language": "zh-hans", "key": "a" * 32}
    response = owner_client.post(f"/emails/templates/{template.pk}/test/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/emails/templates/{template.pk}/?customer={customer.pk}"
    message = Message.objects.get()
    assert message.to == owner.email and message.to != customer.email
    assert message.subject.startswith("[Test] 欢迎使用")
    assert message.language == "zh-hans" and message.template_id == template.pk
    assert message.source == "template_test"
    assert "Acme" in message.text and "<html" in message.html
    # A double click sends once.
    owner_client.post(f"/emails/templates/{template.pk}/test/", data)
    assert Message.objects.count() == 1


def test_without_an_address_of_my_own_nothing_is_sent(member, member_client):
    template = email_template_install(key="welcome", by=member)
    customer = make_customer(name="Acme", email="ceo@acme.example")
    response = member_client.post(
        f"/emails/templates/{template.pk}/test/", {"customer": customer.pk}, follow=True
    )
    assert "Add your email address in Settings first" in response.content.decode()
    assert not Message.objects.exists()
