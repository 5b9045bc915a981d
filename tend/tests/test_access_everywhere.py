"""Every page needs a login and every write needs a role that writes, found by walking the
URL configuration so new pages are covered the day they are added."""

import re

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from tend.customers.models import Contact
from tend.factories import make_customer
from tend.ingest.imports.models import Import, ImportStatus

PUBLIC = {"login", "set_language", "healthz"}
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
    return {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in {"accounts", "customers", "billing", "activity", "imports", "goals"}
    } | {
        # Resume and cancel change an import's state, not how many there are.
        f"import {i.pk}": hash((i.status, i.attempt, i.cancel_requested, i.rows_read))
        for i in Import.objects.all()
    }


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
    # A contact with the same id too, so /customers/<id>/contacts/<id>/… find one.
    Contact.objects.create(pk=customer.pk, customer=customer, name="Ann")
    before = _snapshot()
    for url in _page_urls(customer.pk):
        if url.rstrip("/").endswith("logout"):
            continue
        response = viewer_client.post(
            url,
            {
                "body": "x",
                "kind": "note",
                "stage": "churned",
                "tags": "hacked",
                # Valid for the customer and contact forms: only the role may stop them.
                "name": customer.name,
                "confirm": customer.name,
                "is_primary": "on",
            },
        )
        assert response.status_code in {403, 405}, (url, response.status_code)
    assert _snapshot() == before
