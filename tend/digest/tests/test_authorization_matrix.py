"""Every digest URL × owner/member/viewer/outsider/API-key callers; a refused request changes
nothing. The digest has no REST endpoint: API keys do not open pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import Role, User
from tend.digest.tests.helpers import person
from tend.messaging.models import Message

pytestmark = pytest.mark.django_db

PAGES = ["/digest/preview/", "/digest/preview/email/"]
WRITE = "/digest/preference/"


def state() -> tuple[Any, ...]:
    return (
        sorted(User.objects.values_list("username", "digest")),
        Message.objects.count(),
    )


@pytest.mark.parametrize(
    "role, page_status, write_status",
    [(Role.OWNER, 200, 302), (Role.MEMBER, 200, 302), (Role.VIEWER, 200, 403)],
)
def test_roles(role: str, page_status: int, write_status: int) -> None:
    user = person(f"user-{role}", role=role, digest="off")
    client = Client()
    client.force_login(user)
    for url in PAGES:
        assert client.get(url).status_code == page_status, url
        assert client.post(url).status_code == 405, url  # pages only read
    before = state()
    assert client.get(WRITE).status_code == 405
    assert client.post(WRITE, {"digest": "daily"}).status_code == write_status
    user.refresh_from_db()
    assert user.digest == ("daily" if write_status == 302 else "off")
    if write_status != 302:
        assert state() == before
    assert Message.objects.count() == 0  # a preview never sends


def test_outsiders_are_sent_to_the_login_page() -> None:
    person("someone", digest="off")
    before = state()
    client = Client()
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.post(WRITE, {"digest": "daily"})
    assert response.status_code in (302, 403)
    assert state() == before


@pytest.mark.parametrize("kind", ["read", "read_write", "write"])
def test_api_keys_do_not_open_digest_pages(owner: User, kind: str) -> None:
    _key, raw = apikey_create(name=kind, kind=kind, by=owner)
    before = state()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for url in PAGES:
        assert client.get(url).status_code == 302  # to the login page
    assert client.post(WRITE, {"digest": "daily"}).status_code in (302, 403)
    assert state() == before


def test_the_framed_email_has_its_own_policy(owner_client: Client) -> None:
    response = owner_client.get("/digest/preview/email/")
    policy = response["Content-Security-Policy"]
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'self'" in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    page = owner_client.get("/digest/preview/")
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert 'src="/digest/preview/email/"' in page.content.decode()
