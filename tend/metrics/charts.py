"""Plotly figures of the revenue dashboard, as plain dicts for plotly.js.

Building plotly.graph_objects per request is slow; these dicts are what plotly.js reads.
Labels are translated when the figure is built (gettext in the request's language); the
numbers come from the series readers (``tend.metrics.kpis`` and its siblings) unchanged.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from tend.metrics.chart_parts import (
    AXIS,
    GRID,
    as_float,
    figure,
    line,
    money_axis,
    money_texts,
    partial_marks,
    percent_axis,
    x_axis,
    x_values,
)
from tend.metrics.cohorts import CohortRow
from tend.metrics.kpis import PeriodKpis

COLOURS = {
    "new": "#2f7d5b",
    "expansion": "#7cbf95",
    "reactivation": "#5b8db8",
    "contraction": "#e3a64f",
    "churn": "#c8553d",
    "net": "#1f2d3d",
    "mrr": "#2f6f9f",
    "logo": "#c8553d",
    "revenue": "#8a5a12",
    "nrr": "#2f7d5b",
    "grr": "#2f6f9f",
}
# Distinct, colour-blind-friendly hues (Okabe–Ito without yellow) for survival groups.
GROUP_COLOURS = [
    "#2f6f9f",
    "#d55e00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#e69f00",
    "#6b4f9e",
    "#4a5868",
]


def movements_figure(series: list[PeriodKpis]) -> dict[str, Any]:
    """Stacked bars: gains above zero, losses below; net new MRR as a line."""
    x = x_values(series)
    opacity = [0.55 if p.to_date else 1.0 for p in series]
    # A running period's bars are hatched as well as lighter (not only a colour difference).
    pattern = {"shape": ["/" if p.to_date else "" for p in series], "solidity": 0.4}
    hover = "%{fullData.name}: %{customdata}<extra></extra>"
    bars = [
        ("new", _("New"), [p.new for p in series]),
        ("expansion", _("Expansion"), [p.expansion for p in series]),
        ("reactivation", _("Reactivation"), [p.reactivation for p in series]),
        # The ledger signs losses negative already; draw them below zero as they are.
        ("contraction", _("Contraction"), [-abs(p.contraction) for p in series]),
        ("churn", _("Churn"), [-abs(p.churn) for p in series]),
    ]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": name,
            "x": x,
            "y": [as_float(v) for v in values],
            "customdata": money_texts(values),
            "marker": {"color": COLOURS[key], "opacity": opacity, "pattern": pattern},
            "hovertemplate": hover,
        }
        for key, name, values in bars
    ]
    net = [p.metrics.get("net_new_mrr") for p in series]
    data.extend(
        line(
            series,
            x,
            [as_float(v) for v in net],
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": _("Net new MRR"),
                "customdata": money_texts(net),
                "line": {"color": COLOURS["net"], "width": 2},
                "marker": {"size": 6},
                "hovertemplate": hover,
            },
        )
    )
    stacks = [[float(values[i] or 0) for _k, _n, values in bars] for i in range(len(x))]
    ups = [sum(v for v in stack if v > 0) for stack in stacks]
    downs = [sum(v for v in stack if v < 0) for stack in stacks]
    nets = [float(v or 0) for v in net]
    return figure(
        data,
        {
            "barmode": "relative",
            "bargap": 0.3,
            "xaxis": x_axis(series),
            "yaxis": {
                **money_axis(min([*downs, *nets, 0.0]), max([*ups, *nets, 0.0])),
                "zeroline": True,
                "zerolinecolor": "#9aa5b1",
            },
            **partial_marks(series, x),
        },
    )


def mrr_figure(series: list[PeriodKpis]) -> dict[str, Any]:
    x = x_values(series)
    values = [p.metrics.get("mrr") for p in series]
    numbers = [as_float(v) for v in values]
    return figure(
        line(
            series,
            x,
            numbers,
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": _("MRR"),
                "customdata": money_texts(values),
                "line": {"color": COLOURS["mrr"], "width": 2.5},
                "fill": "tozeroy",
                "fillcolor": "rgba(47,111,159,0.08)",
                "hovertemplate": _("MRR") + ": %{customdata}<extra></extra>",
            },
        ),
        {
            "showlegend": False,
            "xaxis": x_axis(series),
            "yaxis": money_axis(0.0, max([n or 0.0 for n in numbers], default=0.0)),
            **partial_marks(series, x),
        },
    )


def _rate_lines(
    series: list[PeriodKpis], lines: list[tuple[str, str, str]], **yaxis: Any
) -> dict[str, Any]:
    x = x_values(series)
    data = [
        trace
        for key, name, colour in lines
        for trace in line(
            series,
            x,
            [as_float(p.metrics.get(key)) for p in series],
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "line": {"color": colour, "width": 2},
                "marker": {"size": 6},
                "connectgaps": False,
                "hovertemplate": "%{fullData.name}: %{y:.1f}%<extra></extra>",
            },
        )
    ]
    return figure(
        data,
        {"xaxis": x_axis(series), "yaxis": percent_axis(**yaxis), **partial_marks(series, x)},
    )


def churn_figure(series: list[PeriodKpis]) -> dict[str, Any]:
    return _rate_lines(
        series,
        [
            ("logo_churn", _("Logo churn"), COLOURS["logo"]),
            ("revenue_churn", _("Revenue churn"), COLOURS["revenue"]),
        ],
        rangemode="tozero",
    )


def retention_figure(series: list[PeriodKpis]) -> dict[str, Any]:
    chart = _rate_lines(
        series,
        [("nrr", _("NRR"), COLOURS["nrr"]), ("grr", _("GRR"), COLOURS["grr"])],
    )
    # The 100 % line: above it, expansion more than makes up for what was lost.
    chart["layout"]["shapes"] = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": 100,
            "y1": 100,
            "line": {"color": "#9aa5b1", "width": 1, "dash": "dot"},
        }
    ]
    return chart


def cohort_height(rows: list[CohortRow]) -> int:
    return max(220, 26 * len(rows) + 70)


def cohort_figure(rows: list[CohortRow], *, basis: str) -> dict[str, Any]:
    """Cohorts (rows, oldest on top) × months since the first payment, in % kept."""
    width = max((len(r.logo) for r in rows), default=0)
    z: list[list[float | None]] = []
    sizes: list[list[Any]] = []
    for row in rows:
        cells = row.logo if basis == "logo" else row.revenue
        z.append([*cells, *([None] * (width - len(cells)))])
        base: Any = row.customers if basis == "logo" else float(row.first_mrr)
        sizes.append([base] * width)
    values = [v for r in z for v in r if v is not None]
    top = max([100.0, *values])
    # Retention mostly sits between 60 and 100 %; a scale from 0 would paint it all one
    # green. Start at the lowest ten below the data (never above 50 %); the colour bar says so.
    bottom = min(50.0, math.floor(min(values, default=0.0) / 10) * 10)
    if basis == "logo":
        hover = _("Cohort %(cohort)s, month %(month)s: %(value)s of %(size)s customers") % {
            "cohort": "%{y}",
            "month": "%{x}",
            "value": "%{z:.1f}%",
            "size": "%{customdata:,}",
        }
    else:
        hover = _("Cohort %(cohort)s, month %(month)s: %(value)s of its first MRR") % {
            "cohort": "%{y}",
            "month": "%{x}",
            "value": "%{z:.1f}%",
        }
    # The last cell of every row is this month, still running: "87*" (the note below says so).
    text = [
        [
            # An empty string, not None: plotly writes "null" for a missing text.
            "" if v is None else f"{v:.0f}*" if j == len(row_cells) - 1 else f"{v:.0f}"
            for j, v in enumerate(cells)
        ]
        for cells, row_cells in zip(z, (r.logo for r in rows), strict=True)
    ]
    many = width > 18
    return figure(
        [
            {
                "type": "heatmap",
                "x": list(range(width)),
                "y": [f"{r.cohort:%Y-%m}" for r in rows],
                "z": z,
                "customdata": sizes,
                "zmin": bottom,
                "zmax": top,
                "colorscale": _retention_scale(bottom, top),
                "text": text,
                "texttemplate": "%{text}",
                "textfont": {"size": 9 if many else 11},
                "xgap": 1,
                "ygap": 1,
                "hoverongaps": False,
                "hovertemplate": hover + "<extra></extra>",
                "colorbar": {"ticksuffix": "%", "thickness": 10, "outlinewidth": 0},
            }
        ],
        {
            "hovermode": "closest",
            "xaxis": {
                **AXIS,
                "title": {"text": _("Months since first payment"), "font": {"size": 11}},
                "dtick": 1 if width <= 24 else 3,
                "side": "top",
            },
            "yaxis": {**AXIS, "type": "category", "autorange": "reversed"},
        },
    )


def _retention_scale(bottom: float, top: float) -> list[list[Any]]:
    """Pale at the bottom, green at 100 %, darker green above (revenue kept and expanded)."""
    full = (100 - bottom) / (top - bottom)
    scale: list[list[Any]] = [[0, "#fbeee9"], [full / 2, "#c9e3d3"], [full, "#2f7d5b"]]
    if top > 100:
        scale.append([1, "#1d5a40"])
    return scale


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def survival_figure(groups: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """Kaplan–Meier curves with their shaded 95 % band, one colour per group."""
    data: list[dict[str, Any]] = []
    for i, (_group, label, curve) in enumerate(groups):
        colour = GROUP_COLOURS[i % len(GROUP_COLOURS)]
        months = curve["months"]
        legend = _("%(label)s (%(customers)s)") % {
            "label": label,
            "customers": f"{curve['customers']:,}",
        }
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": months,
                "y": curve["upper"],
                "line": {"width": 0, "shape": "hv"},
                "hoverinfo": "skip",
                "showlegend": False,
                "legendgroup": str(i),
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": months,
                "y": curve["lower"],
                "line": {"width": 0, "shape": "hv"},
                "fill": "tonexty",
                "fillcolor": _rgba(colour, 0.14),
                "hoverinfo": "skip",
                "showlegend": False,
                "legendgroup": str(i),
            }
        )
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": legend,
                "x": months,
                "y": curve["survival"],
                "customdata": list(
                    zip(curve["lower"], curve["upper"], curve["at_risk"], strict=True)
                ),
                "line": {"color": colour, "width": 2, "shape": "hv"},
                "legendgroup": str(i),
                # One sentence to translate; the %{…} parts are Plotly's, filled on hover.
                "hovertemplate": _(
                    "%(label)s: %(survival)s still paying (95%% band %(lower)s–%(upper)s, "
                    "%(at_risk)s at risk)"
                )
                % {
                    "label": label,
                    "survival": "%{y:.1f}%",
                    "lower": "%{customdata[0]:.1f}%",
                    "upper": "%{customdata[1]:.1f}%",
                    "at_risk": "%{customdata[2]:,}",
                }
                + "<extra></extra>",
            }
        )
    return figure(
        data,
        {
            "hovermode": "x",
            "xaxis": {
                **AXIS,
                "title": {"text": _("Months since first payment"), "font": {"size": 11}},
                "showgrid": True,
                "gridcolor": GRID,
            },
            "yaxis": percent_axis(range=[0, 101]),
        },
    )
