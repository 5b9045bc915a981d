"""The data-quality page says, for each kind of data, how long it is kept, the oldest row held
and what the last retention run removed; before any run it says how to run one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tend.accounts.models import AuditEntry
from tend.activity.actions import rollups_rebuild
from tend.activity.models import Event
from tend.factories import make_customer
from tend.privacy.retention import retention_apply

pytestmark = pytest.mark.django_db

URL = reverse("ingest:data_quality")


def _row(page: str, kind: str) -> str:
    match = re.search(rf'<tr data-kind="{kind}">(.*?)</tr>', page, re.S)
    assert match, kind
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_before_any_run_the_page_says_how_to_run_one(member_client: Any, settings: Any) -> None:
    settings.TEND_RETENTION_EVENTS_DAYS = 395
    page = member_client.get(URL).content.decode()
    assert "How long data is kept" in page
    assert "Not run yet" in page and "tend retention" in page
    assert _row(page, "events").startswith("Raw events")
    assert "395 days" in _row(page, "events")
    assert "TEND_RETENTION_EVENTS_DAYS" in _row(page, "events")


def test_after_a_run_each_kind_shows_its_oldest_row_and_what_went(
    member_client: Any, settings: Any
) -> None:
    settings.TEND_RETENTION_EVENTS_DAYS = 30
    settings.TEND_RETENTION_AUDIT_DAYS = 0
    now = datetime.now(UTC)
    acme = make_customer()
    for days in (40, 41, 5):
        Event.objects.create(customer=acme, name="login", timestamp=now - timedelta(days=days))
    rollups_rebuild()
    AuditEntry.objects.filter(action="customer.create").update(at=datetime(2024, 3, 2, tzinfo=UTC))

    retention_apply()
    page = member_client.get(URL).content.decode()

    assert "Last run" in page and "Not run yet" not in page
    events = _row(page, "events")
    assert events.endswith(" 2")  # removed by the last run
    kept = (now - timedelta(days=5)).date()
    assert f"{kept:%m/%d/%Y}" in events or kept.isoformat() in events or str(kept.day) in events
    audit = _row(page, "audit")
    assert "for ever" in audit and "2024" in audit


def test_the_section_costs_a_fixed_handful_of_queries(member_client: Any) -> None:
    with CaptureQueriesContext(connection) as before:
        member_client.get(URL)
    retention_apply()
    make_customer()
    with CaptureQueriesContext(connection) as after:
        member_client.get(URL)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_viewers_do_not_see_the_page(viewer_client: Any) -> None:
    assert viewer_client.get(URL).status_code == 403
