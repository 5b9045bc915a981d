"""CORS on the tracking API only: preflights answered 204, every answer on ``/v1/*`` (refusals
and 429s too) carries ``Access-Control-Allow-Origin``, credentials are never allowed, pages on
origins outside ``TEND_TRACKING_CORS_ORIGINS`` are refused before anything is stored, and no
other URL of Tend answers CORS at all. The real browser test is test_keys_cors_browser.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.activity.models import Event
from tend.ingest.models import IngestStat
from tend.lib.env import ConfigError, env_origins
from tend.ratelimit.rates import Rate

pytestmark = pytest.mark.django_db

PAGE = "https://shop.example"
TRACK = {"type": "track", "userId": "u-1", "event": "Signed in", "messageId": "m-1"}
PREFLIGHT = {
    "HTTP_ORIGIN": PAGE,
    "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
    "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "content-type,authorization,content-encoding",
}


@pytest.fixture
def raw(owner: User) -> str:
    return apikey_create(name="web", kind="write", by=owner)[1]


def post(path: str, body: Any, *, origin: str | None = PAGE, **extra: Any) -> Any:
    if origin is not None:
        extra["HTTP_ORIGIN"] = origin
    return Client().post(path, body, content_type="text/plain", **extra)


def json_body(raw: str, **fields: Any) -> str:
    import json

    return json.dumps({**TRACK, "writeKey": raw, **fields})


@pytest.mark.parametrize(
    "path", ["/v1/track", "/v1/identify", "/v1/page", "/v1/batch", "/v1/import"]
)
def test_a_preflight_on_v1_is_a_204_allowing_post_and_the_sdk_headers_for_a_day(path):
    response = Client().options(path, **PREFLIGHT)
    assert response.status_code == 204 and response.content == b""
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "authorization", "content-encoding"} <= allowed
    assert response["Access-Control-Max-Age"] == "86400"
    assert "Access-Control-Allow-Credentials" not in response
    assert "Content-Length" not in response


def test_an_accepted_call_and_every_kind_of_refusal_carry_the_allow_origin_header(raw, settings):
    ok = post("/v1/track", json_body(raw))
    assert ok.status_code == 200
    bad_json = post("/v1/track", "{nope")
    no_key = post("/v1/track", json_body(""))
    wrong_key = post("/v1/track", "{}", HTTP_AUTHORIZATION="Basic !!")
    too_big = post("/v1/track", json_body(raw, properties={"x": "y" * 40_000}))
    settings.TEND_RATE_LIMIT_TRACKING = Rate(limit=1, seconds=86400)
    throttled = post("/v1/track", json_body(raw, messageId="m-2"))
    statuses = [r.status_code for r in (bad_json, no_key, wrong_key, too_big, throttled)]
    assert statuses == [400, 401, 401, 413, 429]
    for response in (ok, bad_json, no_key, wrong_key, too_big, throttled):
        assert response["Access-Control-Allow-Origin"] == "*", response.status_code
        assert "Access-Control-Allow-Credentials" not in response
    assert "Retry-After" in throttled["Access-Control-Expose-Headers"]
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    "path",
    ["/api/v1/customers", "/api/v1/openapi.json", "/login/", "/customers/", "/webhooks/stripe"],
)
def test_no_url_outside_v1_answers_cors(path, owner):
    client = Client()
    preflight = client.options(path, **PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in preflight
    assert preflight.status_code != 204
    for response in (client.get(path, HTTP_ORIGIN=PAGE), client.post(path, HTTP_ORIGIN=PAGE)):
        assert not any(h.lower().startswith("access-control-") for h in response.headers)


@pytest.fixture
def only_shop(settings: Any) -> None:
    settings.CORS_ALLOW_ALL_ORIGINS = False
    settings.CORS_ALLOWED_ORIGINS = [PAGE, "http://localhost:8080"]


def test_with_a_list_of_origins_a_listed_page_gets_its_own_origin_back(raw, only_shop):
    preflight = Client().options("/v1/batch", **PREFLIGHT)
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == PAGE
    response = post("/v1/track", json_body(raw))
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == PAGE
    assert "origin" in response["Vary"].lower()


def test_with_a_list_of_origins_a_page_elsewhere_is_refused_and_nothing_is_stored(raw, only_shop):
    evil = {**PREFLIGHT, "HTTP_ORIGIN": "https://evil.example"}
    preflight = Client().options("/v1/track", **evil)
    assert "Access-Control-Allow-Origin" not in preflight  # the browser stops here
    # sendBeacon and text/plain fetch need no preflight: the server refuses them itself.
    response = post("/v1/track", json_body(raw), origin="https://evil.example")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden_origin"
    assert response.json()["error"]["field"] == "Origin"
    assert not Event.objects.exists()
    assert IngestStat.objects.get(source="tracking", reason="forbidden_origin").count == 1


def test_with_a_list_of_origins_servers_without_an_origin_header_still_send(raw, only_shop):
    assert post("/v1/track", json_body(raw), origin=None).status_code == 200
    assert Event.objects.count() == 1


def test_the_origins_setting_takes_star_or_origins_and_names_itself_when_wrong(monkeypatch):
    name = "TEND_TRACKING_CORS_ORIGINS"
    monkeypatch.setenv(name, " https://a.example/ , http://localhost:8080 ")
    assert env_origins(name, ["*"]) == ["https://a.example", "http://localhost:8080"]
    monkeypatch.delenv(name)
    assert env_origins(name, ["*"]) == ["*"]
    for bad in ("a.example", "https://a.example/shop", "ftp://a.example", "https://*.a.example"):
        monkeypatch.setenv(name, bad)
        with pytest.raises(ConfigError, match=name):
            env_origins(name, ["*"])
