"""Real traffic from the official Segment Python SDK, sent to a live Tend server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from segment.analytics.client import Client

from tend.activity.models import DailyRollup, Event
from tend.customers.models import Contact, Customer
from tend.ingest.tracking.tests.conftest import stats

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sdk(live_server: Any, write_key: str) -> Iterator[Client]:
    errors: list[Exception] = []
    client = Client(
        write_key,
        host=live_server.url,
        sync_mode=True,
        max_retries=0,
        on_error=lambda error, _batch: errors.append(error),
    )
    yield client  # sync mode: every call is one finished HTTP request, nothing to flush
    assert not errors


def test_the_segment_sdk_creates_a_customer_a_contact_and_events(sdk: Client) -> None:
    sdk.group(
        "u1", "acme", {"name": "Acme Ltd", "industry": "Retail", "employees": 40, "tier": "gold"}
    )
    sdk.identify("u1", {"name": "Ada Lovelace", "email": "ada@acme.test", "title": "CTO"})
    day = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    sdk.track("u1", "Report Created", {"rows": 3}, timestamp=day)
    sdk.track("u1", "Report Created", timestamp=day)
    sdk.page("u1", "Docs", "Pricing", timestamp=day)
    sdk.screen("u1", "App", "Home", timestamp=day)

    acme = Customer.objects.get(external_id="acme")
    assert (acme.name, acme.industry, acme.size, acme.traits) == (
        "Acme Ltd",
        "Retail",
        40,
        {"tier": "gold"},
    )
    ada = Contact.objects.get(external_id="u1")
    assert (ada.customer, ada.name, ada.email, ada.title) == (
        acme,
        "Ada Lovelace",
        "ada@acme.test",
        "CTO",
    )
    events = Event.objects.filter(customer=acme)
    assert sorted(events.values_list("name", flat=True)) == [
        "Report Created",
        "Report Created",
        "Viewed Home Screen",
        "Viewed Pricing Page",
    ]
    assert set(events.values_list("contact", flat=True)) == {ada.pk}
    rollups = dict(DailyRollup.objects.filter(customer=acme).values_list("name", "count"))
    assert rollups == {"Report Created": 2, "Viewed Pricing Page": 1, "Viewed Home Screen": 1}
    acme.refresh_from_db()
    assert acme.last_seen_at is not None
    assert abs((acme.last_seen_at - day).total_seconds()) < 5
    assert stats() == {("accepted", ""): 6}


def test_the_sdk_batches_queued_messages_into_one_request_that_lands_whole(
    live_server: Any, write_key: str
) -> None:
    client = Client(
        write_key, host=live_server.url, sync_mode=False, upload_size=100, max_retries=0
    )
    client.group("u9", "globex", {"name": "Globex"})
    client.identify("u9", {"name": "Hank"})
    for n in range(50):
        client.track("u9", "Clicked", {"n": n})
    client.flush()
    client.shutdown()

    globex = Customer.objects.get(external_id="globex")
    assert Event.objects.filter(customer=globex, name="Clicked").count() == 50
    assert DailyRollup.objects.get(customer=globex, name="Clicked").count == 50
    assert stats()[("accepted", "")] == 52
