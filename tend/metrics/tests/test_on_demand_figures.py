"""Dashboard views the pre-added summaries cannot answer (a tag, several channels, quarters)
are added up from customer-month rows once per snapshot build and shared: another web process
(here, an emptied per-process cache) reads the stored figures instead of adding up again, and
the scheduled refresh computes the views used in the last day again, with the new data, and
forgets the old build's figures. The figures shown never differ from a fresh computation."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.billing.actions import subscription_create
from tend.factories import make_customer
from tend.metrics.models import OnDemandFigure, SnapshotState
from tend.metrics.tasks import metrics_refresh
from tend.metrics.tests.test_dashboard import URL, build_book, months_ago, tile_texts

pytestmark = pytest.mark.django_db
VIEW = {"tag": "vip", "period": "quarter"}


def built_at() -> Any:
    return SnapshotState.objects.get().built_at


def shown(client: Any) -> tuple[dict[str, str], int]:
    """The tiles as the browser shows them, and the queries the page took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, VIEW)
    assert response.status_code == 200
    return tile_texts(response.content.decode()), len(queries)


def computed_afresh(client: Any) -> tuple[dict[str, str], int]:
    OnDemandFigure.objects.all().delete()
    cache.clear()
    return shown(client)


def test_a_filtered_view_is_added_up_once_and_read_back_by_another_process(owner_client):
    build_book()
    first, _ = shown(owner_client)
    assert first, "the page shows no tiles"
    stored = set(OnDemandFigure.objects.values_list("key", flat=True))
    assert stored
    assert set(OnDemandFigure.objects.values_list("built_at", flat=True)) == {built_at()}

    cache.clear()  # a second web process has none of this process's cache
    read_back, read_queries = shown(owner_client)
    assert set(OnDemandFigure.objects.values_list("key", flat=True)) == stored

    fresh, fresh_queries = computed_afresh(owner_client)
    assert read_back == first == fresh
    assert read_queries < fresh_queries, (read_queries, fresh_queries)


def test_the_refresh_computes_used_views_again_with_new_data_and_forgets_the_old_build(
    owner_client,
):
    book = build_book()
    before, _ = shown(owner_client)
    old_build = built_at()
    for i in range(3):  # new VIP customers: the tag's figures change
        more = make_customer(f"New VIP {i}", channel="content", country="FR", tags=["vip"])
        subscription_create(customer=more, plan=book.pro, by=None, at=months_ago(0, 1))

    metrics_refresh.call()

    assert built_at() != old_build
    builds = set(OnDemandFigure.objects.values_list("built_at", flat=True))
    assert builds == {built_at()}, "the old build's figures are left, or nothing was warmed"
    cache.clear()  # the founder's next visit may land on the other web process
    after, warm_queries = shown(owner_client)
    fresh, fresh_queries = computed_afresh(owner_client)
    assert after == fresh
    assert after != before
    assert warm_queries < fresh_queries, (warm_queries, fresh_queries)
