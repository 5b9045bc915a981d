"""The revenue & retention dashboard shows what the series readers (``tend.metrics.kpis`` and its
siblings) compute, to every role, explains bad filters by name, and costs the same number of
queries at any size."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tend.billing.actions import subscription_cancel, subscription_create, subscription_update
from tend.billing.models import Plan
from tend.customers.models import Customer
from tend.factories import make_customer, make_plan
from tend.metrics.channels import by_channel
from tend.metrics.cohorts import cohorts, survival
from tend.metrics.display import display
from tend.metrics.filters import Filters
from tend.metrics.formulas import FORMULAS
from tend.metrics.kpis import kpi_series
from tend.metrics.models import SnapshotState
from tend.metrics.snapshots import snapshots_refresh
from tend.metrics.tiles import TILE_KEYS
from tend.metrics.value import lifetime_value, referral_rate

pytestmark = pytest.mark.django_db
URL = "/metrics/"


def months_ago(k: int, day: int = 3) -> datetime:
    """Day ``day`` of the month ``k`` months back, 09:00 UTC, never in the future."""
    now = timezone.now()
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return min(first - relativedelta(months=k) + timedelta(days=day - 1, hours=9), now)


@dataclass
class Book:
    basic: Plan
    pro: Plan
    yearly: Plan
    customers: dict[str, Customer]


def build_book(*, refresh: bool = True) -> Book:
    """Five customers over four months: new, expansion, contraction, churn, reactivation,
    a yearly plan, a referral, three channels, two countries and a tag."""
    basic = make_plan("basic", "20", name="Basic")
    pro = make_plan("pro", "50", name="Pro")
    yearly = make_plan("yearly", "1200", interval="year", name="Yearly")
    c = {
        "ada": make_customer(
            "Ada", channel="referral", country="DE", tags=["vip"], acquisition_cost=Decimal(90)
        ),
        "bob": make_customer("Bob", channel="organic", country="US", acquisition_cost=Decimal(10)),
        "cy": make_customer(
            "Cy", channel="paid_search", country="US", tags=["vip"], acquisition_cost=Decimal(120)
        ),
        "dee": make_customer("Dee", channel="referral", country="DE", acquisition_cost=Decimal(60)),
        "eve": make_customer("Eve", channel="organic", country="US", acquisition_cost=Decimal(0)),
    }

    def start(name: str, plan: Plan, k: int, day: int = 3) -> Any:
        return subscription_create(customer=c[name], plan=plan, by=None, at=months_ago(k, day))

    ada = start("ada", pro, 4)
    bob = start("bob", basic, 4, day=5)
    cy = start("cy", pro, 3)
    eve = start("eve", basic, 3, day=8)
    start("dee", yearly, 2)
    subscription_update(subscription=ada, by=None, at=months_ago(2), quantity=2, mrr=Decimal(100))
    subscription_update(subscription=cy, by=None, at=months_ago(1), mrr=Decimal(30))
    subscription_cancel(subscription=bob, by=None, at=months_ago(1, 10))
    subscription_cancel(subscription=eve, by=None, at=months_ago(2, 12))
    start("eve", pro, 1, day=2)  # comes back: reactivation
    Customer.objects.filter(pk=c["dee"].pk).update(referred_by=c["ada"])
    if refresh:
        snapshots_refresh()
    return Book(basic, pro, yearly, c)


def add_customers(book: Book, n: int) -> None:
    """``n`` more customers on the basic plan, a quarter of them gone again."""
    for i in range(n):
        more = make_customer(f"Extra {i}", channel="content", country="FR", tags=["vip"])
        sub = subscription_create(
            customer=more, plan=book.basic, by=None, at=months_ago(3 - i % 3, 4 + i % 20)
        )
        if i % 4 == 0:
            subscription_cancel(subscription=sub, by=None, at=months_ago(i % 2, 25))
    snapshots_refresh()


@pytest.fixture
def book() -> Book:
    return build_book()


def tiles_of(response: Any) -> dict[str, dict[str, Any]]:
    return {t["key"]: t for g in response.context["tile_groups"] for t in g["tiles"]}


def tile_texts(html: str) -> dict[str, str]:
    """{kpi key: the value text} as the browser shows it."""
    found = re.findall(
        r'data-kpi="(\w+)".*?<div class="kpi-value num">([^<]*)</div>', html, flags=re.S
    )
    return {key: unescape(text) for key, text in found}


# --- access -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner_client", "member_client", "viewer_client"])
def test_every_role_reads_the_dashboard_and_finds_it_in_the_navigation(persona, request, book):
    client = request.getfixturevalue(persona)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/metrics/"' in html and 'aria-current="page"' in html
    assert "Revenue &amp; retention" in html


def test_an_outsider_is_sent_to_the_login_page(outsider_client):
    for url in (URL, "/metrics/report/", "/metrics/export/kpis.csv", "/metrics/survival/"):
        response = outsider_client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


# --- the page shows what the series says -----------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"period": "quarter"},
        {"channel": "referral"},
        {"country": "US"},
        {"tag": "vip"},
        {"channel": "organic", "country": "US"},
    ],
)
def test_tiles_show_the_numbers_of_kpi_series_for_the_same_filters(owner_client, book, query):
    response = owner_client.get(URL, query)
    assert response.status_code == 200
    kpis = kpi_series(Filters.parse(query))
    # The last complete period against the one before: this month is still running.
    assert kpis[-1].to_date and not kpis[-2].to_date
    current, previous = kpis[-2].metrics, kpis[-3].metrics
    tiles = tiles_of(response)
    texts = tile_texts(response.content.decode())
    for key in TILE_KEYS:
        if key == "cac":
            continue  # the page's CAC tile covers the range (with LTV:CAC), checked below
        assert tiles[key]["value"] == current[key], key
        assert tiles[key]["previous"] == previous[key], key
        unit = FORMULAS[key].unit if key in FORMULAS else "count"
        whole = key in ("mrr", "arr", "net_new_mrr")
        assert texts[key] == display(current[key], unit, whole=whole), key
    value = lifetime_value(kpis[:-1])
    for key in ("clv_simple", "clv_discounted", "cac", "ltv_cac", "cac_payback"):
        if key in value:
            assert tiles[key]["value"] == value[key], key
    referral = referral_rate(Filters.parse(query))
    assert tiles["referral_rate"]["value"] == referral["referral_rate"]


def test_the_hand_made_ledger_reads_as_expected_on_the_page(owner_client, book):
    """Ada 100 + Cy 30 + Dee 100 (yearly ÷ 12) + Eve 50 = 280 MRR; Bob churned last month."""
    response = owner_client.get(URL, {"period": "month"})
    texts = tile_texts(response.content.decode())
    assert texts["mrr"] == "$280"
    assert texts["arr"] == "$3,360"
    assert texts["customers"] == "4"
    tiles = tiles_of(response)
    last_month = kpi_series(Filters.parse({}))[-2]
    assert last_month.metrics["logo_churn"] == pytest.approx(100 / 4)  # Bob, of 4 at start
    assert tiles["referral_rate"]["value"] == pytest.approx(20.0)  # Ada referred Dee; 1 of 5


def test_each_tile_has_its_formula_in_a_keyboard_reachable_tooltip(owner_client, book):
    html = owner_client.get(URL).content.decode()
    for key in ("mrr", "nrr", "grr", "logo_churn", "clv_simple", "ltv_cac", "cac_payback"):
        block = html.split(f'data-kpi="{key}"', 1)[1].split('data-kpi="', 1)[0]
        assert '<button type="button" class="kpi-tip" data-bs-toggle="tooltip"' in block
        formula = str(FORMULAS[key].formula)
        assert unescape(re.search(r'title="([^"]*)"', block).group(1)).endswith(formula)


def test_change_arrows_are_green_when_the_move_is_good_and_red_when_bad(owner_client, book):
    tiles = tiles_of(owner_client.get(URL))
    for tile in tiles.values():
        if tile["change"] is None or round(abs(tile["change"]), 1) == 0:
            continue
        better = FORMULAS[tile["key"]].higher_is_better if tile["key"] in FORMULAS else True
        assert tile["tone"] == ("good" if (tile["change"] > 0) == better else "bad"), tile
        assert tile["arrow"] == ("▲" if tile["change"] > 0 else "▼")
    churn = tiles["logo_churn"]
    assert churn["unit"] == "percent" and churn["change_text"].endswith("pts")


def test_survey_metrics_are_announced_not_invented(owner_client, book):
    response = owner_client.get(URL)
    html = response.content.decode()
    assert 'id="survey-note"' in html
    for key in ("nps", "csat", "csi", "ces", "satisfaction_ratio"):
        assert key not in tiles_of(response)


def test_charts_are_plotly_figures_with_translated_labels_and_local_plotly(owner_client, book):
    response = owner_client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    assert "/static/vendor/plotly/plotly.min.js" in html and "cdn" not in html.lower()
    figures = response.context["figures"]
    bars = [t for t in figures["movements"]["data"] if t["type"] == "bar"]
    assert [t["name"] for t in bars][:1] and all(t["name"] for t in bars)
    contraction = next(t for t in bars if t["marker"]["color"] == "#e3a64f")
    assert all(v <= 0 for v in contraction["y"])
    for fid in ("fig-movements", "fig-mrr", "fig-churn", "fig-retention", "fig-cohorts-logo"):
        assert f'id="{fid}"' in html
    assert figures["mrr"]["config"]["responsive"] is True


def test_cohort_heatmap_and_survival_come_from_the_series(owner_client, book):
    response = owner_client.get(URL)
    found = cohorts(Filters.parse({}))
    heat = response.context["figures"]["cohorts_logo"]["data"][0]
    assert heat["y"] == [f"{r.cohort:%Y-%m}" for r in found]
    assert heat["z"][0][: len(found[0].logo)] == found[0].logo
    revenue = response.context["figures"]["cohorts_revenue"]["data"][0]
    assert revenue["z"][0][: len(found[0].revenue)] == found[0].revenue
    curves = survival(Filters.parse({}))
    figure = response.context["survival_figure"]
    assert figure["data"][2]["y"] == curves[""]["survival"]
    assert figure["data"][1]["fill"] == "tonexty"  # the shaded band


def test_a_long_range_shows_the_newest_cohorts_and_says_so(owner_client, book, monkeypatch):
    monkeypatch.setattr("tend.metrics.display.DASHBOARD_COHORTS", 2)
    response = owner_client.get(URL)
    found = cohorts(Filters.parse({}))
    assert len(found) == 3  # Ada and Bob; Cy and Eve; Dee
    heat = response.context["figures"]["cohorts_logo"]["data"][0]
    assert heat["y"] == [f"{r.cohort:%Y-%m}" for r in found[-2:]]
    assert response.context["cohorts_hidden"] == 1
    assert "1 older one is in the download" in response.content.decode()


def test_survival_by_plan_and_channel_swap_in_with_htmx(owner_client, book):
    for by in ("plan", "channel"):
        response = owner_client.get("/metrics/survival/", {"by": by}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="survival-card"' in html and f'data-by="{by}"' in html
    bad = owner_client.get("/metrics/survival/", {"by": "moon"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 400 and "Group the curves" in bad.content.decode()


def test_channel_table_lists_cac_and_ltv_per_channel(owner_client, book):
    response = owner_client.get(URL)
    rows = {r["channel"]: r for r in response.context["channel_rows"]}
    expected = {r.channel: r for r in by_channel(Filters.parse({}))}
    assert set(rows) == set(expected)
    for channel, row in expected.items():
        assert rows[channel]["cac"] == display(row.cac, "money")
        assert rows[channel]["ltv_cac"] == display(row.ltv_cac, "ratio")
        assert f'data-channel="{channel}"' in response.content.decode()


def test_freshness_is_shown_with_the_build_time(owner_client, book):
    html = owner_client.get(URL).content.decode()
    assert re.search(r'id="freshness">\s*Figures as of', html)


# --- bad filters --------------------------------------------------------------------------

FIELD_LABELS = {
    "period": "Period",
    "start": "From month",
    "end": "To month",
    "plan": "Plan",
    "channel": "Channel",
    "country": "Country",
    "tag": "Tag",
}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"period": "week"}, "period"),
        ({"start": "2025-13"}, "start"),
        ({"end": "soon"}, "end"),
        ({"start": "2026-05", "end": "2025-01"}, "start"),
        ({"plan": "abc"}, "plan"),
        ({"plan": "99999"}, "plan"),
        ({"channel": "tv"}, "channel"),
        ({"country": "USA"}, "country"),
        ({"tag": "nope"}, "tag"),
        ({"start": "1900-01", "period": "month"}, "start"),
        ({"start": "2999-01"}, "start"),
    ],
)
def test_a_bad_filter_gets_a_message_naming_the_field(viewer_client, book, query, field):
    response = viewer_client.get(URL, query)
    assert response.status_code == 400
    html = response.content.decode()
    message = re.search(r'id="filter-error" data-field="(\w+)">([^<]*)<', html)
    assert message is not None and message.group(1) == field
    # The message names the field as its form label does, not by the query key.
    assert f"“{FIELD_LABELS[field]}”" in unescape(message.group(2))
    assert 'aria-invalid="true"' in html


def test_a_range_of_one_period_shows_tiles_without_a_change(owner_client, book):
    this_month = timezone.now().strftime("%Y-%m")
    response = owner_client.get(URL, {"start": this_month, "end": this_month})
    assert response.status_code == 200
    tiles = tiles_of(response)
    assert tiles["mrr"]["value"] == Decimal(280) and tiles["mrr"]["change"] is None
    assert response.context["previous"] is None


# --- states -------------------------------------------------------------------------------


def test_without_billing_data_the_page_explains_where_it_comes_from(owner_client, viewer_client):
    make_customer("Lead only")
    html = owner_client.get(URL).content.decode()
    assert 'id="metrics-empty"' in html
    assert 'href="/imports/"' in html and "/webhooks/stripe" in html and "docs/stripe.md" in html
    assert 'id="fig-mrr"' not in html and "kpi-tile" not in html
    viewer_html = viewer_client.get(URL).content.decode()
    assert 'id="metrics-empty"' in viewer_html and 'href="/imports/"' not in viewer_html


def test_before_the_first_build_writers_can_start_it_and_viewers_cannot(
    owner_client, viewer_client
):
    build_book(refresh=False)
    SnapshotState.objects.all().delete()
    viewer_html = viewer_client.get(URL).content.decode()
    assert 'id="metrics-unbuilt"' in viewer_html and 'action="/metrics/refresh/"' not in viewer_html
    assert viewer_client.post("/metrics/refresh/").status_code == 403
    assert SnapshotState.objects.filter(built_at__isnull=False).count() == 0

    html = owner_client.get(URL).content.decode()
    assert 'id="metrics-unbuilt"' in html and 'action="/metrics/refresh/"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    response = owner_client.post("/metrics/refresh/", {"query": "period=quarter&channel=referral"})
    assert response.status_code == 302
    assert response["Location"] == "/metrics/?period=quarter&channel=referral"
    assert SnapshotState.objects.get().built_at is not None  # immediate task backend in tests
    assert "kpi-tile" in owner_client.get(response["Location"]).content.decode()


def test_refresh_needs_post_and_a_csrf_token(owner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get("/metrics/refresh/").status_code == 405
    assert client.post("/metrics/refresh/").status_code == 403


def test_a_member_can_recompute(member_client, book):
    response = member_client.post("/metrics/refresh/", follow=True)
    assert response.status_code == 200
    assert "recomputed" in response.content.decode()


def test_the_goals_panel_is_loaded_when_the_goals_app_offers_one(owner_client, book):
    html = owner_client.get(URL).content.decode()
    try:
        panel = reverse("goals:panel")
    except Exception:
        assert 'id="goals-panel"' not in html
    else:
        assert f'hx-get="{panel}?' in html and 'hx-trigger="load"' in html


# --- cost ---------------------------------------------------------------------------------


def _queries(client: Any, query: dict[str, str]) -> int:
    client.get(URL, query)  # warm: session, snapshot state row
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, query).status_code == 200
    return len(captured)


QUERIES = [
    {},
    {"tag": "vip", "country": "FR"},
    {"period": "year"},
    {"period": "quarter"},
    {"compare": "to_date"},
    {"compare": "to_date", "tag": "vip"},
]


def test_the_query_count_does_not_grow_with_the_number_of_customers(
    owner_client, django_assert_max_num_queries
):
    book = build_book()
    few = [_queries(owner_client, q) for q in QUERIES]
    assert max(few) <= 40, few
    add_customers(book, 40)
    assert Customer.objects.count() == 45
    many = [_queries(owner_client, q) for q in QUERIES]
    assert many == few
    with django_assert_max_num_queries(few[0]):
        owner_client.get(URL)
