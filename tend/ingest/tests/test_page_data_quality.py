"""The data-quality page shows what arrived and what was refused, to owners and members only."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tend.accounts.actions import apikey_create
from tend.activity.models import Event
from tend.demo.tests.helpers import generate
from tend.factories import make_customer
from tend.ingest.actions import stats_add
from tend.ingest.models import IngestStat

pytestmark = pytest.mark.django_db
URL = "/data-quality/"


def _arrivals(owner):
    now = timezone.now()
    stats_add(
        source="tracking",
        accepted=1200,
        duplicates=4,
        rejected={"bad_timestamp": 3, "oversize": 1},
        flagged={"future_timestamp": 2},
        at=now,
    )
    stats_add(
        source="import", accepted=500, rejected={"unknown_plan": 7}, at=now - timedelta(days=2)
    )
    stats_add(source="stripe", accepted=9, at=now - timedelta(days=45))  # outside 30 days
    customer = make_customer()
    Event.objects.bulk_create(
        [Event(customer=customer, name="Logged In", timestamp=now)]
        + [
            Event(user_id="u-77", name="Logged In", timestamp=now, message_id=f"a{i}")
            for i in range(3)
        ]
        + [Event(anonymous_id="anon-1", name="Page", timestamp=now, message_id="b1")]
    )
    apikey_create(name="product", kind="write", by=owner)
    apikey_create(name="reports", kind="read", by=owner)


def test_a_member_sees_counts_reasons_unknown_senders_and_write_keys(member_client, owner):
    _arrivals(owner)
    html = member_client.get(URL).content.decode()
    tracking = html.split('data-source="tracking"')[1].split('data-source="import"')[0]
    assert "1,200" in tracking and tracking.count(">4<") == 2  # duplicates and rejected
    assert "0.3%" in tracking  # 4 rejected of 1,210
    assert "Flagged" in tracking and "Stored with a warning" in html and "future_timestamp" in html
    assert "bad_timestamp" in html and "oversize" in html and "unknown_plan" in html
    assert "4 events from 2 sender(s) not yet linked to a customer." in html
    assert "u-77" in html and "anon-1" in html
    assert "product" in html and "reports" not in html  # read keys cannot write events
    stripe = html.split('data-source="stripe"')[1]
    assert "Last received" in stripe and "never" in stripe.split("</div>\n    </div>")[0]


def test_the_period_can_widen_to_ninety_days(member_client, owner):
    _arrivals(owner)
    stripe = member_client.get(URL, {"days": 90}).content.decode().split('data-source="stripe"')[1]
    assert ">9<" in stripe.split("Rejection rate")[0]


def test_an_unknown_period_falls_back_to_thirty_days(member_client):
    response = member_client.get(URL, {"days": "forever"})
    assert response.status_code == 200
    assert 'aria-current="page">Last 30 days' in response.content.decode()


def test_a_viewer_is_refused_and_does_not_see_it_in_the_menu(viewer_client, member_client):
    assert viewer_client.get(URL).status_code == 403
    assert URL not in viewer_client.get("/customers/").content.decode()
    assert URL in member_client.get("/customers/").content.decode()


def test_an_empty_install_says_nothing_has_arrived(owner_client):
    html = owner_client.get(URL).content.decode()
    assert "Nothing has arrived" in html and "No write keys yet." in html
    # It points to the page where an owner creates one.
    assert 'href="/settings/api-keys/"' in html


def test_the_page_runs_the_same_queries_however_much_arrived(
    member_client, owner, django_assert_num_queries
):
    member_client.get(URL)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as empty:
        member_client.get(URL)
    _arrivals(owner)
    for day in range(20):
        stats_add(
            source="tracking",
            accepted=5,
            rejected={f"reason_{day}": 1},
            at=datetime.now(tz=UTC) - timedelta(days=day),
        )
    with django_assert_num_queries(len(empty.captured_queries)):
        member_client.get(URL)


def test_demo_data_is_named_as_generated_and_not_counted_as_arrived(member_client):
    assert "data-demo-notice" not in member_client.get(URL).content.decode()
    generate(customers=30, months=2)
    html = member_client.get(URL).content.decode()
    notice = html.split("data-demo-notice", 1)[1].split("</div>", 1)[0]
    assert "<code>tend demo-data</code>" in notice
    assert "30 customers" in notice
    # Nothing arrived through a source, so every source still reads zero accepted.
    assert IngestStat.objects.count() == 0
