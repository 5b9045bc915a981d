"""/metrics is for Prometheus: an owner's read or read-write API key, or TEND_METRICS_TOKEN.
No key, a member's or a viewer's key, a write-only key, a revoked key: refused, never a 5xx."""

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create, apikey_revoke

TOKEN = "m" * 40


def _get(auth: str | None):
    headers = {} if auth is None else {"Authorization": auth}
    return Client().get("/metrics", headers=headers)


@pytest.mark.django_db
def test_without_a_key_it_is_401_with_a_bearer_challenge():
    response = _get(None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["read", "read_write"])
def test_an_owners_read_key_reads_the_metrics(owner, kind):
    _key, raw = apikey_create(name="prometheus", kind=kind, by=owner)
    response = _get(f"Bearer {raw}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert b"tend_http_requests_total" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["member", "viewer"])
def test_a_members_or_viewers_key_is_refused(request, role):
    user = request.getfixturevalue(role)
    _key, raw = apikey_create(name="prometheus", kind="read", by=user)
    response = _get(f"Bearer {raw}")
    assert response.status_code == 403
    assert "owner" in response.json()["detail"]


@pytest.mark.django_db
def test_an_owners_write_only_key_is_refused(owner):
    _key, raw = apikey_create(name="tracking", kind="write", by=owner)
    assert _get(f"Bearer {raw}").status_code == 403


@pytest.mark.django_db
def test_a_revoked_key_is_401(owner):
    key, raw = apikey_create(name="prometheus", kind="read", by=owner)
    apikey_revoke(key=key, by=owner)
    assert _get(f"Bearer {raw}").status_code == 401


@pytest.mark.django_db
def test_the_metrics_token_reads_the_metrics_when_configured(settings):
    assert _get(f"Bearer {TOKEN}").status_code == 401
    settings.TEND_METRICS_TOKEN = TOKEN
    assert _get(f"Bearer {TOKEN}").status_code == 200
    assert _get(f"Bearer {TOKEN[:-1]}x").status_code == 401


@pytest.mark.django_db
def test_a_session_login_is_not_a_key(owner_client):
    assert owner_client.get("/metrics").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    "auth",
    [
        pytest.param("Bearer " + "a" * 100_000, id="huge"),
        pytest.param("Bearer tr_0123456789abcdef_\x00secret", id="nul"),
        pytest.param("Bearer tr_0123456789\x00abcdef_secret", id="nul-in-lookup"),
        pytest.param("Bearer \u00e9\u00e9", id="latin1"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic"),
        pytest.param("Bearer", id="no-credential"),
        pytest.param("Bearer  ", id="blank"),
        pytest.param("tr_0123456789abcdef_x", id="no-scheme"),
        pytest.param("Bearer tr_0123456789abcdef_x extra", id="two-words"),
    ],
)
def test_hostile_authorization_headers_get_a_401_never_a_5xx(auth):
    response = _get(auth)
    assert response.status_code == 401, (auth[:40], response.status_code)
    assert "detail" in response.json()


@pytest.mark.django_db
def test_other_methods_are_refused():
    assert Client().post("/metrics").status_code == 405
