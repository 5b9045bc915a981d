from __future__ import annotations

import base64
import csv
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.activity.partitions import TABLE, is_partitioned, partition_create, partitions_list

Track = Callable[[list[dict[str, Any]]], dict[str, Any]]


@pytest.fixture
def track(owner: User) -> Track:
    """Send a batch to the tracking API (``/v1/batch``) with a write key; the JSON answer."""
    key = apikey_create(name="web app", kind="write", by=owner)[1]
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    client = Client()

    def send(batch: list[dict[str, Any]]) -> dict[str, Any]:
        response = client.post(
            "/v1/batch",
            data=json.dumps({"batch": batch}),
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )
        assert response.status_code == 200, response.content
        answer: dict[str, Any] = response.json()
        return answer

    return send


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, header: list[str], rows: list[list[Any]]) -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(header)
            out.writerows(rows)
        return path

    return write


@pytest.fixture
def months() -> Iterator[Callable[..., None]]:
    """On PostgreSQL, create the partitions of these months (the test's transaction drops them)."""

    def create(*starts: date) -> None:
        if not is_partitioned():
            return
        have = {p.start for p in partitions_list()}
        with connection.cursor() as cursor:
            for start in starts:
                if start not in have:
                    partition_create(cursor, start)

    yield create


def partition_of(event_id: int) -> str:
    """The partition holding this event (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE id = %s", [event_id])
        return str(cursor.fetchone()[0])


pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="events are partitioned on PostgreSQL only"
)

__all__ = ["Track", "is_partitioned", "partition_of", "pg_only"]
