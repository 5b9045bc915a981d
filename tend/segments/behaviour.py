"""Reads for the behaviour page, REST API and CLI (RFM groups, usage clusters), and saving a
group or cluster as a segment."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.segments.behaviour_models import (
    CustomerRfm,
    RfmGroup,
    RfmRun,
    UsageCluster,
    UsageClusterRun,
)
from tend.segments.clusters import FEATURES, cluster_descriptions, latest_cluster_run
from tend.segments.models import Segment
from tend.segments.rfm import RFM_GROUP_RULES, BehaviourError, fm_score


@dataclass
class GroupRow:
    key: str
    label: str
    rule: str
    customers: int = 0
    revenue: Decimal = Decimal(0)
    share: float = 0.0  # of the revenue of every scored customer, 0–1

    @property
    def percent(self) -> float:
        return self.share * 100


@dataclass
class RfmSummary:
    run: RfmRun | None
    groups: list[GroupRow]
    # grid[r - 1][fm - 1] = (customers, group key)
    grid: list[list[tuple[int, str]]]
    customers: int = 0
    revenue: Decimal = Decimal(0)
    grid_rows: list[dict[str, Any]] = field(default_factory=list)


def group_rule_text(r_lo: int, r_hi: int, fm_lo: int, fm_hi: int) -> str:
    """ "R 4–5, FM 2–3" (one number when both ends are the same)."""

    def span(lo: int, hi: int) -> str:
        return str(lo) if lo == hi else f"{lo}–{hi}"

    return _("R %(r)s, FM %(fm)s") % {"r": span(r_lo, r_hi), "fm": span(fm_lo, fm_hi)}


def group_of(r: int, fm: int) -> str:
    for group, r_lo, r_hi, fm_lo, fm_hi in RFM_GROUP_RULES:
        if r_lo <= r <= r_hi and fm_lo <= fm <= fm_hi:
            return str(group)
    return ""


def rfm_summary() -> RfmSummary:
    """The latest run, customers and revenue per group, and the R × FM grid: two queries."""
    run = RfmRun.objects.order_by("-computed_at", "-pk").first()
    labels = dict(RfmGroup.choices)
    groups = {
        str(g): GroupRow(key=str(g), label=str(labels[g]), rule=group_rule_text(*rule))
        for g, *rule in RFM_GROUP_RULES
    }
    grid = [[(0, group_of(r, fm)) for fm in range(1, 6)] for r in range(1, 6)]
    summary = RfmSummary(run=run, groups=list(groups.values()), grid=grid)
    if run is None:
        return summary
    cells = (
        CustomerRfm.objects.order_by()
        .values("r", "f", "m")
        .annotate(n=Count("pk"), revenue=Sum("monetary"))
        .values_list("r", "f", "m", "n", "revenue")
    )
    for r, f, m, n, revenue in cells:
        fm = fm_score(f, m)
        key = group_of(r, fm)
        row = groups[key]
        row.customers += n
        row.revenue += revenue or Decimal(0)
        count, _key = grid[r - 1][fm - 1]
        grid[r - 1][fm - 1] = (count + n, key)
        summary.customers += n
        summary.revenue += revenue or Decimal(0)
    for row in groups.values():
        row.share = float(row.revenue / summary.revenue) if summary.revenue else 0.0
    summary.grid_rows = [
        {
            "r": r,
            "cells": [
                {"fm": fm + 1, "n": n, "group": g, "label": str(labels[g])}
                for fm, (n, g) in enumerate(cells_)
            ],
        }
        for r, cells_ in reversed(list(enumerate(grid, start=1)))
    ]
    return summary


@dataclass
class ClusterRow:
    cluster: UsageCluster
    description: str
    title: str
    share: float

    @property
    def percent(self) -> float:
        return self.share * 100


@dataclass
class ClusterSummary:
    run: UsageClusterRun | None
    clusters: list[ClusterRow]
    silhouettes: list[tuple[int, float]]


def cluster_summary() -> ClusterSummary:
    """The latest usage-cluster run with its clusters described: two queries."""
    run = latest_cluster_run()
    if run is None:
        return ClusterSummary(run=None, clusters=[], silhouettes=[])
    rows = []
    clusters = list(run.clusters.order_by("number"))
    descriptions = cluster_descriptions(clusters)
    for cluster in clusters:
        description = descriptions[cluster.number]
        rows.append(
            ClusterRow(
                cluster=cluster,
                description=description,
                title=cluster.name or description,
                share=cluster.size / run.customers if run.customers else 0.0,
            )
        )
    silhouettes = sorted((int(k), float(v)) for k, v in run.silhouettes.items())
    return ClusterSummary(run=run, clusters=rows, silhouettes=silhouettes)


def cluster_choices() -> list[tuple[str, str]]:
    """The latest run's clusters as condition choices: ("2", "2 · heavy users, low spend")."""
    run = latest_cluster_run()
    if run is None:
        return []
    clusters = list(run.clusters.order_by("number"))
    descriptions = cluster_descriptions(clusters)
    return [(str(c.number), f"{c.number} · {c.name or descriptions[c.number]}") for c in clusters]


class SaveError(BehaviourError):
    """The segment cannot be saved."""


def _unique_name(name: str) -> str:
    name = name[:120]
    if not Segment.objects.filter(name=name).exists():
        return name
    for n in range(2, 1000):
        suffix = f" ({n})"
        candidate = name[: 120 - len(suffix)] + suffix
        if not Segment.objects.filter(name=candidate).exists():
            return candidate
    raise SaveError("name", _("too many segments with this name."))


def behaviour_segment_save(*, kind: Any, value: Any, by: User | None, label: str = "") -> Segment:
    """Save an RFM group (``kind="rfm"``, value a group key) or a usage cluster of the latest
    run (``kind="cluster"``, value its number) as a segment whose condition is that group or
    cluster, so it follows every later recompute. A name already taken gets " (2)" etc."""
    from tend.segments.conditions import condition_parse

    if kind == "rfm":
        if not isinstance(value, str) or value not in RfmGroup.values:
            raise SaveError(
                "value",
                _("choose one of the RFM groups: %(groups)s.")
                % {"groups": ", ".join(RfmGroup.values)},
            )
        group = RfmGroup(value)
        name = _("RFM: %(group)s") % {"group": group.label}
        rule = next(group_rule_text(*r) for g, *r in RFM_GROUP_RULES if g == group)
        description = _(
            "Customers in the RFM group “%(group)s” (%(rule)s) at the latest RFM recompute. "
            "Saved from the behaviour page."
        ) % {"group": group.label, "rule": rule}
        condition: dict[str, Any] = {"field": "rfm_group", "op": "eq", "value": group.value}
    elif kind == "cluster":
        run = latest_cluster_run()
        if run is None:
            raise SaveError("value", _("there are no usage clusters yet; compute them first."))
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        cluster = (
            run.clusters.filter(number=value).first()
            if isinstance(value, int) and not isinstance(value, bool)
            else None
        )
        if cluster is None:
            raise SaveError("value", _("the latest run has clusters 1 to %(k)s.") % {"k": run.k})
        title = cluster.name or cluster_descriptions(list(run.clusters.all()))[cluster.number]
        name = _("Usage cluster %(n)s: %(title)s") % {"n": cluster.number, "title": title}
        description = _(
            "Customers in usage cluster %(n)s (%(title)s) of the latest k-means run; numbers "
            "can change when clusters are recomputed. Saved from the behaviour page."
        ) % {"n": cluster.number, "title": title}
        condition = {"field": "usage_cluster", "op": "eq", "value": cluster.number}
    else:
        raise SaveError("kind", _("give rfm or cluster."))
    condition_parse(condition)
    with transaction.atomic():
        try:
            segment = Segment.objects.create(
                name=_unique_name(name), description=description, condition=condition, created_by=by
            )
        except IntegrityError:  # the same name saved at the same moment
            raise SaveError("name", _("a segment with this name was just saved.")) from None
        audit_record(
            by=by,
            label=label,
            action="segment.create",
            obj=segment,
            changes={"condition": condition},
        )
    return segment


FEATURE_LABELS = {
    "active_days": lambda: _("Active days"),
    "events_per_active_day": lambda: _("Events per active day"),
    "breadth": lambda: _("Distinct events"),
    "trend": lambda: _("Trend"),
    "monthly_revenue": lambda: _("Monthly revenue"),
}


def feature_labels() -> list[tuple[str, str]]:
    return [(f, FEATURE_LABELS[f]()) for f in FEATURES]
