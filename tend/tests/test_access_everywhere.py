"""Every page needs a login and every write needs a role that writes, found by walking the
URL configuration so new pages are covered the day they are added."""

import re

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from tend.customers.models import AcquisitionChannel, Contact, Customer
from tend.factories import make_customer
from tend.ingest.imports.models import Import, ImportStatus

# "unsubscribe": the signed link in customer emails (tend/messaging/tests/test_unsubscribe.py).
# "healthz", "readyz": load balancers probe them without credentials; they answer a fixed
# word per check and nothing about the installation (tend/observability/tests/test_*z*.py).
# "prometheus_metrics" (/metrics): no login but a key, like the REST API — an owner's API key
# or TEND_METRICS_TOKEN (tend/observability/tests/test_metrics_need_an_owners_key.py).
PUBLIC = {"login", "set_language", "healthz", "readyz", "unsubscribe", "prometheus_metrics"}
# Everyone changes their own password and language (tend/accounts/tests/test_settings_*).
SELF_SERVICE = {"/settings/password/", "/settings/language/"}
# Owners only: a member and a viewer get 403 on GET and POST alike.
OWNER_ONLY_PREFIXES = (
    "/settings/users/",
    "/settings/api-keys/",
    "/settings/business/",
    "/audit/",
)
# What a viewer's POST carries: enough for every form to act if the role check let it through
# (notes, stage, tags, bulk actions on the list, channel names and moves).
HOSTILE_POST = {
    "body": "x",
    "kind": "note",
    "stage": "churned",
    "tags": "hacked",
    "name": "Hacked",
    "direction": "up",
    "bulk-action": "set_stage",
    "bulk-stage": "churned",
    "bulk-all_matching": "on",
}
# REST API (401 JSON, tend/api/tests), tracking API (write keys, tend/ingest/tracking/tests),
# billing webhooks (signatures, tend/ingest/webhooks/tests).
MACHINE_PREFIXES = ("api/", "v1/", "webhooks/")


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern).startswith(MACHINE_PREFIXES):
                continue  # keys or signatures, not logins: tested in their own apps
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield p.name, prefix + str(p.pattern)


def _concrete(route: str, pk: int) -> str:
    path = re.sub(r"<(?:\w+:)?\w+>", str(pk), route)
    return "/" + path.lstrip("^").rstrip("$")


def _page_urls(pk: int) -> list[str]:
    return [
        _concrete(route, pk)
        for name, route in _walk(get_resolver().url_patterns)
        if name not in PUBLIC and "static" not in route
    ]


def _snapshot() -> dict[str, int]:
    return (
        {
            m._meta.label: m.objects.count()
            for m in apps.get_models()
            if m._meta.app_label
            in {"accounts", "customers", "billing", "activity", "imports", "goals"}
        }
        | {
            # Bulk actions and channel edits change rows, not how many there are.
            "customers": hash(
                tuple(
                    Customer.objects.order_by("pk").values_list("pk", "stage", "owner_id", "name")
                )
            ),
            "channels": hash(
                tuple(
                    AcquisitionChannel.objects.order_by("pk").values_list(
                        "code", "name", "position", "archived_at"
                    )
                )
            ),
        }
        | {
            # Resume and cancel change an import's state, not how many there are.
            f"import {i.pk}": hash(
                (
                    i.status,
                    i.attempt,
                    i.cancel_requested,
                    i.rows_read,
                    str(i.mapping),
                    str(i.value_map),
                    str(i.options),
                )
            )
            for i in Import.objects.all()
        }
    )


@pytest.mark.django_db
def test_an_outsider_is_sent_to_the_login_page_from_every_page(outsider_client):
    customer = make_customer()
    urls = _page_urls(customer.pk)
    assert len(urls) >= 4
    for url in urls:
        for method in ("get", "post"):
            response = getattr(outsider_client, method)(url)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response["Location"].startswith("/login/?next="), (method, url)


@pytest.mark.django_db
def test_a_viewer_gets_403_on_every_post_and_nothing_changes(viewer_client, owner):
    customer = make_customer()
    # An interrupted import with the same id, so /imports/<id>/resume|cancel|start/ find one.
    Import.objects.create(
        pk=customer.pk,
        kind="customers",
        file_name="crm.csv",
        status=ImportStatus.INTERRUPTED,
        created_by=owner,
        rows_read=10,
    )
    # A channel with the same id, so /customers/channels/<id>/… find one.
    if not AcquisitionChannel.objects.filter(pk=customer.pk).exists():
        AcquisitionChannel.objects.create(pk=customer.pk, code="fairs", name="Fairs", position=50)
    # A contact with the same id too, so /customers/<id>/contacts/<id>/… find one.
    Contact.objects.create(pk=customer.pk, customer=customer, name="Ann")
    before = _snapshot()
    urls = _page_urls(customer.pk)
    assert {"/customers/bulk/", f"/customers/channels/{customer.pk}/archive/"} <= set(urls)
    for url in urls:
        if url.rstrip("/").endswith("logout") or url in SELF_SERVICE:
            continue
        response = viewer_client.post(
            url,
            HOSTILE_POST
            | {
                "bulk-ids": str(customer.pk),
                # Valid for the customer and contact forms: only the role may stop them.
                "name": customer.name,
                "confirm": customer.name,
                "is_primary": "on",
            },
        )
        assert response.status_code in {403, 405}, (url, response.status_code)
    assert _snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["member", "viewer"])
def test_only_an_owner_reaches_the_owner_only_settings_and_nothing_changes(
    persona, member, viewer, owner, login_as
):
    from tend.accounts.actions import apikey_create
    from tend.accounts.models import ApiKey, User

    key, _raw = apikey_create(name="ci", kind="read", by=owner)
    client = login_as(member if persona == "member" else viewer)
    # One id that is both a user and a key, so every <pk> route finds something to change.
    pk = key.pk if User.objects.filter(pk=key.pk).exists() else owner.pk
    urls = [u for u in _page_urls(pk) if u.startswith(OWNER_ONLY_PREFIXES)]
    assert len(urls) >= 8
    users_before = sorted(User.objects.values_list("pk", "role", "is_active", "password"))
    keys_before = sorted(ApiKey.objects.values_list("pk", "revoked_at"))
    before = _snapshot()
    for url in urls:
        for method in ("get", "post"):
            response = getattr(client, method)(
                url,
                {
                    "role": "owner",
                    "username": "intruder",
                    "name": "k",
                    "kind": "read",
                    "user": str(owner.pk),
                },
            )
            assert response.status_code in {403, 405}, (persona, method, url)
            assert "tr_" not in response.content.decode(), url
    assert _snapshot() == before
    assert sorted(User.objects.values_list("pk", "role", "is_active", "password")) == users_before
    assert sorted(ApiKey.objects.values_list("pk", "revoked_at")) == keys_before


@pytest.mark.django_db
def test_the_probe_and_metrics_endpoints_tell_an_outsider_nothing(outsider_client):
    assert outsider_client.get("/healthz").json() == {"status": "ok"}
    ready = outsider_client.get("/readyz")
    assert ready.status_code in {200, 503}
    assert set(ready.json()) <= {"status", "checks", "failed"}
    assert set(ready.json()["checks"]) == {"database", "migrations", "worker"}
    metrics = outsider_client.get("/metrics")
    assert metrics.status_code == 401
    assert b"tend_" not in metrics.content


# Privacy (tend/privacy): members export, only owners erase or see the erasures; viewers do
# neither (tend/privacy/tests/test_privacy_pages_export_and_erase_by_role.py has the rest).
PRIVACY_OWNER_ONLY = (
    "/privacy/customers/{pk}/erase/",
    "/privacy/contacts/{pk}/erase/",
    "/privacy/erasures/",
)


@pytest.mark.django_db
def test_only_an_owner_erases_and_a_viewer_cannot_even_export(member_client, viewer_client):
    customer = make_customer()
    contact = Contact.objects.create(pk=customer.pk, customer=customer, name=customer.name)
    routes = {route for _name, route in _walk(get_resolver().url_patterns)}
    assert {"privacy/customers/<int:pk>/erase/", "privacy/erasures/"} <= routes
    before = _snapshot()
    for url in PRIVACY_OWNER_ONLY:
        url = url.format(pk=contact.pk)
        for client in (member_client, viewer_client):
            assert client.get(url).status_code == 403, url
            assert client.post(url, {"confirm": customer.name}).status_code in {403, 405}, url
    export = f"/privacy/customers/{customer.pk}/export/"
    assert viewer_client.post(export).status_code == 403
    assert member_client.post(export).status_code == 200
    assert Customer.objects.get(pk=customer.pk).name == customer.name
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert {k: v for k, v in _snapshot().items() if k != "accounts.AuditEntry"} == {
        k: v for k, v in before.items() if k != "accounts.AuditEntry"
    }
