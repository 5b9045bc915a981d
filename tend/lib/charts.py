"""The look every small plotly.js chart shares (customer page, health, segments), as plain
dicts: building plotly objects per request is too slow. Pages add their data and axes."""

from __future__ import annotations

from typing import Any

from django.utils.translation import pgettext

AXIS: dict[str, Any] = {
    "showgrid": False,
    "zeroline": False,
    "linecolor": "#d5dbe1",
    "tickfont": {"size": 11},
    "fixedrange": True,
}
# Without a legend; a chart with several series adds "showlegend": True.
LAYOUT: dict[str, Any] = {
    "margin": {"l": 48, "r": 12, "t": 8, "b": 32},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "font": {
        "family": "system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', sans-serif",
        "color": "#4a5868",
        "size": 12,
    },
    "showlegend": False,
    "bargap": 0.25,
    "hoverlabel": {"bgcolor": "#fff", "bordercolor": "#d5dbe1"},
}
CONFIG: dict[str, Any] = {"displayModeBar": False, "responsive": True}


def chart_date_formats() -> dict[str, str]:
    """d3 time formats for chart ticks and hover labels that read like the page's dates
    (Django's DATE_FORMAT) in the reader's language."""
    return {
        "day": pgettext("d3 time format: a chart tick with month and day", "%b %-d"),
        "date": pgettext("d3 time format: a full date in a chart label", "%b %-d, %Y"),
        "month": pgettext("d3 time format: a chart tick with month and year", "%b %Y"),
    }
