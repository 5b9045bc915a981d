"""The outbox pages: send log with filters, a message's attempts and its HTML in a sandboxed
frame, retry and cancel, the suppression list, webhook endpoints (secret shown once), and the
customer page's Emails panel."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tend.accounts.models import AuditEntry
from tend.factories import make_customer
from tend.messaging.models import Message, MessageStatus, Suppression, WebhookEndpoint
from tend.messaging.outbox import email_enqueue
from tend.messaging.sending import messages_send_due
from tend.messaging.tests.helpers import smtp_server

pytestmark = pytest.mark.django_db


def test_the_send_log_lists_and_filters_messages(owner_client: Client, settings: Any) -> None:
    customer = make_customer(name="Ada Ltd", email="ada@example.com")
    with smtp_server(settings) as inbox:
        inbox.rcpt_reply["bad@example.com"] = "550 5.1.1 unknown user"
        email_enqueue(
            key="a",
            to="ada@example.com",
            subject="Welcome Ada",
            text="t",
            customer=customer,
            source="playbook",
        )
        email_enqueue(key="b", to="bad@example.com", subject="Hello bad", text="t", source="digest")
        messages_send_due()
    page = owner_client.get("/messages/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Welcome Ada" in body and "Hello bad" in body and "550 5.1.1 unknown user" in body
    failed = owner_client.get("/messages/?status=failed").content.decode()
    assert "Hello bad" in failed and "Welcome Ada" not in failed
    mine = owner_client.get(f"/messages/?customer={customer.pk}&source=playbook").content.decode()
    assert "Welcome Ada" in mine and "Hello bad" not in mine
    assert owner_client.get("/messages/?status=nonsense").status_code == 422


def test_the_list_page_runs_a_fixed_number_of_queries(
    owner_client: Client, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        email_enqueue(
            key=f"k{i}", to=f"c{i}@example.com", subject="s", text="t", customer=make_customer()
        )
    with django_assert_max_num_queries(14):
        assert owner_client.get("/messages/").status_code == 200


def test_detail_shows_attempts_and_the_html_in_a_locked_frame(
    owner_client: Client, settings: Any
) -> None:
    with smtp_server(settings):
        message = email_enqueue(
            key="a",
            to="ada@example.com",
            subject="Hi",
            text="plain words",
            html="<p>rich</p><script>alert(1)</script><img src='https://tracker.example/p.gif'>",
        )
        messages_send_due()
    body = owner_client.get(f"/messages/{message.pk}/").content.decode()
    assert "plain words" in body and 'sandbox=""' in body and "250" in body
    assert "<script>alert(1)</script>" not in body
    frame = owner_client.get(f"/messages/{message.pk}/html/")
    assert frame.status_code == 200
    csp = frame["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "img-src data:" in csp
    assert frame["X-Frame-Options"] == "SAMEORIGIN"


def test_retry_and_cancel(
    owner_client: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    message = email_enqueue(key="a", to="ada@example.com", subject="Hi", text="t")
    response = owner_client.post(f"/messages/{message.pk}/cancel/")
    assert response.status_code == 302
    assert Message.objects.get(pk=message.pk).status == MessageStatus.CANCELED
    with smtp_server(settings) as inbox, django_capture_on_commit_callbacks(execute=True):
        owner_client.post(f"/messages/{message.pk}/retry/")
    assert Message.objects.get(pk=message.pk).status == MessageStatus.SENT
    assert inbox.to() == ["ada@example.com"]
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["message.cancel", "message.retry"]


def test_suppressions_added_by_a_member_removed_by_an_owner(
    member_client: Client, owner_client: Client
) -> None:
    response = member_client.post(
        "/messages/suppressions/", {"email": " Ada@Example.com ", "note": "asked by phone"}
    )
    assert response.status_code == 302
    row = Suppression.objects.get()
    assert (row.email, row.reason, row.note) == ("ada@example.com", "manual", "asked by phone")
    assert "ada@example.com" in member_client.get("/messages/suppressions/").content.decode()
    assert member_client.post(f"/messages/suppressions/{row.pk}/remove/").status_code == 403
    assert owner_client.post(f"/messages/suppressions/{row.pk}/remove/").status_code == 302
    assert not Suppression.objects.exists()
    assert AuditEntry.objects.filter(action="suppression.remove").count() == 1
    bad = member_client.post("/messages/suppressions/", {"email": "not an address"})
    assert bad.status_code == 422 and "valid email" in bad.content.decode()


def test_a_webhook_endpoint_shows_its_secret_once(owner_client: Client) -> None:
    response = owner_client.post(
        "/messages/webhooks/", {"name": "CRM", "url": "https://crm.example.com/hook"}
    )
    assert response.status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    listing = owner_client.get("/messages/webhooks/").content.decode()
    assert endpoint.secret not in listing and endpoint.secret[-4:] in listing
    audit = AuditEntry.objects.get(action="webhook_endpoint.create")
    assert endpoint.secret not in str(audit.changes)
    rotated = owner_client.post(f"/messages/webhooks/{endpoint.pk}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret in rotated.content.decode()
    owner_client.post(f"/messages/webhooks/{endpoint.pk}/archive/")
    endpoint.refresh_from_db()
    assert endpoint.archived_at is not None


@pytest.mark.parametrize("url", ["javascript:alert(1)", "file:///etc/passwd", "ftp://x.org/"])
def test_a_non_http_url_is_refused_with_a_clear_error(owner_client: Client, url: str) -> None:
    response = owner_client.post("/messages/webhooks/", {"name": "Bad", "url": url})
    assert response.status_code == 422
    assert "Only http:// and https:// URLs are accepted" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_customer_page_has_an_emails_panel(owner_client: Client) -> None:
    customer = make_customer(name="Ada Ltd", email="ada@example.com")
    email_enqueue(
        key="a", to="ada@example.com", subject="Welcome aboard", text="t", customer=customer
    )
    body = owner_client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="emails-panel"' in body and "Welcome aboard" in body
