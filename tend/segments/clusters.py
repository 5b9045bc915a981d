"""Usage clusters: k-means on how customers use the product and what they pay.

Features per customer over the ``days`` days ending with ``as_of`` (the half-open period
[as_of + 1 − days, as_of + 1) at 00:00 UTC), read from ``activity.DailyRollup`` in one query:

- ``active_days``: days with at least one event;
- ``events_per_active_day``: events ÷ active days (0 with none);
- ``breadth``: distinct event names used;
- ``trend``: (a − b) ÷ (a + b), where a is events per day in the last 30 days and b events per
  day in the days before them (0 when both are 0): +1 = everything in the last 30 days (new or
  back), −1 = nothing lately, 0 = steady;
- ``monthly_revenue``: MRR at the end of ``as_of`` (the customer's last MRR movement before
  it) plus the revenue of paid orders in the period, net of refunds and in the reporting
  currency (tend.segments.rfm.order_revenue), per 30 days: × 30 ÷ ``days``. For a
  subscription business it is the MRR; for a shop, what a customer spends a month.

Customers with neither an event nor revenue in the period are not clustered.
``events_per_active_day`` and ``monthly_revenue`` are spread over orders of magnitude, so
they are taken as log(1 + x) first; then every feature is standardised (mean 0, standard
deviation 1) so none dominates by its unit.
k-means (scikit-learn, ``random_state=0``) runs for each k in [k_min, k_max]; the k with the
highest mean silhouette wins (the smaller k on a tie). The silhouette is computed on all
customers, or on a fixed random sample of ``SILHOUETTE_SAMPLE`` when there are more.

Clusters are numbered by size, largest first. Each centroid is turned back into the features'
own units, and each feature of it is called high, middle or low by where it stands among all
clustered customers (``feature_level``); ``cluster_describe`` turns those into words
("heavy users, low spend"). docs/behaviour.md has the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tend.activity.models import DailyRollup
from tend.billing.models import MrrMovement
from tend.customers.models import Customer
from tend.segments.behaviour_models import (
    CustomerCluster,
    UsageCluster,
    UsageClusterRun,
)
from tend.segments.rfm import BehaviourError, as_of_check, order_revenue

FEATURES = ("active_days", "events_per_active_day", "breadth", "trend", "monthly_revenue")
LOGGED = frozenset({"events_per_active_day", "monthly_revenue"})
RECENT_DAYS = 30
DAYS_DEFAULT, DAYS_MIN, DAYS_MAX = 90, 60, 730
K_MIN_DEFAULT, K_MAX_DEFAULT, K_LIMIT = 2, 8, 12
SILHOUETTE_SAMPLE = 5000
RANDOM_STATE = 0
# A founder's name for a cluster moves to the new run's nearest cluster when their centroids
# are closer than this, in standard deviations of the new run.
RENAME_CARRY_DISTANCE = 1.0


class ClusterError(BehaviourError):
    """A parameter is out of range, or there is too little data to cluster; names the cause."""


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ClusterError(name, _("give a whole number."))
    if not low <= value <= high:
        raise ClusterError(
            name, _("give a number from %(low)s to %(high)s.") % {"low": low, "high": high}
        )
    return value


def params_check(days: Any, k_min: Any, k_max: Any) -> tuple[int, int, int]:
    """The run's parameters, checked; ClusterError names the first one out of range."""
    days = _whole("days", days, DAYS_MIN, DAYS_MAX)
    k_min = _whole("k_min", k_min, 2, K_LIMIT)
    k_max = _whole("k_max", k_max, 2, K_LIMIT)
    if k_min > k_max:
        raise ClusterError(
            "k_max", _("must be at least k_min (%(k)s).") % {"k": k_min}, code="range"
        )
    return days, k_min, k_max


@dataclass
class UsageFeatures:
    customer_ids: list[int]
    values: np.ndarray  # customers × FEATURES, in the features' own units


def _end_of(as_of: date) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)


def usage_features(*, as_of: date, days: int = DAYS_DEFAULT) -> UsageFeatures:
    """Every customer's features (see the module docstring): two queries, no per-customer one."""
    first = as_of + timedelta(days=1 - days)
    recent = as_of + timedelta(days=1 - RECENT_DAYS)
    usage = {
        row["customer_id"]: row
        for row in DailyRollup.objects.filter(day__gte=first, day__lte=as_of)
        .order_by()
        .values("customer_id")
        .annotate(
            active=Count("day", distinct=True),
            events=Sum("count"),
            breadth=Count("name", distinct=True),
            recent=Coalesce(Sum("count", filter=Q(day__gte=recent)), 0),
        )
    }
    end = _end_of(as_of)
    last_mrr = (
        MrrMovement.objects.filter(customer=OuterRef("pk"), at__lt=end)
        .order_by("-at", "-pk")
        .values("mrr_after")[:1]
    )
    money: DecimalField[Any, Any] = DecimalField(max_digits=12, decimal_places=2)
    paying = dict(
        Customer.objects.order_by()
        .annotate(mrr_then=Coalesce(Subquery(last_mrr, output_field=money), Value(0, money)))
        .filter(mrr_then__gt=0)
        .values_list("pk", "mrr_then")
    )
    revenue = order_revenue(start=end - timedelta(days=days), end=end).amounts
    monthly: dict[int, float] = {
        i: float(paying.get(i, 0)) + float(revenue.get(i, 0)) * 30 / days
        for i in set(paying) | set(revenue)
    }
    ids = sorted(set(usage) | {i for i, v in monthly.items() if v > 0})
    rows = []
    earlier_days = days - RECENT_DAYS
    for customer_id in ids:
        u = usage.get(customer_id)
        if u is None:
            active = events = breadth = recent_events = 0
        else:
            active, events, breadth = u["active"], u["events"] or 0, u["breadth"]
            recent_events = u["recent"] or 0
        a = recent_events / RECENT_DAYS
        b = (events - recent_events) / earlier_days
        trend = (a - b) / (a + b) if a + b > 0 else 0.0
        rows.append(
            [
                float(active),
                events / active if active else 0.0,
                float(breadth),
                trend,
                monthly.get(customer_id, 0.0),
            ]
        )
    values = np.array(rows, dtype=float).reshape(len(rows), len(FEATURES))
    return UsageFeatures(customer_ids=ids, values=values)


def feature_level(column: np.ndarray, value: float) -> str:
    """ "high" when at least 2/3 of customers are below ``value`` (ties count half), "low" when at
    most 1/3 are, "mid" otherwise; "" when every customer has the same value (no contrast).
    Values within a billionth (relative) of each other count as equal."""
    if column.size == 0 or np.all(column == column[0]):
        return ""
    # A centroid comes back from scaling and log with float noise (10.000000000002): values
    # that close count as equal.
    tol = 1e-9 * max(1.0, abs(value))
    equal = float(np.sum(np.abs(column - value) <= tol))
    below = float(np.sum(column < value - tol)) + 0.5 * equal
    share = below / column.size
    if share >= 2 / 3:
        return "high"
    if share <= 1 / 3:
        return "low"
    return "mid"


def _transform(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    for j, name in enumerate(FEATURES):
        if name in LOGGED:
            out[:, j] = np.log1p(np.maximum(out[:, j], 0))
    return out


def _untransform(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    for j, name in enumerate(FEATURES):
        if name in LOGGED:
            out[:, j] = np.expm1(out[:, j])
        if name != "trend":  # counts and money are never below 0 (float noise: -0.0000001)
            out[:, j] = np.maximum(out[:, j], 0.0)
    return out


@dataclass
class ClusterResult:
    features: UsageFeatures
    k: int
    silhouettes: dict[int, float]
    labels: np.ndarray  # 0-based cluster index per customer, largest cluster = 0
    centroids: np.ndarray  # k × FEATURES in the features' own units
    scaled_centroids: np.ndarray  # k × FEATURES, standardised
    scaler: Any
    sample: int


def clusters_compute(
    *,
    as_of: date,
    days: int = DAYS_DEFAULT,
    k_min: int = K_MIN_DEFAULT,
    k_max: int = K_MAX_DEFAULT,
) -> ClusterResult:
    """Choose k by silhouette and cluster every customer; writes nothing. ClusterError when a
    parameter is out of range or there are too few distinct customers for k_min clusters."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    days, k_min, k_max = params_check(days, k_min, k_max)
    as_of = as_of_check(as_of)
    features = usage_features(as_of=as_of, days=days)
    n = len(features.customer_ids)
    distinct = len(np.unique(features.values, axis=0)) if n else 0
    k_high = min(k_max, n - 1, distinct)
    if k_high < k_min:
        raise ClusterError(
            "",
            _(
                "Too little usage to cluster: %(n)s customers with events or revenue in the last "
                "%(days)s days (%(distinct)s different), and %(k)s clusters need at least "
                "%(need)s different ones."
            )
            % {"n": n, "days": days, "distinct": distinct, "k": k_min, "need": k_min + 1},
            code="too_little_data",
        )
    scaler = StandardScaler()
    x = scaler.fit_transform(_transform(features.values))
    if n > SILHOUETTE_SAMPLE:
        sample = np.sort(np.random.default_rng(RANDOM_STATE).choice(n, SILHOUETTE_SAMPLE, False))
    else:
        sample = np.arange(n)
    silhouettes: dict[int, float] = {}
    fits: dict[int, Any] = {}
    for k in range(k_min, k_high + 1):
        model = KMeans(n_clusters=k, n_init=4, random_state=RANDOM_STATE).fit(x)
        labels = model.labels_
        if len(np.unique(labels[sample])) < 2:
            score = -1.0
        else:
            score = float(silhouette_score(x[sample], labels[sample]))
        silhouettes[k] = round(score, 6)
        fits[k] = model
    best = max(silhouettes, key=lambda k: (silhouettes[k], -k))
    model = fits[best]
    # Number clusters by size, largest first; equal sizes by their centroid, so the same data
    # always gives the same numbers.
    sizes = np.bincount(model.labels_, minlength=best)
    order = sorted(range(best), key=lambda c: (-sizes[c], tuple(model.cluster_centers_[c])))
    remap = np.empty(best, dtype=int)
    for new, old in enumerate(order):
        remap[old] = new
    scaled = model.cluster_centers_[order]
    centroids = _untransform(scaler.inverse_transform(scaled))
    return ClusterResult(
        features=features,
        k=best,
        silhouettes=silhouettes,
        labels=remap[model.labels_],
        centroids=centroids,
        scaled_centroids=scaled,
        scaler=scaler,
        sample=len(sample),
    )


def _quantiles(column: np.ndarray) -> dict[str, float]:
    q33, median, q67 = np.quantile(column, [1 / 3, 0.5, 2 / 3])
    return {
        "q33": round(float(q33), 4),
        "median": round(float(median), 4),
        "q67": round(float(q67), 4),
    }


def _carried_names(result: ClusterResult, previous: UsageClusterRun | None) -> dict[int, str]:
    """Names the founder gave the previous run's clusters, moved to this run's nearest ones."""
    if previous is None:
        return {}
    named = [c for c in previous.clusters.all() if c.name]
    pairs = []
    for cluster in named:
        point = np.array([[float(cluster.centroid.get(f, 0.0)) for f in FEATURES]])
        scaled = result.scaler.transform(_transform(point))[0]
        for j, centre in enumerate(result.scaled_centroids):
            pairs.append((float(np.linalg.norm(scaled - centre)), cluster.number, j, cluster.name))
    names: dict[int, str] = {}
    taken: set[int] = set()
    for distance, old, j, name in sorted(pairs):
        if distance < RENAME_CARRY_DISTANCE and j not in names and old not in taken:
            names[j] = name
            taken.add(old)
    return names


def clusters_refresh(
    as_of: date | None = None,
    *,
    days: int = DAYS_DEFAULT,
    k_min: int = K_MIN_DEFAULT,
    k_max: int = K_MAX_DEFAULT,
) -> UsageClusterRun:
    """Cluster every customer as of ``as_of`` (default today, UTC) and store the run, its
    clusters and each customer's cluster, replacing the previous assignment in one
    transaction. Raises ClusterError (nothing written) when it cannot cluster."""
    as_of = as_of_check(as_of)
    result = clusters_compute(as_of=as_of, days=days, k_min=k_min, k_max=k_max)
    values = result.features.values
    with transaction.atomic():
        previous = UsageClusterRun.objects.order_by("-computed_at", "-pk").first()
        names = _carried_names(result, previous)
        run = UsageClusterRun.objects.create(
            as_of=as_of,
            days=days,
            k_min=k_min,
            k_max=k_max,
            k=result.k,
            silhouettes={str(k): v for k, v in result.silhouettes.items()},
            features=list(FEATURES),
            quantiles={f: _quantiles(values[:, j]) for j, f in enumerate(FEATURES)},
            customers=len(result.features.customer_ids),
            silhouette_sample=result.sample,
        )
        sizes = np.bincount(result.labels, minlength=result.k)
        clusters = UsageCluster.objects.bulk_create(
            [
                UsageCluster(
                    run=run,
                    number=c + 1,
                    size=int(sizes[c]),
                    centroid={
                        f: round(float(result.centroids[c, j]), 4) for j, f in enumerate(FEATURES)
                    },
                    levels={
                        f: feature_level(values[:, j], float(result.centroids[c, j]))
                        for j, f in enumerate(FEATURES)
                    },
                    name=names.get(c, ""),
                )
                for c in range(result.k)
            ]
        )
        if any(c.pk is None for c in clusters):  # backends without RETURNING
            clusters = list(run.clusters.order_by("number"))
        CustomerCluster.objects.all().delete()
        CustomerCluster.objects.bulk_create(
            [
                CustomerCluster(
                    customer_id=customer_id,
                    run=run,
                    cluster=clusters[int(result.labels[i])],
                    number=int(result.labels[i]) + 1,
                    values={f: round(float(values[i, j]), 4) for j, f in enumerate(FEATURES)},
                )
                for i, customer_id in enumerate(result.features.customer_ids)
            ],
            batch_size=2000,
        )
        old = UsageClusterRun.objects.exclude(pk=run.pk).order_by("-computed_at", "-pk")[30:]
        UsageClusterRun.objects.filter(pk__in=[r.pk for r in old]).delete()
    return run


def cluster_rename(
    *, cluster: UsageCluster, name: Any, by: Any = None, label: str = ""
) -> UsageCluster:
    """Give ``cluster`` the founder's name (blank: back to the generated description)."""
    if not isinstance(name, str):
        raise ClusterError("name", _("give text."))
    if "\x00" in name or any(0xD800 <= ord(ch) <= 0xDFFF for ch in name):
        raise ClusterError("name", _("must not contain NUL characters or lone surrogates."))
    name = " ".join(name.split())
    if len(name) > 80:
        raise ClusterError("name", _("at most 80 characters."))
    from tend.accounts.actions import audit_record

    before = cluster.name
    cluster.name = name
    cluster.save(update_fields=["name"])
    audit_record(
        by=by if getattr(by, "pk", None) else None,
        label=label,
        action="cluster.rename",
        obj=cluster,
        changes={"name": (before, name)},
    )
    return cluster


# --- Words ------------------------------------------------------------------------------

_USAGE_WORDS = {
    ("high", "high"): lambda: pgettext("usage cluster", "heavy users"),
    ("high", "mid"): lambda: pgettext("usage cluster", "frequent users"),
    ("high", "low"): lambda: pgettext("usage cluster", "frequent, light users"),
    ("mid", "high"): lambda: pgettext("usage cluster", "intense users"),
    ("mid", "mid"): lambda: pgettext("usage cluster", "regular users"),
    ("mid", "low"): lambda: pgettext("usage cluster", "light users"),
    ("low", "high"): lambda: pgettext("usage cluster", "busy on few days"),
    ("low", "mid"): lambda: pgettext("usage cluster", "occasional users"),
    ("low", "low"): lambda: pgettext("usage cluster", "quiet"),
}


def cluster_describe(centroid: dict[str, float], levels: dict[str, str]) -> str:
    """A cluster in plain words, in the reader's language, from its centroid and levels:
    usage (active days × events per active day), spend (monthly revenue), trend, breadth."""
    parts = []
    if float(centroid.get("active_days", 0)) < 1:
        parts.append(pgettext("usage cluster", "no usage"))
    else:
        days = levels.get("active_days") or "mid"
        intensity = levels.get("events_per_active_day") or "mid"
        parts.append(_USAGE_WORDS[(days, intensity)]())
    spend = levels.get("monthly_revenue", "")
    if spend and float(centroid.get("monthly_revenue", 0)) < 0.5:
        parts.append(pgettext("usage cluster", "not paying"))
    elif spend == "high":
        parts.append(pgettext("usage cluster", "high spend"))
    elif spend == "low":
        parts.append(pgettext("usage cluster", "low spend"))
    elif spend == "mid":
        parts.append(pgettext("usage cluster", "medium spend"))
    trend = float(centroid.get("trend", 0))
    if float(centroid.get("active_days", 0)) >= 1:
        if trend >= 0.8:
            parts.append(pgettext("usage cluster", "new and growing"))
        elif trend >= 1 / 3:
            parts.append(pgettext("usage cluster", "growing"))
        elif trend <= -0.8:
            parts.append(pgettext("usage cluster", "gone quiet lately"))
        elif trend <= -1 / 3:
            parts.append(pgettext("usage cluster", "declining"))
    breadth = levels.get("breadth", "")
    if breadth == "high":
        parts.append(pgettext("usage cluster", "many features"))
    elif breadth == "low":
        parts.append(pgettext("usage cluster", "few features"))
    return pgettext("list separator", ", ").join(parts)


def cluster_descriptions(clusters: list[UsageCluster]) -> dict[int, str]:
    """Each cluster's description by number; clusters of one run that the rules describe alike
    get their active days added ("heavy users, high spend, 57 active days") to tell them apart."""
    described = {c.number: cluster_describe(c.centroid, c.levels) for c in clusters}
    seen: dict[str, int] = {}
    for text in described.values():
        seen[text] = seen.get(text, 0) + 1
    separator = pgettext("list separator", ", ")
    for c in clusters:
        if seen[described[c.number]] > 1:
            days = round(float(c.centroid.get("active_days", 0)))
            described[c.number] += separator + pgettext("usage cluster", "%(days)s active days") % {
                "days": days
            }
    return described


def latest_cluster_run() -> UsageClusterRun | None:
    """The run in force (its clusters are the ones customers are in)."""
    return UsageClusterRun.objects.order_by("-computed_at", "-pk").first()
