"""The behaviour page: RFM groups and usage clusters, recompute buttons, save as segment.

Every role reads; owners and members (writers) recompute, rename clusters and save segments:
these change no customer data, only derived scores and a new segment, like the segments
themselves, which members may create too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tend.lib.access import can_write, write_view
from tend.metrics.chart_parts import AXIS, CONFIG, LAYOUT
from tend.segments.behaviour import (
    SaveError,
    behaviour_segment_save,
    cluster_summary,
    feature_labels,
    rfm_summary,
)
from tend.segments.behaviour_models import UsageCluster
from tend.segments.clusters import (
    DAYS_DEFAULT,
    K_MAX_DEFAULT,
    K_MIN_DEFAULT,
    ClusterError,
    cluster_rename,
    clusters_refresh,
)
from tend.segments.rfm import RFM_WINDOW_DAYS, RfmError, rfm_refresh


def _whole(data: QueryDict, name: str, default: int) -> int:
    """A whole number from a form field, or ``default`` when it is empty; names the field."""
    raw = data.get(name, "")
    if raw.strip() == "":
        return default
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 6:
        raise ClusterError(name, _("give a whole number."))
    return int(text)


def _silhouette_figure(silhouettes: list[tuple[int, float]], chosen: int) -> dict[str, Any]:
    ks = [k for k, _v in silhouettes]
    return {
        "data": [
            {
                "type": "bar",
                "x": [str(k) for k in ks],
                "y": [v for _k, v in silhouettes],
                "marker": {"color": ["#2f6fb0" if k == chosen else "#b8c7d6" for k in ks]},
                "hovertemplate": "k = %{x}: %{y:.3f}<extra></extra>",
            }
        ],
        "layout": {
            **LAYOUT,
            "height": 160,
            "hovermode": "closest",
            "xaxis": {**AXIS, "title": {"text": "k", "font": {"size": 11}}, "type": "category"},
            "yaxis": {
                **AXIS,
                "showgrid": True,
                "gridcolor": "#eef1f4",
                "range": [min([0.0, *[v for _k, v in silhouettes]]), 1],
            },
            "showlegend": False,
        },
        "config": CONFIG,
    }


@require_GET
def behaviour_page(request: HttpRequest) -> HttpResponse:
    """RFM groups with their grid, usage clusters with the silhouette of each k."""
    rfm = rfm_summary()
    clusters = cluster_summary()
    labels = feature_labels()
    rows = []
    for row in clusters.clusters:
        centroid = row.cluster.centroid
        rows.append(
            {
                "row": row,
                "values": [
                    {
                        "feature": f,
                        "label": label,
                        "value": centroid.get(f, 0),
                        "level": row.cluster.levels.get(f, ""),
                    }
                    for f, label in labels
                ],
            }
        )
    context = {
        "rfm": rfm,
        "clusters": clusters,
        "cluster_rows": rows,
        "feature_labels": labels,
        "medians": [
            {
                "feature": f,
                "value": (clusters.run.quantiles.get(f, {}) if clusters.run else {}).get("median"),
            }
            for f, _label in labels
        ],
        "silhouette_figure": (
            _silhouette_figure(clusters.silhouettes, clusters.run.k) if clusters.run else None
        ),
        "can_write": can_write(request.user),
        "defaults": {
            "window_days": RFM_WINDOW_DAYS,
            "days": DAYS_DEFAULT,
            "k_min": K_MIN_DEFAULT,
            "k_max": K_MAX_DEFAULT,
        },
    }
    return render(request, "segments/behaviour.html", context)


def _back(anchor: str) -> HttpResponse:
    return redirect(reverse("behaviour:page") + anchor)


@require_POST
@write_view
def rfm_recompute(request: HttpRequest) -> HttpResponse:
    """Recompute every customer's RFM scores now."""
    try:
        window = _whole(request.POST, "window_days", RFM_WINDOW_DAYS)
        run = rfm_refresh(window_days=window)
    except (RfmError, ClusterError) as exc:
        messages.error(request, str(exc))
        return _back("#rfm")
    messages.success(
        request,
        _("RFM scores recomputed for %(n)s customers from %(orders)s paid orders.")
        % {"n": f"{run.customers:,}", "orders": f"{run.orders:,}"},
    )
    return _back("#rfm")


@require_POST
@write_view
def clusters_recompute(request: HttpRequest) -> HttpResponse:
    """Re-run k-means on usage now."""
    try:
        run = clusters_refresh(
            days=_whole(request.POST, "days", DAYS_DEFAULT),
            k_min=_whole(request.POST, "k_min", K_MIN_DEFAULT),
            k_max=_whole(request.POST, "k_max", K_MAX_DEFAULT),
        )
    except ClusterError as exc:
        messages.error(request, str(exc))
        return _back("#clusters")
    messages.success(
        request,
        _("Usage clusters recomputed: %(n)s customers in %(k)s clusters.")
        % {"n": f"{run.customers:,}", "k": run.k},
    )
    return _back("#clusters")


@require_POST
@write_view
def segment_save(request: HttpRequest) -> HttpResponse:
    """Save an RFM group or a usage cluster as a segment."""
    kind = request.POST.get("kind", "")
    try:
        segment = behaviour_segment_save(
            kind=kind,
            value=request.POST.get("value", ""),
            by=request.user,  # type: ignore[arg-type]
        )
    except SaveError as exc:
        messages.error(request, str(exc))
        return _back("#rfm" if kind == "rfm" else "#clusters")
    messages.success(request, _("Saved the segment “%(name)s”.") % {"name": segment.name})
    return _back("#rfm" if kind == "rfm" else "#clusters")


@require_POST
@write_view
def cluster_rename_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Name a cluster of the latest run (empty: back to its description)."""
    cluster = get_object_or_404(UsageCluster, pk=pk)
    try:
        cluster_rename(cluster=cluster, name=request.POST.get("name", ""), by=request.user)
    except ClusterError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Cluster %(n)s renamed.") % {"n": cluster.number})
    return _back("#clusters")
