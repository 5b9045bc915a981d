"""Hostile inputs on every outbox surface: NUL bytes, lone surrogates, over-long values, wrong
types, non-http URLs. Never a 5xx; a clear error naming the field; nothing half-saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tend.accounts.actions import apikey_create
from tend.messaging.models import Message, MessageStatus, Suppression, WebhookEndpoint
from tend.messaging.outbox import email_enqueue, webhook_enqueue
from tend.messaging.sending import messages_send_due

pytestmark = pytest.mark.django_db

NASTY = ["\x00", "a\x00b", "\ud800", "x\udfffy", "x" * 100_000, "\r\nBcc: evil@example.com", ""]
HOSTILE = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("text", NASTY)
def test_email_enqueue_stores_anything_safely(text: str, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = email_enqueue(
        key="k" + text,
        to="ada@example.com",
        subject=text,
        text=text,
        html=text,
        source=text,
        source_id=text,
        language=text,
        headers={"X-Note": text, text: "v"},
    )
    message.refresh_from_db()
    assert "\x00" not in message.subject + message.text + message.key
    assert "\n" not in message.subject and "\n" not in "".join(message.headers.values())
    messages_send_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


@given(key=st.text(max_size=400), to=st.text(max_size=300), subject=st.text(max_size=400))
@HOSTILE
def test_email_enqueue_never_raises(key: str, to: str, subject: str) -> None:
    message = email_enqueue(key=key, to=to, subject=subject, text=subject)
    assert Message.objects.filter(pk=message.pk).exists()
    assert email_enqueue(key=key, to="x@example.com", subject="", text="").pk == message.pk


def test_a_webhook_payload_that_is_not_json_is_stored_failed(owner: Any) -> None:
    from tend.messaging.actions import webhook_endpoint_create

    endpoint, _ = webhook_endpoint_create(name="E", url="https://e.example/", by=owner)
    bad = webhook_enqueue(key="a", endpoint=endpoint, payload={"x": object()})  # type: ignore[dict-item]
    nul = webhook_enqueue(key="b", endpoint=endpoint, payload={"x": "a\x00b"})
    lone = webhook_enqueue(key="c", endpoint=endpoint, payload={"x": "\ud800"})
    for message in (bad, nul, lone):
        assert message.status == MessageStatus.FAILED and "JSON" in message.last_error


PAGE_CASES = [
    # (path, form body as sent on the wire, the field that must be named)
    ("/messages/suppressions/", "email=a%00b%40example.com", "email"),
    ("/messages/suppressions/", "email=%ED%A0%80%40example.com", "email"),
    ("/messages/suppressions/", "email=" + "x" * 300 + "%40example.com", "email"),
    ("/messages/suppressions/", "email=", "email"),
    ("/messages/suppressions/", "email=a%40example.com&note=n%00", "note"),
    ("/messages/suppressions/", "email=a%40example.com&note=" + "n" * 301, "note"),
    ("/messages/webhooks/", "name=a%00&url=https%3A%2F%2Fok.example", "name"),
    ("/messages/webhooks/", "name=%20%20&url=https%3A%2F%2Fok.example", "name"),
    ("/messages/webhooks/", "name=" + "n" * 121 + "&url=https%3A%2F%2Fok.example", "name"),
    ("/messages/webhooks/", "name=ok&url=javascript%3Aalert(1)", "url"),
    ("/messages/webhooks/", "name=ok&url=file%3A%2F%2F%2Fetc%2Fpasswd", "url"),
    ("/messages/webhooks/", "name=ok&url=ftp%3A%2F%2Fexample.com%2F", "url"),
    ("/messages/webhooks/", "name=ok&url=https%3A%2F%2Fok.example%2F%0D%0AX%3A1", "url"),
    ("/messages/webhooks/", "name=ok&url=https%3A%2F%2Fok.example%2F%ED%A0%80", "url"),
    ("/messages/webhooks/", "name=ok&url=https%3A%2F%2F" + "x" * 2100, "url"),
]


@pytest.mark.parametrize("path, body, field", PAGE_CASES)
def test_page_forms_refuse_bad_text_naming_the_field(
    owner_client: Client, path: str, body: str, field: str
) -> None:
    response = owner_client.post(path, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422, (path, body[:60])
    assert f'id="id_{field}"' in response.content.decode()
    assert "is-invalid" in response.content.decode()
    assert not Suppression.objects.exists() and not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "status=%00",
        "customer=abc",
        "customer=99999999999999999999999",
        "source=%ED%A0%80",
        "source=" + "x" * 5000,
        "page=-1",
        "page=abc",
    ],
)
def test_the_send_log_filters_never_fail(owner_client: Client, query: str) -> None:
    response = owner_client.get(f"/messages/?{query}")
    assert response.status_code in (200, 400, 422), query


@pytest.fixture
def api(owner: Any) -> Client:
    return Client(
        HTTP_AUTHORIZATION=f"Bearer {apikey_create(name='k', kind='read_write', by=owner)[1]}"
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "a\u0000b@example.com"}, "email"),
        ({"email": "\ud800@example.com"}, "email"),
        ({"email": "x" * 300 + "@example.com"}, "email"),
        ({"email": 42}, "email"),
        ({"email": "a@example.com", "note": "n" * 301}, "note"),
        ({"email": "a@example.com", "extra": 1}, "extra"),
    ],
)
def test_api_suppression_input_is_checked(api: Client, body: dict[str, Any], field: str) -> None:
    response = api.post("/api/v1/suppressions", body, content_type="application/json")
    assert response.status_code in (400, 422), response.content
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not Suppression.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://example.com/",
        "http://a b.example/",
        "https://x.example/\u0000",
        "https://x.example/\ud800",
        "https://" + "x" * 2100,
        42,
        None,
    ],
)
def test_api_webhook_urls_are_checked(api: Client, url: Any) -> None:
    response = api.post(
        "/api/v1/webhook-endpoints", {"name": "E", "url": url}, content_type="application/json"
    )
    assert response.status_code in (400, 422), response.content
    assert "url" in {e["field"] for e in response.json()["errors"]}
    assert not WebhookEndpoint.objects.exists()


@given(token=st.text(min_size=1, max_size=300))
@HOSTILE
def test_unsubscribe_never_fails_on_any_token(token: str) -> None:
    from urllib.parse import quote

    path = "/u/" + quote(token.encode("utf-8", "surrogatepass"), safe="") + "/"
    response = Client().post(path)
    assert response.status_code in (400, 404, 429), (token, response.status_code)
    assert not Suppression.objects.exists()
