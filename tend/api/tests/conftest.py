"""A real HTTP server and client for the API tests, and keys of every kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import User

CSRF_TOKEN = "a" * 32


@pytest.fixture
def api_base(live_server: Any) -> str:
    return f"{live_server.url}/api/v1"


@pytest.fixture
def http(api_base: str) -> Iterator[Callable[..., httpx.Client]]:
    """``http(key=raw)`` or ``http(session=user)``: a client for the live server."""
    clients: list[httpx.Client] = []

    def make(
        key: str | None = None,
        *,
        session: User | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Client:
        all_headers = dict(headers or {})
        cookies: dict[str, str] = {}
        if key is not None:
            all_headers["Authorization"] = f"Bearer {key}"
        if session is not None:
            django_client = Client()
            django_client.force_login(session)
            cookies["sessionid"] = django_client.cookies["sessionid"].value
        client = httpx.Client(
            base_url=api_base,
            headers=all_headers,
            cookies=cookies,
            timeout=20,
            follow_redirects=False,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def make_key(owner: User) -> Callable[..., str]:
    """``make_key("read")``: a new key of that kind, created by the owner unless ``user``."""

    def make(kind: str, *, user: User | None = None, name: str | None = None) -> str:
        _key, raw = apikey_create(name=name or f"{kind}-key", kind=kind, by=user or owner)
        return raw

    return make


@pytest.fixture
def rw(http: Callable[..., httpx.Client], make_key: Callable[..., str]) -> httpx.Client:
    """An HTTP client with the owner's read_write key named ``zapier``."""
    return http(make_key("read_write", name="zapier"))


@pytest.fixture
def ro(http: Callable[..., httpx.Client], make_key: Callable[..., str]) -> httpx.Client:
    """An HTTP client with the owner's read key."""
    return http(make_key("read"))
