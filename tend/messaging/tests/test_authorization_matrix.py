"""Every outbox page and endpoint × owner / member / viewer / outsider, and every API key kind
× role: reads for everyone logged in, retry / cancel / adding a suppression for writers,
removing a suppression and everything about webhook endpoints for owners only. A refused
request changes nothing (messages, suppressions, endpoints and audit rows compared)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import AuditEntry, Role, User
from tend.messaging.actions import suppression_add, webhook_endpoint_create
from tend.messaging.models import Message, MessageStatus, Suppression, WebhookEndpoint
from tend.messaging.outbox import email_enqueue

pytestmark = pytest.mark.django_db

_n = itertools.count(1)
READ, WRITE, MANAGE = "read", "write", "manage"


def fixtures() -> dict[str, Any]:
    """Fresh objects for one request: a queued and a failed message, a suppression, an
    endpoint."""
    n = next(_n)
    queued = email_enqueue(key=f"q{n}", to=f"q{n}@example.com", subject="s", text="t")
    failed = email_enqueue(key=f"f{n}", to=f"f{n}@example.com", subject="s", text="t")
    Message.objects.filter(pk=failed.pk).update(status=MessageStatus.FAILED)
    suppression, _ = suppression_add(email=f"s{n}@example.com", reason="manual")
    endpoint, _secret = webhook_endpoint_create(
        name=f"E{n}", url=f"https://e{n}.example/h", by=None
    )
    return {"queued": queued, "failed": failed, "suppression": suppression, "endpoint": endpoint}


def snapshot() -> tuple[Any, ...]:
    return (
        sorted(Message.objects.values_list("pk", "status", "attempts")),
        sorted(Suppression.objects.values_list("pk", "email")),
        sorted(WebhookEndpoint.objects.values_list("pk", "name", "url", "secret", "archived_at")),
        AuditEntry.objects.exclude(action__startswith="apikey.").count(),
    )


# (need, method, path builder, body)
PAGES: list[tuple[str, str, Callable[[dict[str, Any]], str], dict[str, str]]] = [
    (READ, "get", lambda f: "/messages/", {}),
    (READ, "get", lambda f: f"/messages/{f['failed'].pk}/", {}),
    (READ, "get", lambda f: f"/messages/{f['failed'].pk}/html/", {}),
    (READ, "get", lambda f: "/messages/suppressions/", {}),
    (READ, "get", lambda f: "/messages/webhooks/", {}),
    (WRITE, "post", lambda f: f"/messages/{f['failed'].pk}/retry/", {}),
    (WRITE, "post", lambda f: f"/messages/{f['queued'].pk}/cancel/", {}),
    (WRITE, "post", lambda f: "/messages/suppressions/", {"email": "new@example.com"}),
    (MANAGE, "post", lambda f: f"/messages/suppressions/{f['suppression'].pk}/remove/", {}),
    (MANAGE, "post", lambda f: "/messages/webhooks/", {"name": "N", "url": "https://n.example"}),
    (MANAGE, "post", lambda f: f"/messages/webhooks/{f['endpoint'].pk}/archive/", {}),
    (MANAGE, "post", lambda f: f"/messages/webhooks/{f['endpoint'].pk}/rotate/", {}),
]

API: list[tuple[str, str, Callable[[dict[str, Any]], str], dict[str, str] | None]] = [
    (READ, "get", lambda f: "/api/v1/messages", None),
    (READ, "get", lambda f: f"/api/v1/messages/{f['failed'].pk}", None),
    (READ, "get", lambda f: "/api/v1/suppressions", None),
    (READ, "get", lambda f: "/api/v1/webhook-endpoints", None),
    (WRITE, "post", lambda f: f"/api/v1/messages/{f['failed'].pk}/retry", {}),
    (WRITE, "post", lambda f: f"/api/v1/messages/{f['queued'].pk}/cancel", {}),
    (WRITE, "post", lambda f: "/api/v1/suppressions", {"email": "new@example.com"}),
    (MANAGE, "delete", lambda f: f"/api/v1/suppressions/{f['suppression'].pk}", None),
    (MANAGE, "post", lambda f: "/api/v1/webhook-endpoints", {"name": "N", "url": "https://n.ex"}),
    (MANAGE, "post", lambda f: f"/api/v1/webhook-endpoints/{f['endpoint'].pk}/archive", {}),
    (MANAGE, "post", lambda f: f"/api/v1/webhook-endpoints/{f['endpoint'].pk}/rotate", {}),
]


def allowed(role: str | None, need: str) -> bool:
    if role is None:
        return False
    if need == READ:
        return True
    if need == WRITE:
        return role in (Role.OWNER, Role.MEMBER)
    return role == Role.OWNER


@pytest.mark.parametrize("role", [Role.OWNER, Role.MEMBER, Role.VIEWER, None])
def test_pages_by_role(role: str | None) -> None:
    client = Client()
    if role is not None:
        client.force_login(user_create(username=f"p{role}", password="x" * 12, role=role))
    for need, method, path, body in PAGES:
        f = fixtures()
        before = snapshot()
        url = path(f)
        response = getattr(client, method)(url, body)
        if role is None:
            assert response.status_code == 302 and "/login/" in response["Location"], url
        elif allowed(role, need):
            assert response.status_code in (200, 201, 302), (role, url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
        if not allowed(role, need) and method != "get":
            assert snapshot() == before, (role, url)


def key_client(kind: str, role: str) -> Client:
    user: User = user_create(username=f"k{kind}{role}", password="x" * 12, role=Role.MEMBER)
    _key, raw = apikey_create(name=f"{kind}-{role}", kind=kind, by=user)
    user.role = role
    user.save(update_fields=["role"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.mark.parametrize("role", [Role.OWNER, Role.MEMBER, Role.VIEWER])
@pytest.mark.parametrize("kind", ["read", "read_write", "write"])
def test_api_keys_by_kind_and_role(kind: str, role: str) -> None:
    client = key_client(kind, role)
    for need, method, path, body in API:
        f = fixtures()
        before = snapshot()
        url = path(f)
        if body is None:
            response = getattr(client, method)(url)
        else:
            response = getattr(client, method)(url, body, content_type="application/json")
        if kind == "write":
            ok = False  # ingestion keys never use the REST API
        elif need == READ:
            ok = True
        else:
            ok = kind == "read_write" and allowed(role, need)
        if ok:
            assert response.status_code in (200, 201, 204), (kind, role, url, response.content)
        else:
            assert response.status_code == 403, (kind, role, url, response.status_code)
            assert snapshot() == before, (kind, role, url)


def test_no_credentials_is_a_401_everywhere_and_changes_nothing() -> None:
    client = Client()
    for _need, method, path, body in API:
        f = fixtures()
        before = snapshot()
        url = path(f)
        if body is None:
            response = getattr(client, method)(url)
        else:
            response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 401, url
        assert snapshot() == before, url
