"""The public unsubscribe page (/u/<token>/): GET asks, POST (the button, or a mail client's
RFC 8058 one-click POST without any CSRF token) suppresses the address and notes it on the
customer's timeline, in English and Chinese, with no login; a forged token is a clear 400."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tend.customers.models import TimelineEntry
from tend.customers.timeline import describe
from tend.factories import make_contact, make_customer
from tend.messaging.models import Message, MessageStatus, Suppression, SuppressionReason
from tend.messaging.outbox import email_enqueue
from tend.messaging.unsubscribe import unsubscribe_token, unsubscribe_url

pytestmark = pytest.mark.django_db


def path_for(email: str) -> str:
    return unsubscribe_url(email).removeprefix("http://localhost:8000")


def test_one_click_post_from_a_mail_client_unsubscribes_without_login_or_csrf() -> None:
    customer = make_customer(name="Ada Ltd", email="ada@example.com")
    other = make_customer(name="Bo Co", email="bo@example.com")
    make_contact(other, email="ADA@example.com")
    queued = email_enqueue(key="later", to="ada@example.com", subject="s", text="t")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        path_for("ada@example.com"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    suppression = Suppression.objects.get(email="ada@example.com")
    assert suppression.reason == SuppressionReason.UNSUBSCRIBED
    # Both customers with that address (own and a contact's) get a timeline line.
    entries = TimelineEntry.objects.filter(data__msg="email_unsubscribed").order_by("customer_id")
    assert [e.customer_id for e in entries] == [customer.pk, other.pk]
    assert describe(entries[0]) == "ada@example.com unsubscribed from emails"
    # The email still waiting to go is suppressed; a second click changes nothing.
    assert Message.objects.get(pk=queued.pk).status == MessageStatus.SUPPRESSED
    assert client.post(path_for("ada@example.com")).status_code == 200
    assert TimelineEntry.objects.filter(data__msg="email_unsubscribed").count() == 2


def test_get_shows_a_confirm_button_and_changes_nothing() -> None:
    response = Client().get(path_for("ada@example.com"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "ada@example.com" in body and 'id="unsubscribe-confirm"' in body
    assert not Suppression.objects.exists()


def test_the_page_speaks_chinese_to_a_chinese_browser() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.get(path_for("ada@example.com"))
    assert response.status_code == 200
    assert '<html lang="zh-hans"' in response.content.decode()


@pytest.mark.parametrize(
    "token",
    [
        "forged",
        unsubscribe_token("ada@example.com")[:-3] + "abc",
        "ImFkYUBleGFtcGxlLmNvbSI:1xaGKg:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "x" * 5000,
        "%00",
        "%ED%A0%80",
    ],
    # Fixed ids: the damaged token holds a timestamp, and xdist's workers must collect the
    # same test names.
    ids=["forged", "damaged", "wrong-signature", "huge", "nul", "lone-surrogate"],
)
def test_a_forged_or_damaged_token_is_a_clear_400(token: str) -> None:
    for method in ("get", "post"):
        response = getattr(Client(), method)(f"/u/{token}/")
        assert response.status_code == 400, (method, token)
        text = response.content.decode()
        assert "not valid" in text or "NUL character" in text  # the NUL middleware answers first
    assert not Suppression.objects.exists()


def test_a_token_for_something_that_is_not_an_address_is_refused() -> None:
    response = Client().post(path_for("not an address"))
    assert response.status_code == 400
    assert not Suppression.objects.exists()


def test_the_page_is_rate_limited_per_address(settings: Any) -> None:
    from tend.ratelimit.rates import parse_rate

    settings.TEND_RATE_LIMIT_UNSUBSCRIBE = parse_rate("2/m")
    client = Client()
    assert client.get(path_for("a@example.com")).status_code == 200
    assert client.get(path_for("a@example.com")).status_code == 200
    refused = client.post(path_for("a@example.com"))
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert not Suppression.objects.exists()
