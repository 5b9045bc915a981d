"""GET /api/v1/predict/lifetime (any key that reads) and POST /api/v1/predict/lifetime/refit
(owners' keys that write, audited as ``api:<key>``); every key kind × role; hostile bodies;
``tend lifetime fit [--json]`` and ``tend lifetime show``."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import AuditEntry, Role
from tend.predict.models import RetentionFit
from tend.predict.retention import lifetime_fit
from tend.predict.tests.lifetime_data import plant_lives

pytestmark = pytest.mark.django_db


def client_with(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    return getattr(client, method)(
        f"/api/v1{path}",
        json.dumps(body) if body is not None else None,
        content_type="application/json",
    )


def key(role: str, kind: str) -> Client:
    user = user_create(username=f"{role}-{kind}", password="x" * 12, role=Role.OWNER)
    raw = apikey_create(name=f"{role}-{kind}", kind=kind, by=user)[1]
    user.role = role
    user.save(update_fields=["role"])
    return client_with(raw)


def test_the_latest_fits_are_read_with_any_reading_key() -> None:
    plant_lives(600, now=timezone.now(), months=8)
    lifetime_fit()
    body = send(key(Role.VIEWER, "read"), "get", "/predict/lifetime").json()
    assert body["fitted_at"] is not None
    first = body["fits"][0]
    assert first["kind"] == "sbg" and first["cohort"] == "all" and first["status"] == "trained"
    assert set(first["params"]) == {"alpha", "beta"}
    assert len(first["results"]["projected"]) == 37
    assert body["fits"][-1]["kind"] == "cox"


def test_before_any_fit_the_list_is_empty() -> None:
    body = send(key(Role.MEMBER, "read"), "get", "/predict/lifetime").json()
    assert body == {"fitted_at": None, "fits": []}


@pytest.mark.parametrize(
    ("role", "kind", "status"),
    [
        (Role.OWNER, "read_write", 200),
        (Role.OWNER, "read", 403),
        (Role.OWNER, "write", 403),
        (Role.MEMBER, "read_write", 403),
        (Role.VIEWER, "read", 403),
    ],
)
def test_only_an_owners_writing_key_refits(role: str, kind: str, status: int) -> None:
    plant_lives(200, now=timezone.now(), months=6)
    response = send(key(role, kind), "post", "/predict/lifetime/refit", {})
    assert response.status_code == status, response.content
    if status == 200:
        assert response.json()["sbg"]["trained"] >= 1
        assert AuditEntry.objects.get(action="lifetime.fit").actor_label == f"api:{role}-{kind}"
    else:
        assert not RetentionFit.objects.exists()
        assert not AuditEntry.objects.filter(action="lifetime.fit").exists()


def test_no_key_is_a_401_for_both() -> None:
    assert send(Client(), "get", "/predict/lifetime").status_code == 401
    assert send(Client(), "post", "/predict/lifetime/refit", {}).status_code == 401


@pytest.mark.parametrize(
    "body",
    [{"cohort": "2025-01"}, {"x": "\u0000"}, [], "refit", {"now": "9999-99-99"}],
)
def test_hostile_refit_bodies_are_422_and_write_nothing(body: Any) -> None:
    response = send(key(Role.OWNER, "read_write"), "post", "/predict/lifetime/refit", body)
    assert response.status_code in (400, 422), response.content
    assert not RetentionFit.objects.exists()


def test_unknown_query_parameters_are_refused() -> None:
    response = key(Role.OWNER, "read").get("/api/v1/predict/lifetime?cohort=all")
    assert response.status_code == 422


def test_cli_fit_and_show() -> None:
    plant_lives(600, now=timezone.now(), months=8)
    out = StringIO()
    call_command("lifetime", "fit", stdout=out)
    assert "Fitted 600 customers" in out.getvalue()
    assert AuditEntry.objects.get(action="lifetime.fit").actor_label == "cli"
    out = StringIO()
    call_command("lifetime", "show", stdout=out)
    assert "alpha" in out.getvalue() and "all" in out.getvalue() and "Cox" in out.getvalue()
    out = StringIO()
    call_command("lifetime", "fit", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["summary"]["customers"] == 600 and data["fits"][0]["cohort"] == "all"
    out = StringIO()
    call_command("lifetime", "show", "--json", stdout=out)
    assert json.loads(out.getvalue())["fits"][0]["kind"] == "sbg"


def test_cli_show_before_any_fit() -> None:
    out = StringIO()
    call_command("lifetime", "show", stdout=out)
    assert "Not fitted yet" in out.getvalue()


def test_cli_fit_with_too_little_history_says_why_and_exits_1() -> None:
    from django.core.management.base import CommandError

    out = StringIO()
    with pytest.raises(CommandError, match="no lifetime model could be fitted: not enough data"):
        call_command("lifetime", "fit", stdout=out)
    # The table printed before says which fit lacked what.
    assert "not enough data to fit: 0 customers, need" in out.getvalue()
    assert RetentionFit.objects.filter(status="not_enough_data").exists()
