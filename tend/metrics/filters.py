"""Which customers and which periods a metric covers: ``Filters`` and ``FilterError``.

The dashboard, the report, the API, the CLI, the exports and the goals all parse their
query parameters here, so a bad value is refused with the same message naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tend.customers.channels import channel_labels
from tend.customers.filtering import Condition, condition_sql, customers_where, filter_condition
from tend.customers.models import Customer, Tag
from tend.metrics.models import Dimension
from tend.metrics.snapshots import month_of, months_between, period_first

PERIODS = ("month", "quarter", "year")
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}
DEFAULT_PERIODS = {"month": 12, "quarter": 8, "year": 5}
MAX_PERIODS = 120
# What the headline tiles compare: the last complete period with the one before, or the
# running period so far with the same days of the period before (docs/metrics.md).
COMPARES = ("complete", "to_date")


class FilterError(ValueError):
    """A filter value that cannot be used; ``field`` names the parameter. ``code`` is
    ``unknown`` for a well-formed name of nothing stored (a plan, a tag), ``range`` for values
    that are each fine but not together (start after end), else ``invalid``."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code

    @property
    def label(self) -> str:
        """The field as the page names it (Tag, 标签), not the query key a person never sees."""
        label = FILTER_LABELS.get(self.field)
        return self.field if label is None else str(label)

    def text(self) -> str:
        """The label and the message as one translated line: "Tag: unknown tag “x”"."""
        return _("%(field)s: %(message)s") % {"field": self.label, "message": self.message}


# What the filter forms call each parameter, for messages that name it.
FILTER_LABELS = {
    "period": gettext_lazy("Period"),
    "start": gettext_lazy("From month"),
    "end": gettext_lazy("To month"),
    "month": gettext_lazy("Month"),
    "plan": gettext_lazy("Plan"),
    "channel": gettext_lazy("Channel"),
    "country": gettext_lazy("Country"),
    "tag": gettext_lazy("Tag"),
    "segment": gettext_lazy("Segment"),
    "by": gettext_lazy("Group the curves"),
    "compare": gettext_lazy("Compare"),
}


@dataclass(frozen=True)
class Filters:
    """Which customers and which months a metric covers.

    ``start``/``end`` are months (any day in the month); the range is whole periods.
    Customers are picked by their current plan, channel, country, tags and saved segment
    (its membership evaluated live from its condition), all as one condition tree
    (``condition()``) compiled by the condition language. ``segment_stamp`` marks the state
    of the saved segments when the filters were parsed, so figures cached for these filters
    are not reused after a segment's condition changed.
    """

    period: str = "month"
    start: date | None = None
    end: date | None = None
    plans: tuple[int, ...] = ()
    channels: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    compare: str = "complete"
    segment: int | None = None
    segment_stamp: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Filters:
        """Filters from query parameters (lists or comma-separated); FilterError names the field."""

        def many(name: str) -> tuple[str, ...]:
            raw = data.getlist(name) if hasattr(data, "getlist") else data.get(name) or []
            if isinstance(raw, str):
                raw = [raw]
            out: list[str] = []
            for item in raw:
                out.extend(v.strip() for v in str(item).split(",") if v.strip())
            return tuple(dict.fromkeys(out))

        period = str(data.get("period") or "month")
        if period not in PERIODS:
            raise FilterError(
                "period", _("must be one of %(choices)s") % {"choices": ", ".join(PERIODS)}
            )
        compare = str(data.get("compare") or "complete")
        if compare not in COMPARES:
            raise FilterError(
                "compare", _("must be one of %(choices)s") % {"choices": ", ".join(COMPARES)}
            )
        start, end = _month_param(data, "start"), _month_param(data, "end")
        if start and end and start > end:
            raise FilterError("start", _("must not be after end"), code="range")
        try:
            plans = tuple(int(v) for v in many("plan"))
        except ValueError:
            raise FilterError("plan", _("plan ids are whole numbers")) from None
        if plans:
            from tend.billing.models import Plan

            known_plans = set(Plan.objects.filter(pk__in=plans).values_list("pk", flat=True))
            unknown = [p for p in plans if p not in known_plans]
            if unknown:
                raise FilterError(
                    "plan", _("no plan with id %(value)s") % {"value": unknown[0]}, code="unknown"
                )
        countries = tuple(v.upper() for v in many("country"))
        for country in countries:
            if not re.fullmatch("[A-Z]{2}", country):  # not isalpha(): "ÉÉ" is no ISO code
                raise FilterError(
                    "country",
                    _("“%(value)s” is not a two-letter country code") % {"value": country},
                )
        channels = many("channel")
        known = set(channel_labels())
        for channel in channels:
            if channel not in known:
                raise FilterError(
                    "channel",
                    _("unknown channel “%(value)s”; your channels: %(allowed)s")
                    % {"value": channel, "allowed": ", ".join(sorted(known))},
                    code="unknown",
                )
        tags = many("tag")
        if tags:
            found = set(Tag.objects.filter(name__in=tags).values_list("name", flat=True))
            missing = [t for t in tags if t not in found]
            if missing:
                raise FilterError(
                    "tag", _("unknown tag “%(value)s”") % {"value": missing[0]}, code="unknown"
                )
        segment, stamp = _segment_param(many("segment"))
        return cls(period, start, end, plans, channels, countries, tags, compare, segment, stamp)

    def months(self, *, today: date | None = None) -> tuple[date, date]:
        """First and last month of the range, aligned to whole periods."""
        size = PERIOD_MONTHS[self.period]
        end = month_of(self.end or today or timezone.now())
        end = period_first(end, self.period) + relativedelta(months=size - 1)
        if self.start is not None:
            start = period_first(month_of(self.start), self.period)
        else:
            start = period_first(end, self.period) - relativedelta(
                months=size * (DEFAULT_PERIODS[self.period] - 1)
            )
        if months_between(start, end) + 1 > MAX_PERIODS * size:
            raise FilterError(
                "start",
                _("at most %(count)d periods at a time") % {"count": MAX_PERIODS},
                code="range",
            )
        return start, end

    def is_filtered(self) -> bool:
        return bool(self.plans or self.channels or self.countries or self.tags or self.segment)

    def only_by_channel(self) -> bool:
        """No customer filter but channels: the per-channel pre-added figures answer."""
        return not (self.plans or self.countries or self.tags or self.segment)

    def condition(self) -> Condition | None:
        """The customer filters as one condition tree; None for every customer."""
        return filter_condition(
            plans=self.plans,
            channels=self.channels,
            countries=self.countries,
            tags_any=self.tags,
            segment=self.segment,
        )

    def summary_key(self) -> tuple[str, str] | None:
        """The pre-added (dimension, value) these customer filters match, if any."""
        chosen = [
            (Dimension.PLAN, self.plans),
            (Dimension.CHANNEL, self.channels),
            (Dimension.COUNTRY, self.countries),
            ("tag", self.tags),
        ]
        used = [(dim, values) for dim, values in chosen if values]
        if self.segment is not None:
            return None  # no pre-added figures per segment: computed on demand
        if not used:
            return (Dimension.ALL, "")
        if len(used) == 1 and len(used[0][1]) == 1 and used[0][0] != "tag":
            return (str(used[0][0]), str(used[0][1][0]))
        return None

    def customer_sql(self, column: str = "c.id") -> tuple[str, list[Any]]:
        """A SQL condition "``column`` IN (matching customer ids)" with its parameters.

        Written as an IN over a sub-select so the database can walk the matching customers'
        rows through the (customer, month) index instead of every row of the months. The
        sub-select is the compiled condition tree's own SQL (``condition_sql``). FilterError
        when a saved segment's condition can no longer be used (it names a deleted segment).
        """
        with _as_filter_error(self):
            return condition_sql(self.condition(), column)

    def customers(self) -> QuerySet[Customer]:
        """The customers these filters pick (by current plan, channel, country, tags, segment)."""
        with _as_filter_error(self):
            return customers_where(self.condition(), Customer.objects.all())

    def as_query(self) -> dict[str, Any]:
        """The filters as query parameters (for links, exports and the API)."""
        out: dict[str, Any] = {"period": self.period}
        if self.start:
            out["start"] = self.start.strftime("%Y-%m")
        if self.end:
            out["end"] = self.end.strftime("%Y-%m")
        for name, values in (
            ("plan", self.plans),
            ("channel", self.channels),
            ("country", self.countries),
            ("tag", self.tags),
        ):
            if values:
                out[name] = [str(v) for v in values]
        if self.segment is not None:
            out["segment"] = str(self.segment)
        if self.compare != "complete":
            out["compare"] = self.compare
        return out


# Which filter a condition test stands for, to name it in an error.
_FIELD_FILTERS = {"plan": "plan", "channel": "channel", "country": "country", "tags": "tag"}


@contextmanager
def _as_filter_error(filters: Filters) -> Iterator[None]:
    """A ConditionError of the compiled filters as the FilterError naming the filter."""
    from tend.segments.conditions import ConditionError

    try:
        yield
    except ConditionError as exc:
        field = _FIELD_FILTERS.get(exc.field, "segment" if filters.segment else exc.field)
        raise FilterError(field, str(exc.message)) from None


def _segment_param(values: tuple[str, ...]) -> tuple[int | None, str]:
    """The saved segment asked for (one at most) and the stamp of the segments' state.

    FilterError: not a whole number, several, or no segment with that id (``unknown``).
    """
    if not values:
        return None, ""
    if len(values) > 1:
        raise FilterError("segment", _("choose one segment at a time"))
    raw = values[0]
    if not (raw.isascii() and raw.isdigit()):
        raise FilterError("segment", _("segment ids are whole numbers"))
    pk = int(raw)
    from tend.segments.models import Segment

    # One query: does it exist, and when was any segment (its condition may name others)
    # last changed. An id beyond the database's integers names nothing: no query.
    found: dict[str, Any] = {"hit": 0}
    if pk < 2**63:
        found = Segment.objects.aggregate(
            hit=Count("pk", filter=Q(pk=pk)), n=Count("pk"), last=Max("updated_at")
        )
    if not found["hit"]:
        raise FilterError(
            "segment", _("no segment with id %(value)s") % {"value": raw}, code="unknown"
        )
    from tend.segments.conditions import ConditionError, condition_parse

    try:  # its condition must still work: a segment it names may have been deleted since
        condition_parse({"field": "segment", "op": "eq", "value": pk})
    except ConditionError as exc:
        raise FilterError("segment", str(exc.message)) from None
    last = found["last"].isoformat() if found["last"] else ""
    return pk, f"{found['n']}@{last}"


def _month_param(data: Mapping[str, Any], name: str) -> date | None:
    raw = data.get(name)
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    try:
        if len(text) == 7:
            return datetime.strptime(text, "%Y-%m").date()
        return month_of(date.fromisoformat(text))
    except ValueError:
        raise FilterError(
            name, _("“%(value)s” is not a month (YYYY-MM)") % {"value": text}
        ) from None
