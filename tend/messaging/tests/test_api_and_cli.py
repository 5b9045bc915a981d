"""The outbox REST API with real keys, and ``tend messages|suppressions|webhooks``."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry
from tend.messaging.models import Message, MessageStatus, Suppression, WebhookEndpoint
from tend.messaging.outbox import email_enqueue
from tend.messaging.tests.helpers import smtp_server, webhook_server

pytestmark = pytest.mark.django_db


def client_with(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def owner_rw(owner: Any) -> Client:
    return client_with(apikey_create(name="owner", kind="read_write", by=owner)[1])


@pytest.fixture
def member_rw(member: Any) -> Client:
    return client_with(apikey_create(name="member", kind="read_write", by=member)[1])


def post(client: Client, path: str, body: Any = None) -> Any:
    return client.post(f"/api/v1{path}", body or {}, content_type="application/json")


def test_messages_are_listed_filtered_shown_retried_and_canceled(
    owner_rw: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with smtp_server(settings) as inbox:
        inbox.rcpt_reply["bad@example.com"] = "550 5.1.1 unknown"
        a = email_enqueue(key="a", to="ada@example.com", subject="Hi", text="t", source="digest")
        b = email_enqueue(key="b", to="bad@example.com", subject="Yo", text="t", outreach=False)
        call_command("messages", "send-due", stdout=io.StringIO())
        listing = owner_rw.get("/api/v1/messages?status=failed").json()
        assert [m["id"] for m in listing["items"]] == [b.pk] and listing["count"] == 1
        assert owner_rw.get("/api/v1/messages?source=digest").json()["items"][0]["id"] == a.pk
        detail = owner_rw.get(f"/api/v1/messages/{b.pk}").json()
        assert detail["last_error"] == "550 5.1.1 unknown"
        assert [x["code"] for x in detail["attempt_log"]] == ["550"]
        inbox.rcpt_reply.clear()
        with django_capture_on_commit_callbacks(execute=True):
            retried = post(owner_rw, f"/messages/{b.pk}/retry")
        assert retried.status_code == 200 and retried.json()["status"] == "queued"
        assert Message.objects.get(pk=b.pk).status == MessageStatus.SENT
    again = post(owner_rw, f"/messages/{a.pk}/cancel")
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "status"
    c = email_enqueue(key="c", to="c@example.com", subject="s", text="t")
    assert post(owner_rw, f"/messages/{c.pk}/cancel").json()["status"] == "canceled"
    assert owner_rw.get("/api/v1/messages/999999").status_code == 404
    assert owner_rw.get("/api/v1/messages?status=bogus").status_code == 422


def test_suppressions_over_the_api(owner_rw: Client, member_rw: Client) -> None:
    created = post(member_rw, "/suppressions", {"email": "Ada@Example.com", "note": "phone"})
    assert created.status_code == 201 and created.json()["email"] == "ada@example.com"
    assert post(member_rw, "/suppressions", {"email": "ada@example.com"}).status_code == 200
    assert owner_rw.get("/api/v1/suppressions").json()["count"] == 1
    row_id = created.json()["id"]
    assert member_rw.delete(f"/api/v1/suppressions/{row_id}").status_code == 403
    assert owner_rw.delete(f"/api/v1/suppressions/{row_id}").status_code == 204
    assert not Suppression.objects.exists()
    bad = post(member_rw, "/suppressions", {"email": "nope"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"


def test_webhook_endpoints_over_the_api(owner_rw: Client, member_rw: Client) -> None:
    created = post(owner_rw, "/webhook-endpoints", {"name": "CRM", "url": "https://x.example/h"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    listing = owner_rw.get("/api/v1/webhook-endpoints").json()
    assert "secret" not in listing["items"][0] and listing["items"][0]["secret_hint"].endswith(
        secret[-4:]
    )
    dup = post(owner_rw, "/webhook-endpoints", {"name": "CRM", "url": "https://x.example/h"})
    assert dup.status_code == 409
    for url in ("javascript:alert(1)", "file:///etc/passwd", "ftp://x.example/"):
        refused = post(owner_rw, "/webhook-endpoints", {"name": "Bad", "url": url})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "url"
    assert (
        post(member_rw, "/webhook-endpoints", {"name": "M", "url": "https://m.example"}).status_code
        == 403
    )
    endpoint_id = created.json()["id"]
    rotated = post(owner_rw, f"/webhook-endpoints/{endpoint_id}/rotate")
    assert rotated.status_code == 200 and rotated.json()["secret"] != secret
    archived = post(owner_rw, f"/webhook-endpoints/{endpoint_id}/archive")
    assert archived.status_code == 200 and archived.json()["archived_at"]
    assert WebhookEndpoint.objects.count() == 1


def test_the_cli(settings: Any) -> None:
    out = io.StringIO()
    with smtp_server(settings) as inbox:
        message = email_enqueue(key="a", to="ada@example.com", subject="Hello CLI", text="t")
        call_command("messages", "send-due", stdout=out)
        assert "1 messages sent." in out.getvalue()
    assert inbox.to() == ["ada@example.com"]
    call_command("messages", "list", "--status", "sent", stdout=out)
    assert "Hello CLI" in out.getvalue()
    call_command("messages", "show", str(message.pk), stdout=out)
    assert "250" in out.getvalue()
    with pytest.raises(CommandError, match="Only failed"):
        call_command("messages", "retry", str(message.pk), stdout=out)
    with pytest.raises(CommandError, match="no message"):
        call_command("messages", "show", "999999", stdout=out)

    call_command("suppressions", "add", "Bo@Example.com", "--note", "asked", stdout=out)
    call_command("suppressions", "list", stdout=out)
    assert "bo@example.com" in out.getvalue()
    with pytest.raises(CommandError, match="email"):
        call_command("suppressions", "add", "not-an-address", stdout=out)
    call_command("suppressions", "remove", "bo@example.com", stdout=out)
    assert not Suppression.objects.exists()
    assert AuditEntry.objects.filter(action="suppression.remove", actor_label="cli").exists()

    with webhook_server() as receiver:
        call_command("webhooks", "create", "CRM", receiver.url, stdout=out)
        assert "shown once" in out.getvalue()
        endpoint = WebhookEndpoint.objects.get()
        assert endpoint.secret in out.getvalue()
        call_command("webhooks", "list", stdout=out)
        call_command("webhooks", "rotate", str(endpoint.pk), stdout=out)
        call_command("webhooks", "archive", str(endpoint.pk), stdout=out)
    with pytest.raises(CommandError, match="http"):
        call_command("webhooks", "create", "Bad", "file:///etc/passwd", stdout=out)
