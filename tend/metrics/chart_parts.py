"""The pieces every revenue chart shares: style, axes, period labels and the marks of a
period that has not ended (a dashed last segment, an open marker, a "to date" note).

Money ticks are written here rather than by plotly, whose SI format reads "$−10k" and "30k";
these read "−$10k" and, in Chinese, "US$3万" (``tend.lib.money``).
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _

from tend.lib.money import compact_money, format_money
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


def nice_ticks(low: float, high: float, *, count: int = 5) -> list[float]:
    """About ``count`` round tick values (1, 2, 2.5 or 5 × 10ⁿ apart) covering low…high and 0."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def money_axis(low: float = 0.0, high: float = 0.0) -> dict[str, Any]:
    """A money axis with its ticks written here: "−$10k" (sign before the symbol), and
    "US$3万" in Chinese, which plotly's own SI format ("$−10k", "30k") cannot write."""
    ticks = nice_ticks(low, high)
    return {
        **AXIS,
        "showgrid": True,
        "gridcolor": GRID,
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [compact_money(v) for v in ticks],
        "range": [ticks[0], ticks[-1]],
    }


def money_texts(values: list[Any]) -> list[str]:
    """Hover texts for amounts, written like the rest of the page ("−$1,234.50")."""
    return [format_money(v) for v in values]


def percent_axis(**kw: Any) -> dict[str, Any]:
    return {**AXIS, "showgrid": True, "gridcolor": GRID, "ticksuffix": "%", **kw}


def monthly(series: list[PeriodKpis]) -> bool:
    return all(p.start.month == p.end.month and p.start.year == p.end.year for p in series)


def x_axis(series: list[PeriodKpis]) -> dict[str, Any]:
    if monthly(series):
        # A date axis lets plotly thin out the ticks when the chart is narrow (a phone).
        return {**AXIS, "type": "date", "tickformat": "%Y-%m", "hoverformat": "%Y-%m"}
    return {**AXIS, "type": "category"}


def x_values(series: list[PeriodKpis]) -> list[str]:
    if monthly(series):
        return [p.start.isoformat() for p in series]
    return [p.label for p in series]  # a running period is marked by an annotation


def period_label(period: PeriodKpis) -> str:
    """A period's label; "2025-12 (to date)" for one still running."""
    if period.to_date:
        return _("%(period)s (to date)") % {"period": period.label}
    return period.label


def period_labels(series: list[PeriodKpis]) -> list[str]:
    return [period_label(p) for p in series]


def partial_marks(series: list[PeriodKpis], x: list[str]) -> dict[str, Any]:
    """Layout for a chart whose last period is still running: a "to date" note over it."""
    if not series or not series[-1].to_date:
        return {}
    return {
        "annotations": [
            {
                "x": x[-1],
                "y": 1,
                "xref": "x",
                "yref": "paper",
                # Inside the plot's top edge: above it the legend sits on narrow screens.
                "yanchor": "top",
                "text": _("to date"),
                "showarrow": False,
                "font": {"size": 10, "color": "#6c7a89"},
                "name": "to-date",
            }
        ]
    }


def line(
    series: list[PeriodKpis], x: list[str], values: list[Any], trace: dict[str, Any]
) -> list[dict[str, Any]]:
    """A line over the periods; a running last period is joined by a dashed segment and drawn
    as an open marker, so it does not read as a finished month."""
    if not series or not series[-1].to_date or len(series) < 2:
        return [{**trace, "x": x, "y": values}]
    hover = trace.get("hovertemplate")
    solid = {**trace, "x": x[:-1], "y": values[:-1]}
    if "customdata" in trace:
        solid["customdata"] = trace["customdata"][:-1]
    colour = trace.get("line", {}).get("color")
    dashed = {
        "type": "scatter",
        "mode": "lines",
        "x": x[-2:],
        "y": values[-2:],
        "line": {**trace.get("line", {}), "dash": "dash"},
        "hoverinfo": "skip",
        "showlegend": False,
        "legendgroup": trace.get("name"),
        "meta": "to_date",
    }
    point = {
        "type": "scatter",
        "mode": "markers",
        "name": trace.get("name"),
        "x": x[-1:],
        "y": values[-1:],
        "marker": {"size": 8, "color": "#fff", "line": {"color": colour, "width": 2}},
        "showlegend": False,
        "legendgroup": trace.get("name"),
        "meta": "to_date",
    }
    if hover:
        point["hovertemplate"] = hover
    if "customdata" in trace:
        point["customdata"] = trace["customdata"][-1:]
    solid["legendgroup"] = trace.get("name")
    return [solid, dashed, point]


def figure(data: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    return {"data": data, "layout": {**LAYOUT, **layout}, "config": CONFIG}


def as_float(value: Any) -> float | None:
    return None if value is None else float(value)
