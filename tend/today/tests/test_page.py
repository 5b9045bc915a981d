"""The Today page: ranked list, filters, empty state, actions with and without htmx,
viewers refused, and a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.formats import date_format

from tend.customers.models import Customer, TimelineEntry
from tend.health.models import CustomerHealth
from tend.today.engine import today_pipeline_step
from tend.today.models import State, TodayItem
from tend.today.tests.helpers import DAY, customer, fixed_signal, only_signals

pytestmark = pytest.mark.django_db
URL = "/today/"
HTMX = {"HTTP_HX_REQUEST": "true"}


ALPHA: dict[int, tuple[str, float]] = {}
BETA: dict[int, tuple[str, float]] = {}


@pytest.fixture(autouse=True)
def _plugged() -> Iterator[None]:
    """Two throw-away signals, registered for the whole test (the page lists their labels)."""
    ALPHA.clear()
    BETA.clear()
    with only_signals(fixed_signal("alpha", ALPHA, order=1), fixed_signal("beta", BETA, order=2)):
        yield


def build(n: int = 3, owner=None) -> list[TodayItem]:
    table, second = ALPHA, BETA
    table.clear()
    second.clear()
    for i in range(n):
        c = customer(f"Customer {i:03d}", mrr=str(100 * (i + 1)), owner=owner if i % 2 else None)
        table[c.pk] = (f"a:{i}", 0.5)
        if i % 3 == 0:
            second[c.pk] = (f"b:{i}", 0.2)
    today_pipeline_step(DAY)
    return list(TodayItem.objects.order_by("rank"))


def test_the_home_page_and_the_login_lead_to_today(owner_client) -> None:
    response = owner_client.get("/")
    assert response.status_code == 302 and response["Location"] == URL
    html = owner_client.get(URL).content.decode()
    nav = html[html.index('id="main-nav"') :]
    assert nav.index(f'href="{URL}"') < nav.index('href="/customers/"')  # first entry


def test_the_list_is_ranked_with_reason_mrr_money_at_stake_and_its_formula(owner_client) -> None:
    items = build(3)
    CustomerHealth.objects.create(customer_id=items[0].customer_id, day=DAY, score=30, colour="red")
    html = owner_client.get(URL).content.decode()
    names = [html.index(f"Customer {i:03d}") for i in (2, 1, 0)]
    assert names == sorted(names)  # most money at stake first
    assert "alpha a:2" in html  # the first reason, by its signal's describe
    assert "+1 more reason" in html  # Customer 000 has a second reason
    assert "$150.00" in html and "MRR $300.00 × 50% risk" in html
    assert "Money at stake = monthly value × risk" in html
    assert "today-health-red" in html
    assert "3 customers need you today" in html


def test_filters_by_owner_and_signal(owner_client, owner) -> None:
    build(6, owner=owner)
    html = owner_client.get(URL + "?owner=mine").content.decode()
    assert html.count('class="today-item ') == 3
    html = owner_client.get(URL + "?signal=beta").content.decode()
    assert html.count('class="today-item ') == 2
    assert '<div class="today-reason">beta b:' in html  # the filtered reason leads
    html = owner_client.get(URL + "?signal=nope").content.decode()
    assert "is not a signal; showing all" in html and html.count('class="today-item ') == 6


def test_the_empty_list_says_what_is_checked(owner_client) -> None:
    html = owner_client.get(URL).content.decode()
    assert "All clear: nobody needs you today." in html
    assert "<li>alpha</li>" in html and "<li>beta</li>" in html


def test_the_page_reads_a_fixed_number_of_queries_at_5_and_at_60_items(owner_client) -> None:
    build(5)
    owner_client.get(URL)
    with CaptureQueriesContext(connection) as small:
        assert owner_client.get(URL).status_code == 200
    TodayItem.objects.all().delete()
    build(60)
    with CaptureQueriesContext(connection) as large:
        html = owner_client.get(URL).content.decode()
    assert html.count('class="today-item ') == 50 and "60 customers need you today" in html
    assert len(large) == len(small) + 1  # the count: needed only beyond one page
    assert len(large) <= 5, [q["sql"] for q in large]


def test_snooze_without_javascript_redirects_back_and_hides_the_item(member_client) -> None:
    item = build(1)[0]
    response = member_client.post(
        reverse("today:snooze", args=[item.pk]), {"days": "3", "next": "/today/?owner=all"}
    )
    assert response.status_code == 302 and response["Location"] == "/today/?owner=all"
    item.refresh_from_db()
    assert item.state == State.SNOOZED and item.snoozed_until == DAY + timedelta(days=3)
    html = member_client.get(URL).content.decode()
    assert "snoozed until" in html and 'class="today-item ' not in html


def test_snooze_with_htmx_swaps_the_row_for_a_done_line(member_client) -> None:
    item = build(1)[0]
    response = member_client.post(reverse("today:snooze", args=[item.pk]), {"days": "7"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="today-item-{item.pk}"' in html and "today-done" in html
    assert date_format(DAY + timedelta(days=7)) in html


def test_handled_with_and_without_htmx(member_client, member) -> None:
    first, second = build(2)
    response = member_client.post(reverse("today:handled", args=[first.pk]), **HTMX)
    assert response.status_code == 200 and "marked handled" in response.content.decode()
    response = member_client.post(
        reverse("today:handled", args=[second.pk]), {"next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == URL  # never off-site
    assert TodayItem.objects.filter(state=State.HANDLED, handled_by=member).count() == 2


def test_a_note_from_the_list_lands_on_the_timeline_and_keeps_the_row(member_client) -> None:
    item = build(1)[0]
    response = member_client.post(
        reverse("today:note", args=[item.pk]), {"body": "Called, renewal next week"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Note added" in html and "today-done" not in html and "Mark handled" in html
    entry = TimelineEntry.objects.get(customer_id=item.customer_id, kind="note")
    assert entry.body == "Called, renewal next week"
    response = member_client.post(reverse("today:note", args=[item.pk]), {"body": "Plain form"})
    assert response.status_code == 302
    assert TimelineEntry.objects.filter(customer_id=item.customer_id, kind="note").count() == 2


@pytest.mark.parametrize("body", ["", "   ", "a\x00b", "x" * 10_001])
def test_a_bad_note_is_refused_naming_the_field_and_saves_nothing(member_client, body) -> None:
    item = build(1)[0]
    response = member_client.post(reverse("today:note", args=[item.pk]), {"body": body}, **HTMX)
    assert response.status_code == 422
    assert "Note:" in response.content.decode()
    assert not TimelineEntry.objects.filter(kind="note").exists()


@pytest.mark.parametrize("days", ["", "0", "abc", "-1", "91", "1e3", "9" * 50, "3.5"])
def test_a_bad_snooze_is_refused_naming_the_field_and_changes_nothing(member_client, days) -> None:
    item = build(1)[0]
    response = member_client.post(reverse("today:snooze", args=[item.pk]), {"days": days}, **HTMX)
    assert response.status_code == 422 and "Days:" in response.content.decode()
    item.refresh_from_db()
    assert item.state == State.OPEN


def test_viewers_see_the_list_without_actions_and_their_posts_change_nothing(viewer_client) -> None:
    item = build(1)[0]
    html = viewer_client.get(URL).content.decode()
    assert "Customer 000" in html
    assert "today:snooze" not in html and "/snooze/" not in html and "/handled/" not in html
    for name, data in [("snooze", {"days": "3"}), ("handled", {}), ("note", {"body": "hi"})]:
        response = viewer_client.post(reverse(f"today:{name}", args=[item.pk]), data)
        assert response.status_code == 403, name
    item.refresh_from_db()
    assert item.state == State.OPEN and not TimelineEntry.objects.filter(kind="note").exists()


def test_outsiders_are_sent_to_login_and_unknown_items_are_404(
    outsider_client, member_client
) -> None:
    assert outsider_client.get(URL).status_code == 302
    item = build(1)[0]
    assert outsider_client.post(reverse("today:handled", args=[item.pk])).status_code == 302
    item.refresh_from_db()
    assert item.state == State.OPEN
    assert member_client.post(reverse("today:handled", args=[999999])).status_code == 404
    assert member_client.get(reverse("today:handled", args=[item.pk])).status_code == 405


def test_a_customer_renamed_after_the_run_shows_its_new_name(owner_client) -> None:
    item = build(1)[0]
    Customer.objects.filter(pk=item.customer_id).update(name="Renamed <b>Ltd</b>")
    html = owner_client.get(URL).content.decode()
    assert "Renamed &lt;b&gt;Ltd&lt;/b&gt;" in html


@pytest.mark.parametrize(
    "query", ["signal=%00", "signal=%ED%A0%80", "owner=%FF", "signal=" + "x" * 5000]
)
def test_hostile_filters_never_give_a_5xx(owner_client, query) -> None:
    build(1)
    response = owner_client.get(f"{URL}?{query}")
    assert response.status_code in (200, 400)  # NUL: the middleware refuses it for every page
