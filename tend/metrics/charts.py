"""Plotly figures of the revenue dashboard, as plain dicts for plotly.js.

Building plotly.graph_objects per request is slow; these dicts are what plotly.js reads.
Labels are translated when the figure is built (gettext in the request's language); the
numbers come from the series readers (``tend.metrics.kpis`` and its siblings) unchanged.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from tend.lib.money import currency_symbol, reporting_currency
from tend.metrics.cohorts import CohortRow
from tend.metrics.kpis import PeriodKpis

FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', 'Noto Sans SC', sans-serif"
GRID = "#eef1f4"
AXIS: dict[str, Any] = {
    "showgrid": False,
    "zeroline": False,
    "linecolor": "#d5dbe1",
    "tickfont": {"size": 11},
    "fixedrange": True,
    "automargin": True,
}
LAYOUT: dict[str, Any] = {
    "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "font": {"family": FONT, "color": "#3d4b5a", "size": 12},
    "hoverlabel": {"bgcolor": "#fff", "bordercolor": "#d5dbe1", "font": {"family": FONT}},
    "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": 11}},
    "hovermode": "x unified",
}
CONFIG = {"displayModeBar": False, "responsive": True}

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


def _money_axis() -> dict[str, Any]:
    code = reporting_currency()
    symbol = currency_symbol(code)
    extra = {"tickprefix": symbol} if symbol else {"ticksuffix": f" {code}"}
    return {
        **AXIS,
        "showgrid": True,
        "gridcolor": GRID,
        "tickformat": "~s",
        "separatethousands": True,
        **extra,
    }


def _percent_axis(**kw: Any) -> dict[str, Any]:
    return {**AXIS, "showgrid": True, "gridcolor": GRID, "ticksuffix": "%", **kw}


def _monthly(series: list[PeriodKpis]) -> bool:
    return all(p.start.month == p.end.month and p.start.year == p.end.year for p in series)


def _x_axis(series: list[PeriodKpis]) -> dict[str, Any]:
    if _monthly(series):
        # A date axis lets plotly thin out the ticks when the chart is narrow (a phone).
        return {**AXIS, "type": "date", "tickformat": "%Y-%m", "hoverformat": "%Y-%m"}
    return {**AXIS, "type": "category"}


def _x(series: list[PeriodKpis]) -> list[str]:
    if _monthly(series):
        return [p.start.isoformat() for p in series]
    return period_labels(series)


def period_labels(series: list[PeriodKpis]) -> list[str]:
    """Period labels; a period still running gets a trailing asterisk (explained below)."""
    return [f"{p.label}*" if p.to_date else p.label for p in series]


def _figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "layout": {**LAYOUT, **layout}, "config": CONFIG}


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def _money_hover() -> str:
    code = reporting_currency()
    symbol = currency_symbol(code)
    return f"{symbol}%{{y:,.2f}}" if symbol else f"%{{y:,.2f}} {code}"


def movements_figure(series: list[PeriodKpis]) -> dict[str, Any]:
    """Stacked bars: gains above zero, losses below; net new MRR as a line."""
    x = _x(series)
    opacity = [0.55 if p.to_date else 1.0 for p in series]
    hover = "%{fullData.name}: " + _money_hover() + "<extra></extra>"
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
            "y": [_f(v) for v in values],
            "marker": {"color": COLOURS[key], "opacity": opacity},
            "hovertemplate": hover,
        }
        for key, name, values in bars
    ]
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _("Net new MRR"),
            "x": x,
            "y": [_f(p.metrics.get("net_new_mrr")) for p in series],
            "line": {"color": COLOURS["net"], "width": 2},
            "marker": {"size": 6},
            "hovertemplate": hover,
        }
    )
    return _figure(
        data,
        {
            "barmode": "relative",
            "bargap": 0.3,
            "xaxis": _x_axis(series),
            "yaxis": {**_money_axis(), "zeroline": True, "zerolinecolor": "#9aa5b1"},
        },
    )


def mrr_figure(series: list[PeriodKpis]) -> dict[str, Any]:
    return _figure(
        [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": _("MRR"),
                "x": _x(series),
                "y": [_f(p.metrics.get("mrr")) for p in series],
                "line": {"color": COLOURS["mrr"], "width": 2.5},
                "fill": "tozeroy",
                "fillcolor": "rgba(47,111,159,0.08)",
                "hovertemplate": _("MRR") + ": " + _money_hover() + "<extra></extra>",
            }
        ],
        {
            "showlegend": False,
            "xaxis": _x_axis(series),
            "yaxis": {**_money_axis(), "rangemode": "tozero"},
        },
    )


def _rate_lines(
    series: list[PeriodKpis], lines: list[tuple[str, str, str]], **yaxis: Any
) -> dict[str, Any]:
    x = _x(series)
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "x": x,
            "y": [_f(p.metrics.get(key)) for p in series],
            "line": {"color": colour, "width": 2},
            "marker": {"size": 6},
            "connectgaps": False,
            "hovertemplate": "%{fullData.name}: %{y:.1f}%<extra></extra>",
        }
        for key, name, colour in lines
    ]
    return _figure(data, {"xaxis": _x_axis(series), "yaxis": _percent_axis(**yaxis)})


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
    figure = _rate_lines(
        series,
        [("nrr", _("NRR"), COLOURS["nrr"]), ("grr", _("GRR"), COLOURS["grr"])],
    )
    # The 100 % line: above it, expansion more than makes up for what was lost.
    figure["layout"]["shapes"] = [
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
    return figure


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
    many = width > 18
    return _figure(
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
                "texttemplate": "%{z:.0f}",
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
    still = _("still paying")
    band = _("95% band")
    at_risk = _("at risk")
    for i, (_group, label, curve) in enumerate(groups):
        colour = GROUP_COLOURS[i % len(GROUP_COLOURS)]
        months = curve["months"]
        legend = f"{label} ({curve['customers']:,})"
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
                "hovertemplate": f"{label}: %{{y:.1f}}% {still} "
                f"({band} %{{customdata[0]:.1f}}–%{{customdata[1]:.1f}}%, "
                f"{at_risk} %{{customdata[2]:,}})<extra></extra>",
            }
        )
    return _figure(
        data,
        {
            "hovermode": "x",
            "xaxis": {
                **AXIS,
                "title": {"text": _("Months since first payment"), "font": {"size": 11}},
                "showgrid": True,
                "gridcolor": GRID,
            },
            "yaxis": _percent_axis(range=[0, 101]),
        },
    )
