"""Reads for segments: the list's 30-day change, a segment's daily history and its charts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from tend.api.parsing import BadText, check_text
from tend.lib.charts import AXIS, CONFIG, LAYOUT, chart_date_formats
from tend.segments.membership import today_utc
from tend.segments.models import Segment, SegmentChange, SegmentMember

# The list's "change" column: net moves over the last CHANGE_DAYS days, today included.
CHANGE_DAYS = 30
# The detail page's charts show at most this many days back from today.
CHART_DAYS = 180
# A condition as the builder posts it: larger text is refused before parsing.
CONDITION_TEXT_MAX = 200_000


class ConditionTextError(ValueError):
    """The posted condition is not JSON (or is too large to be one)."""


def condition_from_text(text: str) -> Any:
    """The JSON value in ``text``; NaN and Infinity are not JSON and are refused."""

    def constant(name: str) -> Any:
        raise ValueError(_("%(name)s is not a JSON number.") % {"name": name})

    if len(text) > CONDITION_TEXT_MAX:
        raise ConditionTextError(
            _("The condition is longer than %(max)s characters.")
            % {"max": f"{CONDITION_TEXT_MAX:,}"}
        )
    try:
        value = json.loads(text, parse_constant=constant)
    except (ValueError, RecursionError) as exc:
        raise ConditionTextError(
            _("The condition is not valid JSON: %(error)s") % {"error": exc}
        ) from None
    try:
        check_text(value)
    except BadText as exc:
        raise ConditionTextError(
            _("Condition (at %(path)s): %(message)s") % {"path": exc.field, "message": exc.message}
        ) from None
    return value


@dataclass
class Moves:
    entered: int = 0
    left: int = 0

    @property
    def net(self) -> int:
        return self.entered - self.left

    @property
    def size(self) -> int:
        """The net change without its sign (the page writes + or −)."""
        return abs(self.net)


def change_window(today: date | None = None) -> tuple[date, date]:
    """The half-open window [start, end) of the "change in 30 days" figures."""
    end = (today or today_utc()) + timedelta(days=1)
    return end - timedelta(days=CHANGE_DAYS), end


def moves_by_segment(segment_ids: list[int], today: date | None = None) -> dict[int, Moves]:
    """Customers who entered and left each segment in the change window, in one query. The
    first refresh's day is left out: its rows are the starting members, not moves."""
    start, end = change_window(today)
    rows = (
        SegmentChange.objects.filter(segment_id__in=segment_ids, day__gte=start, day__lt=end)
        .filter(day__gt=F("segment__history_since"))
        .values("segment_id")
        .annotate(
            moved_in=Count("pk", filter=Q(entered=True)),
            moved_out=Count("pk", filter=Q(entered=False)),
        )
        .order_by()
    )
    return {row["segment_id"]: Moves(row["moved_in"], row["moved_out"]) for row in rows}


@dataclass
class DayMoves:
    day: date
    entered: int
    left: int
    members: int  # at the end of the day
    first: bool = False  # the first refresh: the starting members, not moves


def daily_history(segment: Segment) -> list[DayMoves]:
    """Entered, left and members at the end of each day that had a move, oldest first.

    Members = Σ entered − Σ left up to that day: history starts at the first refresh, where
    every member entered, so the running sum is the member count of each day.
    """
    rows = (
        SegmentChange.objects.filter(segment=segment)
        .values("day")
        .annotate(
            moved_in=Count("pk", filter=Q(entered=True)),
            moved_out=Count("pk", filter=Q(entered=False)),
        )
        .order_by("day")
    )
    out: list[DayMoves] = []
    running = 0
    for row in rows:
        # ("left" is an SQL keyword: SQLite misreads it as an alias.)
        running += row["moved_in"] - row["moved_out"]
        first = segment.history_since is not None and row["day"] <= segment.history_since
        out.append(DayMoves(row["day"], row["moved_in"], row["moved_out"], running, first))
    return out


def members_page_qs(segment: Segment) -> QuerySet[SegmentMember]:
    """The segment's members with what the members table shows, by customer name."""
    return (
        SegmentMember.objects.filter(segment=segment)
        .select_related("customer", "customer__plan")
        .order_by("customer__name", "customer_id")
    )


# The shared chart look; these charts have two series and show their legend.
_AXIS, _CONFIG = AXIS, CONFIG
_LAYOUT = {**LAYOUT, "showlegend": True}


DAY_MS = 86_400_000


def _day_axis(xs: list[str], tickformat: str) -> dict[str, Any]:
    """A date axis with day ticks; over a few days one tick a day (plotly's own choice
    repeats a day at 12-hour steps: "Dec 5, Dec 5, Dec 6")."""
    axis: dict[str, Any] = {**_AXIS, "type": "date", "tickformat": tickformat}
    if xs and (date.fromisoformat(xs[-1][:10]) - date.fromisoformat(xs[0][:10])).days <= 10:
        axis["dtick"] = DAY_MS
    return axis


def _visible(history: list[DayMoves], today: date) -> list[DayMoves]:
    start = today - timedelta(days=CHART_DAYS - 1)
    return [h for h in history if h.day >= start]


def moves_figure(history: list[DayMoves], today: date | None = None) -> dict[str, Any] | None:
    """Bars of customers who entered (up) and left (down) per day after the first refresh;
    None without such days."""
    shown = _visible([h for h in history if not h.first], today or today_utc())
    if not shown:
        return None
    formats = chart_date_formats()
    days = [h.day.isoformat() for h in shown]
    hover = "%{x|" + formats["date"] + "}: %{customdata:,d}<extra>%{fullData.name}</extra>"
    return {
        "data": [
            {
                "type": "bar",
                "x": days,
                "y": [h.entered for h in shown],
                "customdata": [h.entered for h in shown],
                "name": _("Entered"),
                "marker": {"color": "#2f7d5b"},
                "hovertemplate": hover,
            },
            {
                "type": "bar",
                "x": days,
                "y": [-h.left for h in shown],
                "customdata": [h.left for h in shown],
                "name": _("Left"),
                "marker": {"color": "#c0504d"},
                "hovertemplate": hover,
            },
        ],
        "layout": {
            **_LAYOUT,
            "barmode": "relative",
            "bargap": 0.25,
            "showlegend": True,
            "legend": {"orientation": "h", "y": 1.12, "x": 0},
            "margin": {**_LAYOUT["margin"], "t": 28},  # type: ignore[dict-item]
            "xaxis": _day_axis(days, formats["day"]),
            "yaxis": {
                **_AXIS,
                "showgrid": True,
                "gridcolor": "#eef1f4",
                "zeroline": True,
                "zerolinecolor": "#aab4bf",
                "tickformat": ",d",
                "nticks": 6,
            },
        },
        "config": _CONFIG,
    }


def members_figure(history: list[DayMoves], today: date | None = None) -> dict[str, Any] | None:
    """A step line of the member count at the end of each day, up to today."""
    today = today or today_utc()
    if not history:
        return None
    shown = _visible(history, today)
    earlier = [h for h in history if h not in shown]
    xs: list[str] = []
    ys: list[int] = []
    if earlier:  # the count carried into the window
        xs.append((today - timedelta(days=CHART_DAYS - 1)).isoformat())
        ys.append(earlier[-1].members)
    for h in shown:
        xs.append(h.day.isoformat())
        ys.append(h.members)
    xs.append(max(today, history[-1].day).isoformat())
    ys.append(history[-1].members)
    formats = chart_date_formats()
    return {
        "data": [
            {
                "type": "scatter",
                # A history of a day or two is a dot, not an invisible zero-length line.
                "mode": "lines" if len(set(xs)) > 2 else "lines+markers",
                "x": xs,
                "y": ys,
                "name": _("Members"),
                "line": {"shape": "hv", "color": "#5b8db8", "width": 2},
                "fill": "tozeroy",
                "fillcolor": "rgba(91,141,184,0.08)",
                "hovertemplate": "%{x|" + formats["date"] + "}: %{y:,d}<extra></extra>",
            }
        ],
        "layout": {
            **_LAYOUT,
            "showlegend": False,
            "xaxis": _day_axis(xs, formats["day"]),
            "yaxis": {
                **_AXIS,
                "showgrid": True,
                "gridcolor": "#eef1f4",
                "rangemode": "tozero",
                "tickformat": ",d",
                "nticks": 6,
            },
        },
        "config": _CONFIG,
    }
