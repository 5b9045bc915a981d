"""A search matching many customers shows an estimated count ("about 74,000 customers") on
PostgreSQL instead of reading every match to count it; pages, the last page and select-all
still work on exactly the matching customers. SQLite has no planner estimates and counts."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tend.customers.models import Customer, Stage
from tend.customers.queries import round_estimate
from tend.factories import make_customer

pytestmark = pytest.mark.django_db
LIST = reverse("customers:list")
BULK = reverse("customers:bulk")
ESTIMATES = connection.vendor == "postgresql"


def names(response) -> list[str]:
    return re.findall(r'class="customer-name[^"]*"[^>]*>([^<]+)</a>', response.content.decode())


@pytest.fixture
def shops(settings):
    """23 customers matching "shop" (5 pages of 5) and 2 that do not; a threshold of 1
    customer, so every search takes the estimated path where the database has estimates."""
    settings.TEND_PAGE_SIZE = 5
    settings.TEND_LIST_EXACT_COUNT_UNDER = 1
    for i in range(23):
        make_customer(f"Shop {i:02d}", email=f"s{i}@shop.test", stage=Stage.TRIAL)
    # Some seen, some never (NULL): the "Last" page sorts the other way round, NULLs too.
    for i in range(0, 23, 3):
        Customer.objects.filter(name=f"Shop {i:02d}").update(
            last_seen_at=timezone.now() - timedelta(days=i)
        )
    make_customer("Elsewhere", email="e@else.test", stage=Stage.TRIAL)
    make_customer("Another", email="a@else.test", stage=Stage.TRIAL)
    if ESTIMATES:
        with connection.cursor() as cursor:  # the statistics a real database keeps
            cursor.execute(f"ANALYZE {Customer._meta.db_table}")


def _about(html: str) -> int | None:
    found = re.search(r"about ([\d,]+) customers", html)
    return int(found.group(1).replace(",", "")) if found else None


def test_a_large_search_shows_an_estimate_and_pages_through_every_match(owner_client, shops):
    first = owner_client.get(LIST, {"q": "shop"})
    html = first.content.decode()
    assert names(first) == [f"Shop {i:02d}" for i in range(5)]
    if ESTIMATES:
        about = _about(html)
        assert about is not None and about >= 6  # at least the rows seen to exist
        assert "23 customers" not in html
        assert "an exact count would read every customer" in html
        assert re.search(r"Page 1 of about \d+", html)
        assert "Select all customers matching the filters (about" in html
        assert "All matching customers selected (about" in html
        assert "page=last" in html  # the Last link does not trust the estimated page count
    else:
        assert "23 customers" in html and "about" not in html.split('id="result-count"')[1][:200]
        assert "Page 1 of 5" in html
    second = owner_client.get(LIST, {"q": "shop", "page": 2})
    assert names(second) == [f"Shop {i:02d}" for i in range(5, 10)]
    # The last page knows the real number: no estimate there.
    last = owner_client.get(LIST, {"q": "shop", "page": 5})
    assert names(last) == [f"Shop {i:02d}" for i in range(20, 23)]
    assert "23 customers" in last.content.decode() and "Page 5 of 5" in last.content.decode()
    # A page past the end (an estimate too high, an old link) shows the real last page.
    past = owner_client.get(LIST, {"q": "shop", "page": 99, "sort": "-name"})
    assert names(past) == ["Shop 02", "Shop 01", "Shop 00"]
    assert "Page 5 of 5" in past.content.decode() and "23 customers" in past.content.decode()
    for sort in ("-last_seen", "-mrr", "stage", "signed_up"):
        query = {"q": "shop", "sort": sort}
        pages = [owner_client.get(LIST, {**query, "page": n}) for n in range(1, 6)]
        seen = [name for page in pages for name in names(page)]
        assert sorted(seen) == [f"Shop {i:02d}" for i in range(23)], sort
        # The "Last" link (page=last when the count is estimated) is the real last page.
        last = owner_client.get(LIST, {**query, "page": "last"})
        assert names(last) == names(pages[-1]) and "Page 5 of 5" in last.content.decode(), sort
    garbage = owner_client.get(LIST, {"q": "shop", "page": "x"})
    assert names(garbage)[:2] == ["Shop 00", "Shop 01"]


def test_select_all_under_an_estimate_acts_on_exactly_the_matches(owner_client, shops):
    response = owner_client.post(
        BULK,
        {
            "query": "q=shop&sort=-name",
            "bulk-all_matching": "on",
            "bulk-action": "set_stage",
            "bulk-stage": "adopting",
            "bulk-reason": "Kick-off call held",
        },
    )
    assert response.status_code == 302
    assert sorted(Customer.objects.filter(stage=Stage.ADOPTING).values_list("name", flat=True)) == [
        f"Shop {i:02d}" for i in range(23)
    ]
    assert Customer.objects.filter(stage=Stage.TRIAL).count() == 2


def test_below_the_threshold_the_count_is_exact(owner_client, shops, settings):
    settings.TEND_LIST_EXACT_COUNT_UNDER = 1_000_000
    html = owner_client.get(LIST, {"q": "shop"}).content.decode()
    assert "23 customers" in html and _about(html) is None
    assert "Page 1 of 5" in html and "Select all 23 customers matching the filters" in html
    # The list without a search is counted exactly whatever the threshold.
    settings.TEND_LIST_EXACT_COUNT_UNDER = 1
    html = owner_client.get(LIST).content.decode()
    assert "25 customers" in html and _about(html) is None


def test_a_search_matching_nobody_says_so_under_any_threshold(owner_client, shops):
    nothing = owner_client.get(LIST, {"q": "nobody-has-this"})
    assert names(nothing) == []
    assert "No customers match these filters." in nothing.content.decode()


@pytest.mark.parametrize(
    ("n", "rounded"),
    [(0, 0), (7, 7), (99, 99), (123, 120), (1_250, 1_200), (74_255, 74_000), (80_023, 80_000)],
)
def test_estimates_are_rounded_to_two_significant_figures(n, rounded):
    assert round_estimate(n) == rounded


def test_page_last_is_the_last_page_counted_or_not(owner_client, shops, settings):
    settings.TEND_LIST_EXACT_COUNT_UNDER = 1_000_000
    for params in ({"q": "shop"}, {"q": "shop", "sort": "-last_seen"}, {}):
        last = owner_client.get(LIST, {**params, "page": "last"})
        html = last.content.decode()
        assert "Page 5 of 5" in html and len(names(last)) == (3 if params else 5), params
