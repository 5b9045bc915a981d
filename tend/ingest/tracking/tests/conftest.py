from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.ingest.models import IngestStat

Send = Callable[..., httpx.Response]


@pytest.fixture
def write_key(owner: User) -> str:
    return apikey_create(name="web app", kind="write", by=owner)[1]


@pytest.fixture
def send(live_server: Any, write_key: str) -> Send:
    """POST JSON to ``/v1/<path>`` of the live server with the write key as Basic user name."""

    def _send(path: str, body: Any = None, *, key: str | None = None, **kw: Any) -> httpx.Response:
        auth = (write_key if key is None else key, "") if key != "" else None
        if body is not None:
            kw["json"] = body
        return httpx.post(f"{live_server.url}/v1/{path}", auth=auth, timeout=10, **kw)

    return _send


def stats() -> dict[tuple[str, str], int]:
    """Tracking ledger counts as {(outcome, reason): count}."""
    return {(s.outcome, s.reason): s.count for s in IngestStat.objects.filter(source="tracking")}
