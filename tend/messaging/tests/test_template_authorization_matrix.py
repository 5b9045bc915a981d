"""Every email-template page and endpoint × owner, member, viewer, outsider and every API
key kind: everyone logged in reads and previews, owners and members write, a refused request
changes nothing."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import AuditEntry, Role
from tend.factories import make_customer
from tend.messaging.models import EmailTemplate
from tend.messaging.templating import email_template_install

pytestmark = pytest.mark.django_db

OUTBOX = importlib.util.find_spec("tend.messaging.outbox") is not None
FORM = {
    "name": "Hacked",
    "subject_en": "Hacked {{ customer.name }}",
    "body_en": "Hacked",
    "subject_zh_hans": "",
    "body_zh_hans": "",
    "key": "referral-invitation",
}


def snapshot() -> Any:
    return (
        sorted(
            EmailTemplate.objects.values_list(
                "pk", "name", "subject_en", "body_en", "subject_zh_hans", "archived_at"
            )
        ),
        AuditEntry.objects.filter(action__startswith="emailtemplate.").count(),
    )


def pages(pk: int, customer: int) -> dict[str, list[str]]:
    base = "/emails/templates"
    return {
        "read": [
            f"{base}/",
            f"{base}/?archived=1",
            f"{base}/{pk}/",
            f"{base}/{pk}/?customer={customer}",
            f"{base}/{pk}/frame/?customer={customer}&language=zh-hans",
            f"{base}/customers/?q=acme",
        ],
        "write_get": [f"{base}/new/", f"{base}/{pk}/edit/"],
        "write_post": [
            f"{base}/new/",
            f"{base}/{pk}/edit/",
            f"{base}/install/",
            f"{base}/check/",
            f"{base}/{pk}/archive/",
            f"{base}/{pk}/restore/",
            f"{base}/{pk}/test/",
        ],
    }


@pytest.mark.parametrize("persona", ["owner", "member", "viewer", "outsider"])
def test_pages_by_role(persona, owner, member, viewer, login_as):
    template = email_template_install(key="welcome", by=owner)
    customer = make_customer(name="Acme", email="a@acme.example")
    client = {
        "owner": login_as(owner),
        "member": login_as(member),
        "viewer": login_as(viewer),
        "outsider": Client(),
    }[persona]
    urls = pages(template.pk, customer.pk)
    for url in urls["read"] + urls["write_get"]:
        response = client.get(url)
        if persona == "outsider":
            assert response.status_code == 302 and "/login/" in response["Location"], url
        elif persona == "viewer" and url in urls["write_get"]:
            assert response.status_code == 403, url
        else:
            assert response.status_code == 200, url
    for url in urls["write_post"]:
        if persona in {"owner", "member"}:
            if url.endswith("/test/") and not OUTBOX:
                continue  # the outbox (another app) is not installed in this build
            response = client.post(url, FORM | {"customer": customer.pk})
            assert response.status_code in {200, 302, 422}, url
            continue
        before = snapshot()
        response = client.post(url, FORM | {"customer": customer.pk})
        if persona == "outsider":
            assert response.status_code == 302 and "/login/" in response["Location"], url
        else:
            assert response.status_code == 403, url
        assert snapshot() == before, url


KEY_KINDS = ["read", "read_write", "write"]


@pytest.mark.parametrize("role", [Role.OWNER, Role.MEMBER, Role.VIEWER])
@pytest.mark.parametrize("kind", KEY_KINDS)
def test_api_by_key_kind_and_role(kind, role, owner):
    user = user_create(username=f"k{kind}{role}", password="x" * 12, role=Role.MEMBER)
    _key, raw = apikey_create(name=f"{kind}-{role}", kind=kind, by=user)
    user.role = role
    user.save(update_fields=["role"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    template = email_template_install(key="welcome", by=owner)
    customer = make_customer(name="Acme", email="a@acme.example")
    reads = [
        "/api/v1/email-templates",
        f"/api/v1/email-templates/{template.pk}",
        "/api/v1/email-templates/variables",
        "/api/v1/email-templates/builtins",
    ]
    read_status = 403 if kind == "write" else 200
    for url in reads:
        assert client.get(url).status_code == read_status, url
    writes: list[tuple[str, str, dict[str, Any]]] = [
        ("post", "/api/v1/email-templates", {k: v for k, v in FORM.items() if k != "key"}),
        ("patch", f"/api/v1/email-templates/{template.pk}", {"name": "Renamed"}),
        ("post", f"/api/v1/email-templates/{template.pk}/archive", {}),
        ("post", f"/api/v1/email-templates/{template.pk}/restore", {}),
        ("post", "/api/v1/email-templates/install", {"key": "birthday"}),
        ("post", f"/api/v1/email-templates/{template.pk}/preview", {"customer_id": customer.pk}),
    ]
    may_write = kind == "read_write" and role != Role.VIEWER
    for method, url, body in writes:
        before = snapshot()
        response = getattr(client, method)(url, body, content_type="application/json")
        if may_write:
            assert response.status_code in {200, 201}, (url, response.content)
        else:
            assert response.status_code == 403, (url, response.status_code)
            assert snapshot() == before, url


def test_no_key_is_a_401():
    assert Client().get("/api/v1/email-templates").status_code == 401
