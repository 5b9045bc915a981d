"""Who may see operations and retry: every URL and endpoint × owner, member, viewer, outsider
and every kind of API key. Owners and members read and retry; viewers and outsiders
neither, and a refused request changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.jobs.tests.ops_helpers import make_trouble
from tend.messaging.models import Message
from tend.playbooks.models import PlaybookRun

pytestmark = pytest.mark.django_db


def _state() -> list[tuple]:
    return sorted(
        PlaybookRun.objects.values_list("pk", "status", "attempts", "next_at", "last_error")
    ) + sorted(
        Message.objects.values_list("pk", "status", "attempts", "next_attempt_at", "last_error")
    )


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("owner", 200), ("member", 200), ("viewer", 403), ("outsider", 302)],
)
def test_the_page_is_for_owners_and_members(persona, expected, request):
    client = request.getfixturevalue(f"{persona}_client")
    response = client.get("/operations/")
    assert response.status_code == expected
    if persona == "outsider":
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
@pytest.mark.parametrize("what", ["run", "message"])
def test_a_viewer_or_outsider_may_not_retry_and_a_refusal_changes_nothing(persona, what, request):
    trouble = make_trouble()
    client = request.getfixturevalue(f"{persona}_client")
    pk = trouble.gave_up.pk if what == "run" else trouble.failed_email.pk
    before = _state()
    response = client.post(f"/operations/{what}s/{pk}/retry/")
    assert response.status_code == (302 if persona == "outsider" else 403)
    if persona == "outsider":
        assert response["Location"].startswith("/login/?next=")
    assert _state() == before


@pytest.mark.parametrize("what", ["runs", "messages"])
def test_retry_is_a_post(owner_client, what):
    trouble = make_trouble()
    pk = trouble.gave_up.pk if what == "runs" else trouble.failed_email.pk
    before = _state()
    assert owner_client.get(f"/operations/{what}/{pk}/retry/").status_code == 405
    assert _state() == before


@pytest.mark.parametrize("what", ["runs", "messages"])
def test_retrying_something_that_does_not_exist_is_a_404_for_writers_only(
    owner_client, member_client, viewer_client, what
):
    for pk in (987654, 2**63 - 1, 10**30):
        assert owner_client.post(f"/operations/{what}/{pk}/retry/").status_code == 404
        assert member_client.post(f"/operations/{what}/{pk}/retry/").status_code == 404
        assert viewer_client.post(f"/operations/{what}/{pk}/retry/").status_code == 403


@pytest.mark.parametrize(
    ("role", "kind", "expected"),
    [
        ("owner", "read", 200),
        ("owner", "read_write", 200),
        ("owner", "write", 403),
        ("member", "read", 200),
        ("member", "read_write", 200),
        ("member", "write", 403),
        ("viewer", "read", 403),
    ],
)
def test_the_api_answers_keys_of_owners_and_members(role, kind, expected, request):
    user = request.getfixturevalue(role)
    raw = apikey_create(name="k", kind=kind, by=user)[1]
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/operations")
    assert response.status_code == expected, response.content
    if expected == 403:
        assert "failed_runs" not in response.json()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("owner", 200), ("member", 200), ("viewer", 403), ("outsider", 401)],
)
def test_the_api_answers_sessions_of_owners_and_members(persona, expected, request):
    client = request.getfixturevalue(f"{persona}_client")
    assert client.get("/api/v1/operations").status_code == expected


def test_a_revoked_or_bad_key_gets_401(owner):
    assert Client(HTTP_AUTHORIZATION="Bearer nope").get("/api/v1/operations").status_code == 401
    assert Client().get("/api/v1/operations").status_code == 401


def test_the_api_has_no_writes(owner):
    raw = apikey_create(name="k", kind="read_write", by=owner)[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/api/v1/operations").status_code == 405
