"""The dashboard's tiles, charts and tables are rendered once per snapshot build and view:
a repeat of a view shows the same HTML without adding up or rendering again; a refresh (a new
build) shows the new figures at once; each language has its own rendering. The page around
them (navigation, user, CSRF token, freshness) stays live."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.billing.actions import subscription_create
from tend.factories import make_customer
from tend.metrics.models import OnDemandFigure
from tend.metrics.tasks import metrics_refresh
from tend.metrics.tests.test_dashboard import URL, build_book, months_ago, tile_texts

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def page(client: Any, query: dict[str, str], **headers: str) -> tuple[str, int]:
    """The page's HTML (its CSRF token blanked: it changes on every request) and queries."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, query, **headers)
    assert response.status_code == 200
    html = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', response.content.decode())
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return html, len(queries)


def data_part(html: str) -> str:
    start = html.index('id="range-note"')
    return html[start : html.index('id="kpi-table"', start)]


def afresh(client: Any, query: dict[str, str], **headers: str) -> tuple[str, int]:
    """As a process that never rendered nor added up anything would show it."""
    OnDemandFigure.objects.all().delete()
    cache.clear()
    return page(client, query, **headers)


@pytest.mark.parametrize("query", [{}, {"tag": "vip", "period": "quarter"}])
def test_a_repeat_shows_the_same_page_without_adding_up_again(owner_client, query):
    build_book()
    first, _ = page(owner_client, query)
    repeat, repeat_queries = page(owner_client, query)
    fresh, fresh_queries = afresh(owner_client, query)
    assert tile_texts(first)
    assert repeat == first == fresh
    assert repeat_queries < fresh_queries, (repeat_queries, fresh_queries)
    assert 'id="refresh-button"' in repeat  # the owner's own part of the page stays


def test_the_refresh_shows_new_figures_not_the_rendered_old_ones(owner_client):
    book = build_book()
    query = {"tag": "vip"}
    before, _ = page(owner_client, query)
    page(owner_client, query)
    for i in range(3):  # new VIP customers: the tag's figures change
        more = make_customer(f"New VIP {i}", channel="content", country="FR", tags=["vip"])
        subscription_create(customer=more, plan=book.pro, by=None, at=months_ago(0, 1))

    metrics_refresh.call()

    after, _ = page(owner_client, query)  # same process: its rendered page is of the old build
    fresh, _ = afresh(owner_client, query)
    assert tile_texts(after) != tile_texts(before)
    assert data_part(after) == data_part(fresh)


def test_each_language_has_its_own_rendering(owner_client, viewer_client):
    build_book()
    english, _ = page(owner_client, {})
    chinese, _ = page(owner_client, {}, **ZH)
    assert data_part(chinese) != data_part(english)
    assert "MRR movements" in data_part(english)
    assert "MRR movements" not in data_part(chinese)
    fresh_chinese, _ = afresh(owner_client, {}, **ZH)
    assert data_part(chinese) == data_part(fresh_chinese)
    # A viewer sees the same figures, without the owner's recompute button.
    viewer, _ = page(viewer_client, {})
    assert data_part(viewer) == data_part(english)
    assert 'id="refresh-button"' not in viewer
