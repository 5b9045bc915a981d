"""The behaviour page: empty states, recompute buttons, save as segment, rename, who may."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from tend.accounts.models import AuditEntry
from tend.segments.behaviour_models import CustomerRfm, UsageCluster, UsageClusterRun
from tend.segments.conditions import customers_matching
from tend.segments.models import RfmRun, Segment
from tend.segments.tests.behaviour_data import build_shop, build_usage

pytestmark = pytest.mark.django_db
PAGE = "/segments/behaviour/"


def today() -> Any:
    return datetime.now(UTC).date()


def page_text(client: Client) -> str:
    response = client.get(PAGE)
    assert response.status_code == 200
    return response.content.decode()


def test_before_any_run_the_page_says_what_to_do(viewer_client: Client) -> None:
    html = page_text(viewer_client)
    assert "RFM scores have not been computed yet" in html
    assert "Usage clusters have not been computed yet" in html
    assert "How RFM is computed" in html and "How the clusters are computed" in html
    assert "Recompute RFM" not in html  # viewers do not get the buttons


def test_the_page_needs_a_login(outsider_client: Client) -> None:
    response = outsider_client.get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_no_orders_gives_a_helpful_empty_state(owner_client: Client) -> None:
    response = owner_client.post(f"{PAGE}rfm/", follow=True)
    html = response.content.decode()
    assert "RFM scores recomputed for 0 customers from 0 paid orders." in html
    assert "No paid orders up to" in html and "sell by order" in html


def test_recompute_shows_groups_grid_and_formulas(owner_client: Client) -> None:
    build_shop(today())
    response = owner_client.post(f"{PAGE}rfm/", {"window_days": "365"}, follow=True)
    html = response.content.decode()
    assert "RFM scores recomputed for 10 customers from 51 paid orders." in html
    assert 'id="rfm-groups"' in html and 'id="rfm-grid"' in html
    assert "R 5, FM 4–5" in html  # champions' rule
    assert "1 + ⌊5 × customers with a worse value ÷ customers scored⌋" in html
    assert CustomerRfm.objects.count() == 10


def test_the_page_reads_in_a_fixed_number_of_queries(
    owner_client: Client, django_assert_max_num_queries: Any
) -> None:
    build_shop(today())
    build_usage(today())
    owner_client.post(f"{PAGE}rfm/")
    owner_client.post(f"{PAGE}clusters/")
    with django_assert_max_num_queries(12):
        html = page_text(owner_client)
    assert "heavy users, low spend, many features" in html
    assert 'id="silhouette-figure"' in html and "k=3:" in html


def test_clusters_with_no_usage_say_so_and_write_nothing(member_client: Client) -> None:
    response = member_client.post(f"{PAGE}clusters/", follow=True)
    assert "Too little usage to cluster: 0 customers" in response.content.decode()
    assert not UsageClusterRun.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"window_days": "abc"}, "window_days"),
        ({"window_days": "3\x00"}, "window_days"),
        ({"window_days": "99999999"}, "window_days"),
        ({"window_days": "5"}, "window_days"),
        ({"window_days": "٣٦٥"}, "window_days"),  # Arabic-Indic digits
    ],
)
def test_bad_window_is_refused_naming_it(owner_client: Client, data: dict, field: str) -> None:  # type: ignore[type-arg]
    response = owner_client.post(f"{PAGE}rfm/", data, follow=True)
    assert response.status_code == 200
    assert f"{field}: " in response.content.decode()
    assert not RfmRun.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"days": "10"}, "days"),
        ({"k_min": "1"}, "k_min"),
        ({"k_max": "x"}, "k_max"),
        ({"k_min": "6", "k_max": "3"}, "k_max"),
    ],
)
def test_bad_cluster_parameters_are_refused(owner_client: Client, data: dict, field: str) -> None:  # type: ignore[type-arg]
    build_usage(today())
    response = owner_client.post(f"{PAGE}clusters/", data, follow=True)
    assert response.status_code == 200
    assert f'alert-danger alert-dismissible fade show py-2" role="alert">\n        {field}: ' in (
        response.content.decode()
    )
    assert not UsageClusterRun.objects.exists()


def test_a_viewer_can_neither_recompute_nor_save_nor_rename(
    viewer_client: Client, owner_client: Client
) -> None:
    build_shop(today())
    build_usage(today())
    owner_client.post(f"{PAGE}clusters/")
    cluster = UsageCluster.objects.first()
    assert cluster is not None
    posts = [
        (f"{PAGE}rfm/", {}),
        (f"{PAGE}clusters/", {}),
        (f"{PAGE}save/", {"kind": "cluster", "value": "1"}),
        (f"{PAGE}clusters/{cluster.pk}/rename/", {"name": "Mine"}),
    ]
    runs = UsageClusterRun.objects.count()
    for url, data in posts:
        assert viewer_client.post(url, data).status_code == 403, url
    assert not RfmRun.objects.exists() and UsageClusterRun.objects.count() == runs
    assert not Segment.objects.exists()
    assert UsageCluster.objects.get(pk=cluster.pk).name == ""


def test_a_member_saves_an_rfm_group_as_a_segment_that_matches_it(
    member_client: Client, member: Any
) -> None:
    shop = build_shop(today())
    member_client.post(f"{PAGE}rfm/")
    response = member_client.post(
        f"{PAGE}save/", {"kind": "rfm", "value": "champions"}, follow=True
    )
    assert "Saved the segment “RFM: Champions”." in response.content.decode()
    segment = Segment.objects.get()
    assert segment.condition == {"field": "rfm_group", "op": "eq", "value": "champions"}
    assert segment.created_by == member
    assert set(customers_matching(segment.condition)) == {shop["A"]}
    assert AuditEntry.objects.filter(action="segment.create").count() == 1
    member_client.post(f"{PAGE}save/", {"kind": "rfm", "value": "champions"})
    assert set(Segment.objects.values_list("name", flat=True)) == {
        "RFM: Champions",
        "RFM: Champions (2)",
    }


def test_a_cluster_is_saved_as_a_segment_and_renamed(owner_client: Client) -> None:
    usage = build_usage(today())
    owner_client.post(f"{PAGE}clusters/")
    heavy = UsageCluster.objects.get(number=3)
    owner_client.post(f"{PAGE}clusters/{heavy.pk}/rename/", {"name": "Power users"})
    assert "Power users" in page_text(owner_client)
    owner_client.post(f"{PAGE}save/", {"kind": "cluster", "value": "3"})
    segment = Segment.objects.get()
    assert segment.name == "Usage cluster 3: Power users"
    assert segment.condition == {"field": "usage_cluster", "op": "eq", "value": 3}
    assert set(customers_matching(segment.condition)) == set(usage.heavy)


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "rfm", "value": "best"},
        {"kind": "rfm", "value": "champions\x00"},
        {"kind": "cluster", "value": "9"},
        {"kind": "cluster", "value": "-1"},
        {"kind": "nope", "value": "1"},
        {},
    ],
)
def test_saving_something_unknown_saves_nothing(owner_client: Client, data: dict) -> None:  # type: ignore[type-arg]
    response = owner_client.post(f"{PAGE}save/", data, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "value: " in html or "kind: " in html
    assert not Segment.objects.exists()
