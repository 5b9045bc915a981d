"""The customers list: search, filters, sorting, paging, htmx partials and query counts."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tend.billing.models import Plan
from tend.customers.actions import customer_set_tags
from tend.customers.models import Customer, Stage
from tend.factories import make_customer, make_plan, make_subscription

pytestmark = pytest.mark.django_db
LIST = reverse("customers:list")


def names(response) -> list[str]:
    """Customer names in table order."""
    html = response.content.decode()
    return re.findall(r'class="customer-name[^"]*"[^>]*>([^<]+)</a>', html)


@pytest.fixture
def three(owner, member):
    gold = make_plan("gold", price="300")
    acme = make_customer(
        "Acme Corp",
        email="ops@acme.test",
        external_id="ACME-1",
        stage=Stage.ESTABLISHED,
        owner=owner,
    )
    make_subscription(acme, gold)
    beta = make_customer(
        "Beta Labs",
        email="hi@beta.test",
        stage=Stage.TRIAL,
        owner=member,
        signed_up_at=timezone.now() - timedelta(days=400),
    )
    make_subscription(beta, make_plan("basic", price="20"))
    customer_set_tags(customer=beta, tags=["vip"], by=None)
    cargo = make_customer("Cargo Ltd", email="c@cargo.test", stage=Stage.AT_RISK)
    # Ingestion keeps last_seen_at; here we set it as ingestion would.
    Customer.objects.filter(pk=cargo.pk).update(last_seen_at=timezone.now() - timedelta(days=2))
    return acme, beta, cargo


def test_the_list_shows_every_column_for_a_customer(owner_client, three):
    response = owner_client.get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert names(response) == ["Acme Corp", "Beta Labs", "Cargo Ltd"]
    assert "ops@acme.test" in html and "Established" in html and "Gold" in html
    assert "$300.00" in html and "olivia" in html and "vip" in html
    assert "3 customers" in html
    assert "MRR = sum of monthly recurring revenue of active and past-due subscriptions" in html


def test_search_finds_by_name_email_or_exact_external_id(owner_client, three):
    assert names(owner_client.get(LIST, {"q": "beta"})) == ["Beta Labs"]
    assert names(owner_client.get(LIST, {"q": "cargo.test"})) == ["Cargo Ltd"]
    assert names(owner_client.get(LIST, {"q": "acme-1"})) == ["Acme Corp"]


def test_filters_by_stage_plan_owner_and_tag_combine(owner_client, three, member):
    assert names(owner_client.get(LIST, {"stage": "trial"})) == ["Beta Labs"]
    gold = Plan.objects.get(code="gold")
    assert names(owner_client.get(LIST, {"plan": gold.pk})) == ["Acme Corp"]
    assert names(owner_client.get(LIST, {"owner": member.pk})) == ["Beta Labs"]
    assert names(owner_client.get(LIST, {"owner": "none"})) == ["Cargo Ltd"]
    assert names(owner_client.get(LIST, {"tag": "vip"})) == ["Beta Labs"]
    assert names(owner_client.get(LIST, {"tag": "vip", "stage": "at_risk"})) == []


def test_a_filter_with_no_match_says_so_and_offers_to_clear(owner_client, three):
    html = owner_client.get(LIST, {"q": "zzz"}).content.decode()
    assert "No customers match these filters." in html and "Clear filters" in html


def test_unknown_filter_values_are_ignored_rather_than_failing(owner_client, three):
    response = owner_client.get(LIST, {"stage": "vip", "plan": "x", "owner": "-1", "sort": "pwd"})
    assert response.status_code == 200
    assert names(response) == ["Acme Corp", "Beta Labs", "Cargo Ltd"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Acme Corp", "Beta Labs", "Cargo Ltd"]),
        ("-name", ["Cargo Ltd", "Beta Labs", "Acme Corp"]),
        ("-mrr", ["Acme Corp", "Beta Labs", "Cargo Ltd"]),
        ("mrr", ["Cargo Ltd", "Beta Labs", "Acme Corp"]),
        ("signed_up", ["Beta Labs", "Acme Corp", "Cargo Ltd"]),
        ("stage", ["Beta Labs", "Acme Corp", "Cargo Ltd"]),
        ("-stage", ["Cargo Ltd", "Acme Corp", "Beta Labs"]),
        ("-last_seen", ["Cargo Ltd", "Acme Corp", "Beta Labs"]),
    ],
)
def test_sorting_orders_the_rows(owner_client, three, sort, expected):
    acme = three[0]
    Customer.objects.filter(pk=acme.pk).update(last_seen_at=timezone.now() - timedelta(days=9))
    assert names(owner_client.get(LIST, {"sort": sort})) == expected


def test_customers_never_seen_sort_last_in_both_directions(owner_client, three):
    acme = three[0]
    Customer.objects.filter(pk=acme.pk).update(last_seen_at=timezone.now() - timedelta(days=9))
    assert names(owner_client.get(LIST, {"sort": "last_seen"}))[-1] == "Beta Labs"
    assert names(owner_client.get(LIST, {"sort": "-last_seen"}))[-1] == "Beta Labs"


def test_a_sort_header_link_keeps_the_filters_and_resets_the_page(owner_client, three):
    html = owner_client.get(LIST, {"stage": "trial", "page": "1"}).content.decode()
    assert 'href="?stage=trial&amp;sort=-mrr"' in html


def test_paging_shows_fifty_rows_a_page_and_the_total(owner_client):
    for i in range(53):
        make_customer(f"Customer {i:03d}")
    first = owner_client.get(LIST)
    assert len(names(first)) == 50 and names(first)[0] == "Customer 000"
    assert "53 customers" in first.content.decode()
    assert "Page 1 of 2" in first.content.decode()
    second = owner_client.get(LIST, {"page": 2})
    assert names(second) == ["Customer 050", "Customer 051", "Customer 052"]
    assert names(owner_client.get(LIST, {"page": 99})) == names(second)


def test_an_empty_install_explains_how_customers_arrive(owner_client):
    html = owner_client.get(LIST).content.decode()
    assert "No customers yet." in html and 'id="empty-state"' in html


def test_htmx_gets_only_the_table_with_the_sort_kept_in_step(owner_client, three):
    response = owner_client.get(
        LIST, {"q": "acme", "sort": "-mrr"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-table"
    )
    html = response.content.decode()
    assert "<html" not in html and 'id="customer-table"' in html
    assert names(response) == ["Acme Corp"]
    assert 'id="sort-input" value="-mrr" hx-swap-oob="true"' in html


def test_the_filter_form_works_without_javascript(owner_client, three):
    html = owner_client.get(LIST, {"stage": "trial"}).content.decode()
    assert 'method="get" action="/customers/"' in html
    assert '<option value="trial" selected>' in html


def _seed(count: int, owner, member) -> None:
    plans = [make_plan(f"p{i}", price=str(10 * (i + 1))) for i in range(3)]
    for i in range(count):
        customer = make_customer(f"Seeded {i:03d}", owner=owner if i % 2 else member)
        customer_set_tags(customer=customer, tags=[f"t{i % 4}", "all"], by=None)
        Customer.objects.filter(pk=customer.pk).update(plan=plans[i % 3])


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LIST, params).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_runs_the_same_few_queries_for_5_or_60_customers(
    owner_client, owner, member, django_assert_max_num_queries
):
    _seed(5, owner, member)
    small = _queries(owner_client, {})
    small_filtered = _queries(owner_client, {"q": "seeded", "tag": "all", "sort": "-stage"})
    _seed(60, owner, member)
    assert _queries(owner_client, {}) == small
    assert _queries(owner_client, {"q": "seeded", "tag": "all", "sort": "-stage"}) == small_filtered
    # session, user, plans, owners, tags, count, ids of the page, page rows (+plan, owner),
    # tags of the page
    with django_assert_max_num_queries(9):
        owner_client.get(LIST, {"page": 2})


def test_a_later_page_keeps_the_sort_order_and_the_search(owner_client):
    for i in range(55):
        make_customer(f"Shop {i:03d}", signed_up_at=timezone.now() - timedelta(days=i))
    make_customer("Unrelated Ltd")
    second = owner_client.get(LIST, {"q": "shop", "sort": "-signed_up", "page": 2})
    assert names(second) == ["Shop 050", "Shop 051", "Shop 052", "Shop 053", "Shop 054"]


def test_a_search_counts_and_finds_its_page_in_one_query(owner_client):
    for i in range(55):
        make_customer(f"Shop {i:03d}", email=f"s{i}@shop.test")
    make_customer("Unrelated Ltd", email="x@unrelated.test")
    plain = _queries(owner_client, {"page": 2})
    with CaptureQueriesContext(connection) as ctx:
        assert owner_client.get(LIST, {"q": "shop", "page": 2}).status_code == 200
    sqls = [q["sql"] for q in ctx.captured_queries]
    # No separate COUNT. PostgreSQL first asks the planner how many customers it expects to
    # match (EXPLAIN, no row read) to choose between counting and estimating.
    explains = [sql for sql in sqls if sql.startswith("EXPLAIN")]
    assert len(explains) == (1 if connection.vendor == "postgresql" else 0)
    assert len(sqls) - len(explains) == plain - 1
    assert not any("COUNT(*) AS" in sql for sql in sqls)
    response = owner_client.get(LIST, {"q": "SHOP", "page": 2})
    assert names(response) == [f"Shop {i:03d}" for i in range(50, 55)]
    assert "55 customers" in response.content.decode()


def test_a_search_page_past_the_end_or_not_a_number_shows_a_real_page(owner_client):
    for i in range(55):
        make_customer(f"Shop {i:03d}")
    past = owner_client.get(LIST, {"q": "shop", "page": 99, "sort": "-name"})
    assert names(past) == [f"Shop {i:03d}" for i in range(4, -1, -1)]
    assert "Page 2 of 2" in past.content.decode()
    garbage = owner_client.get(LIST, {"q": "shop", "page": "x"})
    assert names(garbage)[:2] == ["Shop 000", "Shop 001"]
    nothing = owner_client.get(LIST, {"q": "nobody-has-this"})
    assert names(nothing) == [] and "No customers match these filters." in nothing.content.decode()
