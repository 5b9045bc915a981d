"""k-means on three obvious usage groups (tend/segments/tests/behaviour_data.py): k = 3 by
silhouette, everyone in the right cluster, descriptions as the rules say, same result twice."""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import translation

from tend.segments.behaviour_models import CustomerCluster, UsageCluster, UsageClusterRun
from tend.segments.clusters import (
    FEATURES,
    ClusterError,
    cluster_describe,
    cluster_rename,
    clusters_refresh,
    feature_level,
    usage_features,
)
from tend.segments.conditions import customers_matching
from tend.segments.tests.behaviour_data import AS_OF, build_usage

pytestmark = pytest.mark.django_db


def _clusters_of(customers: list) -> set[int]:  # type: ignore[type-arg]
    return set(
        CustomerCluster.objects.filter(customer__in=customers).values_list("number", flat=True)
    )


def test_features_are_read_as_the_docstring_says() -> None:
    usage = build_usage()
    features = usage_features(as_of=AS_OF, days=90)
    by_id = dict(zip(features.customer_ids, features.values.tolist(), strict=True))
    assert usage.idle.pk not in by_id  # no events, no revenue: not clustered
    assert len(by_id) == 15
    h4 = dict(zip(FEATURES, by_id[usage.heavy[4].pk], strict=True))
    # Active 86 days, 40 events a day; a = 40/day over the last 30 days, b = 56 × 40 / 60.
    assert h4["active_days"] == 86 and h4["events_per_active_day"] == 40 and h4["breadth"] == 8
    assert h4["trend"] == pytest.approx((40 - 56 * 40 / 60) / (40 + 56 * 40 / 60))
    assert h4["monthly_revenue"] == 10
    q2 = dict(zip(FEATURES, by_id[usage.quiet[2].pk], strict=True))
    assert (q2["active_days"], q2["events_per_active_day"], q2["breadth"]) == (6, 2, 2)
    assert q2["trend"] == 0 and q2["monthly_revenue"] == 520
    n1 = dict(zip(FEATURES, by_id[usage.new[1].pk], strict=True))
    assert (n1["active_days"], n1["events_per_active_day"], n1["trend"]) == (19, 10, 1)


def test_three_obvious_groups_give_k_3_and_everyone_in_their_group() -> None:
    usage = build_usage()
    run = clusters_refresh(AS_OF)
    assert run.k == 3
    assert max(run.silhouettes, key=lambda k: run.silhouettes[k]) == "3"
    assert set(run.silhouettes) == {str(k) for k in range(2, 9)}
    assert run.customers == 15 and run.silhouette_sample == 15
    heavy, quiet, new = (
        _clusters_of(usage.heavy),
        _clusters_of(usage.quiet),
        _clusters_of(usage.new),
    )
    assert len(heavy) == len(quiet) == len(new) == 1
    assert heavy | quiet | new == {1, 2, 3}
    # Equal sizes: numbered by centroid, fewest active days first.
    assert (quiet, new, heavy) == ({1}, {2}, {3})
    assert not CustomerCluster.objects.filter(customer=usage.idle).exists()


def test_each_cluster_is_described_from_its_centroid() -> None:
    build_usage()
    run = clusters_refresh(AS_OF)
    clusters = {c.number: c for c in run.clusters.all()}
    quiet, new, heavy = clusters[1], clusters[2], clusters[3]
    assert heavy.levels == {
        "active_days": "high",
        "events_per_active_day": "high",
        "breadth": "high",
        "trend": "mid",
        "monthly_revenue": "low",
    }
    assert heavy.centroid["events_per_active_day"] == pytest.approx(40)
    assert quiet.centroid["monthly_revenue"] == pytest.approx(520, rel=1e-3)  # log scale mean
    assert cluster_describe(heavy.centroid, heavy.levels) == "heavy users, low spend, many features"
    assert cluster_describe(quiet.centroid, quiet.levels) == "quiet, high spend, few features"
    assert cluster_describe(new.centroid, new.levels) == (
        "regular users, medium spend, new and growing"
    )
    with translation.override("zh-hans"):
        assert cluster_describe(heavy.centroid, heavy.levels) != ""


def test_the_same_data_gives_the_same_clusters_twice() -> None:
    build_usage()
    first = clusters_refresh(AS_OF)
    assignment = sorted(CustomerCluster.objects.values_list("customer_id", "number"))
    second = clusters_refresh(AS_OF)
    assert second.silhouettes == first.silhouettes and second.k == first.k
    assert sorted(CustomerCluster.objects.values_list("customer_id", "number")) == assignment
    assert CustomerCluster.objects.filter(run=first).count() == 0


def test_a_founders_name_moves_to_the_same_cluster_in_the_next_run() -> None:
    usage = build_usage()
    run = clusters_refresh(AS_OF)
    heavy = run.clusters.get(number=3)
    cluster_rename(cluster=heavy, name="  Power   users ")
    assert UsageCluster.objects.get(pk=heavy.pk).name == "Power users"
    later = clusters_refresh(AS_OF)
    assert later.clusters.get(number=3).name == "Power users"
    assert set(later.clusters.exclude(number=3).values_list("name", flat=True)) == {""}
    members = customers_matching({"field": "usage_cluster", "op": "eq", "value": 3})
    assert set(members) == set(usage.heavy)


@pytest.mark.parametrize("bad", ["x" * 81, "a\x00b", 5, None])
def test_a_bad_cluster_name_is_refused(bad: object) -> None:
    build_usage()
    cluster = clusters_refresh(AS_OF).clusters.get(number=1)
    with pytest.raises(ClusterError) as caught:
        cluster_rename(cluster=cluster, name=bad)
    assert caught.value.field == "name"
    assert UsageCluster.objects.get(pk=cluster.pk).name == ""


def test_no_usage_is_a_clear_message_and_writes_nothing() -> None:
    with pytest.raises(ClusterError) as caught:
        clusters_refresh(AS_OF)
    assert caught.value.code == "too_little_data"
    assert "Too little usage to cluster: 0 customers" in str(caught.value)
    assert not UsageClusterRun.objects.exists()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"days": 59}, "days"),
        ({"days": 731}, "days"),
        ({"k_min": 1}, "k_min"),
        ({"k_max": 13}, "k_max"),
        ({"k_min": 5, "k_max": 4}, "k_max"),
        ({"days": "90"}, "days"),
        ({"k_min": True}, "k_min"),
    ],
)
def test_parameters_out_of_range_are_refused_naming_them(params: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ClusterError) as caught:
        clusters_refresh(AS_OF, **params)
    assert caught.value.field == field
    assert not UsageClusterRun.objects.exists()


def test_feature_levels_count_ties_as_half() -> None:
    column = np.array([0.0, 0, 0, 0, 10, 20])
    assert feature_level(column, 0.0) == "low"  # 2 of 6 below: 1/3
    assert feature_level(column, 20.0) == "high"  # 5.5 of 6
    assert feature_level(column, 5.0) == "high"  # 4 of 6: exactly 2/3
    assert feature_level(np.array([1.0, 2, 3, 4, 5, 6]), 3.5) == "mid"  # 3 of 6
    assert feature_level(np.array([3.0, 3.0]), 3.0) == ""


def test_clusters_described_alike_are_told_apart_by_their_active_days() -> None:
    from tend.segments.clusters import cluster_descriptions

    levels = {"active_days": "high", "events_per_active_day": "high", "monthly_revenue": "high"}
    a = UsageCluster(number=1, centroid={"active_days": 28.2, "monthly_revenue": 44}, levels=levels)
    b = UsageCluster(number=2, centroid={"active_days": 57.4, "monthly_revenue": 47}, levels=levels)
    c = UsageCluster(number=3, centroid={"active_days": 2, "monthly_revenue": 0}, levels={})
    assert cluster_descriptions([a, b, c]) == {
        1: "heavy users, high spend, 28 active days",
        2: "heavy users, high spend, 57 active days",
        3: "regular users",
    }
