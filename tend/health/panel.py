"""The customer page's health panel: score and colour, the 90-day trend, and the measures
that pulled the score down, in plain words. Two queries (latest health, 90 days of history)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext

from tend.health.measures import measures
from tend.health.models import Colour, HealthScore

TREND_DAYS = 90
COMPARE_DAYS = 30  # "was …": the raw value this many days before
COLOURS = {Colour.RED: "#c0392b", Colour.YELLOW: "#d4a017", Colour.GREEN: "#2f7d5b"}


def _key(entry: dict[str, Any]) -> str:
    return json.dumps([entry.get("measure"), entry.get("params") or {}], sort_keys=True)


def lines_explained(
    details: dict[str, Any], score: int | None, earlier: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Each measure line of a day's details in plain words, the ones that pulled the score
    down most first: (score − points) × weight, measures without data last. ``earlier`` (the
    details of a day COMPARE_DAYS before) gives the "was …" of each line."""
    was = {_key(e): e.get("raw") for e in (earlier or {}).get("lines", []) if isinstance(e, dict)}
    out: list[dict[str, Any]] = []
    for entry in (details or {}).get("lines", []):
        if not isinstance(entry, dict):
            continue
        name = entry.get("measure", "")
        measure = measures.get(name) if name in measures else None
        raw, points, weight = entry.get("raw"), entry.get("points"), entry.get("weight") or 0
        if measure is None:
            text = gettext("no longer available")
            label = name
        else:
            params = {p.name: p.default for p in measure.params}
            params.update(entry.get("params") or {})
            text = measure.explain(raw, was.get(_key(entry)), params)
            label = str(measure.label)
        pull = None
        if points is not None and score is not None:
            pull = (float(score) - float(points)) * float(weight)
        out.append(
            {
                "label": label,
                "text": text,
                "points": None if points is None else round(points),
                "weight": weight,
                "has_data": points is not None,
                "pulled_down": pull is not None and pull > 0 and points is not None and points < 50,
                "pull": pull,
            }
        )
    out.sort(key=lambda line: (not line["has_data"], -(line["pull"] or 0)))
    return out


def trend_figure(history: list[HealthScore], red_below: int, green_from: int) -> dict[str, Any]:
    from tend.lib.charts import AXIS as _AXIS
    from tend.lib.charts import CONFIG as _CONFIG
    from tend.lib.charts import LAYOUT as _LAYOUT
    from tend.lib.charts import chart_date_formats

    formats = chart_date_formats()
    xs = [row.day.isoformat() for row in history]
    ys = [row.score for row in history]
    colours = [COLOURS.get(row.colour, "#8a96a3") for row in history]  # type: ignore[call-overload]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": xs,
                "y": ys,
                "line": {"color": "#5b8db8", "width": 2},
                "marker": {"color": colours, "size": 4},
                "connectgaps": False,
                "hovertemplate": "%{x|" + formats["date"] + "}: %{y}<extra></extra>",
            }
        ],
        "layout": {
            **_LAYOUT,
            "xaxis": {**_AXIS, "type": "date", "tickformat": formats["day"]},
            "yaxis": {
                **_AXIS,
                "range": [0, 100],
                "showgrid": True,
                "gridcolor": "#eef1f4",
                "tickvals": [0, red_below, green_from, 100],
            },
            "shapes": [
                {
                    "type": "rect",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": 0,
                    "y1": red_below,
                    "fillcolor": "rgba(192,57,43,0.06)",
                    "line": {"width": 0},
                    "layer": "below",
                },
                {
                    "type": "rect",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": green_from,
                    "y1": 100,
                    "fillcolor": "rgba(47,125,91,0.06)",
                    "line": {"width": 0},
                    "layer": "below",
                },
            ],
        },
        "config": _CONFIG,
    }


def health_panel_context(request: HttpRequest, customer: Any) -> dict[str, Any] | None:
    """One query: the customer's last TREND_DAYS scored days (the latest is its health)."""
    from tend.lib.access import can_manage

    history = list(
        HealthScore.objects.filter(customer_id=customer.pk).order_by("-day")[:TREND_DAYS]
    )
    history.reverse()
    latest = history[-1] if history else None
    details = latest.details if latest is not None else {}
    red_below = int(details.get("red_below", 40))
    green_from = int(details.get("green_from", 70))
    earlier = None
    if latest is not None:
        then = latest.day - timedelta(days=COMPARE_DAYS)
        earlier = next((row.details for row in history if row.day == then), None)
    lines = lines_explained(details, latest.score if latest else None, earlier)
    return {
        "latest": latest,
        "lines": lines,
        "pulled_down": [line for line in lines if line["pulled_down"]],
        "trend_figure": trend_figure(history, red_below, green_from) if len(history) > 1 else None,
        "trend_days": TREND_DAYS,
        "red_below": red_below,
        "green_from": green_from,
        "can_manage_health": can_manage(request.user),
    }
