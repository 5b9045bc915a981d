"""Health measures: plug-ins that turn a customer's data into one raw number as of a day.

A ``Measure`` has a name, a label, a parameter spec (defaults and validation), a vectorised
``compute(customer_ids, as_of, params) -> {customer_id: raw or None}`` that runs a fixed number
of queries whatever the number of customers, and ``explain(raw, previous, params)`` that says
the value in plain words ("active 2 of the last 30 days, was 18"). ``None`` (or a customer left
out of the answer) means "no data": the engine leaves that measure out of the customer's
weighted average instead of counting it as 0.

Time: a measure computed "as of" day D reads only what happened before D 00:00 UTC — the N
complete days [D − N, D). The daily pipeline runs just after midnight for the new day, so
the window is always made of complete days, and the backfill (which computes past days) sees
no later data.

The engine (``tend.health.engine``) never imports a measure: it looks measures up by name in
``measures``. Later apps (churn risk, NPS, tickets) register theirs from ``AppConfig.ready()``.
A measure may also supply ``compute_days(customer_ids, days, params)`` for many days at once
(the backfill's fast path); its result must equal ``compute`` day by day (tested).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.db.models import Count, Max, Min, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from tend.lib.db import chunks
from tend.lib.registry import Registry

Raw = float | None
Values = dict[int, Raw]
Params = dict[str, Any]

# Events written by Tend itself (Stripe webhooks), not by the founder's product: they are
# not usage. "Payment Failed" is counted by the failed-payments measure.
PAYMENT_FAILED = "Payment Failed"
NOT_USAGE = (PAYMENT_FAILED,)

MAX_DAYS = 730
MAX_EVENT_NAMES = 50


class MeasureError(ValueError):
    """A measure or one of its parameters is not valid; ``field`` names the parameter."""

    def __init__(self, field: str, message: str, code: str = "range") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message
        self.code = code  # "unknown": a parameter the measure does not have


@dataclass(frozen=True)
class Param:
    """One parameter of a measure: ``kind`` is "int" (between ``low`` and ``high``) or
    "names" (a list of event names; empty = every event)."""

    name: str
    label: str | Promise
    kind: str
    default: Any
    low: int | None = None
    high: int | None = None
    help: str | Promise = ""


@dataclass(frozen=True)
class Measure:
    name: str
    label: str | Promise
    group: str  # "usage" | "billing" | "relationship" | what a later app adds
    params: tuple[Param, ...]
    compute: Callable[[Sequence[int], date, Params], Values]
    explain: Callable[[Raw, Raw, Params], str]
    higher_is_better: bool = True  # the direction a new scorecard line suggests
    unit: str | Promise = ""
    compute_days: Callable[[Sequence[int], Sequence[date], Params], dict[date, Values]] | None = (
        None
    )
    help: str | Promise = ""
    suggested: tuple[tuple[float, float], ...] = field(default=())  # thresholds for a new line


measures: Registry[Measure] = Registry("health measure")


def params_clean(measure: Measure, raw: Any) -> Params:
    """The measure's parameters from ``raw`` (a dict; missing ones take their default),
    validated; raises ``MeasureError`` naming the parameter."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise MeasureError("params", gettext("Parameters must be an object."))
    known = {p.name for p in measure.params}
    for key in raw:
        if key not in known:
            raise MeasureError(
                f"params.{str(key)[:40]}",
                gettext("“%(measure)s” has no parameter with this name.")
                % {"measure": measure.name},
                "unknown",
            )
    out: Params = {}
    for p in measure.params:
        value = raw.get(p.name, p.default)
        where = f"params.{p.name}"
        if p.kind == "int":
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                value = int(value.strip())
            if isinstance(value, float) and math.isfinite(value) and value == int(value):
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise MeasureError(where, gettext("Enter a whole number."))
            if (p.low is not None and value < p.low) or (p.high is not None and value > p.high):
                raise MeasureError(
                    where,
                    gettext("Enter a number from %(low)s to %(high)s.")
                    % {"low": p.low, "high": p.high},
                )
            out[p.name] = value
        elif p.kind == "names":
            if isinstance(value, str):
                value = [part for part in value.split(",")]
            if not isinstance(value, list):
                raise MeasureError(where, gettext("Enter a list of event names."))
            names: list[str] = []
            for item in value:
                if not isinstance(item, str):
                    raise MeasureError(where, gettext("Event names must be text."))
                item = item.strip()
                if not item:
                    continue
                if len(item) > 200 or "\x00" in item or not item.isprintable():
                    raise MeasureError(where, gettext("An event name is not valid."))
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise MeasureError(where, gettext("An event name is not valid.")) from None
                if item not in names:
                    names.append(item)
            if len(names) > MAX_EVENT_NAMES:
                raise MeasureError(
                    where, gettext("At most %(n)s event names.") % {"n": MAX_EVENT_NAMES}
                )
            out[p.name] = names
        else:  # pragma: no cover - a programming error in a measure's spec
            raise MeasureError(where, f"unknown parameter kind {p.kind!r}")
    return out


def params_describe(measure: Measure, params: Params) -> str:
    """The parameters in a few words ("30 days; Report Viewed, Export")."""
    parts = []
    for p in measure.params:
        value = params.get(p.name, p.default)
        if p.kind == "names":
            separator = pgettext("between the items of a list in a sentence", ", ")
            parts.append(separator.join(value) if value else gettext("all events"))
        else:
            parts.append(
                pgettext("a measure's parameter and its value", "%(name)s: %(value)s")
                % {"name": p.label, "value": value}
            )
    return pgettext("between the parameters of a measure", "; ").join(str(p) for p in parts)


# --- helpers -----------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _num(value: Raw) -> str:
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _was(text: str, previous: Raw, fmt: Callable[[Raw], str] = _num) -> str:
    if previous is None:
        return text
    return gettext("%(now)s, was %(was)s") % {"now": text, "was": fmt(previous)}


def _pct(value: Raw) -> str:
    if value is None:
        return "—"
    return f"{value:+.0f}%"


# Above this many customers a measure reads the whole table for its window once instead of
# asking for the customers 500 at a time: the daily run scores (nearly) everyone.
WHOLE_TABLE = 5_000


def _parts(ids: Sequence[int]) -> Iterator[list[int] | None]:
    """Slices of ``ids`` to filter by, or a single None: "no filter, every customer"."""
    if len(ids) > WHOLE_TABLE:
        yield None
    else:
        yield from chunks(list(ids))


def _only(qs: Any, part: list[int] | None) -> Any:
    return qs if part is None else qs.filter(customer_id__in=part)


def _rollups(
    part: list[int] | None, start: date, end: date, names: Sequence[str] | None = None
) -> Any:
    from tend.activity.models import DailyRollup

    qs = _only(DailyRollup.objects.filter(day__gte=start, day__lt=end), part)
    if names:
        return qs.filter(name__in=list(names))
    return qs.exclude(name__in=NOT_USAGE)


_known_cache: ContextVar[dict[tuple[date, tuple[int, ...]], dict[int, date]] | None] = ContextVar(
    "health_usage_known", default=None
)


@contextmanager
def measures_run() -> Iterator[None]:
    """Within one scoring run the usage measures share who had used the product before the
    day (one scan of the rollups instead of one per measure); nothing is kept after it."""
    token = _known_cache.set({})
    try:
        yield
    finally:
        _known_cache.reset(token)


def _usage_known(ids: Sequence[int], as_of: date) -> dict[int, date]:
    """The first day each customer used the product (any usage rollup before ``as_of``):
    a customer without one has no usage data (None), not zero usage."""
    from tend.activity.models import DailyRollup

    cache = _known_cache.get()
    key = (as_of, tuple(ids))
    if cache is not None and key in cache:
        return cache[key]
    out: dict[int, date] = {}
    for part in _parts(ids):
        rows = (
            _only(DailyRollup.objects.filter(day__lt=as_of), part)
            .exclude(name__in=NOT_USAGE)
            .values("customer_id")
            .annotate(first=Min("day"))
            .values_list("customer_id", "first")
        )
        out.update(dict(rows))
    if cache is not None:
        cache.clear()
        cache[key] = out
    return out


def _by_customer(
    ids: Sequence[int], query: Callable[[list[int] | None], Iterable[tuple[int, Any]]]
) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for part in _parts(ids):
        out.update({cid: value for cid, value in query(part)})
    return out


# --- usage measures: fast path over many days ---------------------------------------------


class _RollupCube:
    """Usage rollups of many customers over a span of days as numpy arrays, for the
    backfill: per customer and day, the event total and, per event name, whether it was used.
    Window sums are differences of cumulative sums (one pass per day range)."""

    def __init__(
        self, ids: Sequence[int], start: date, end: date, names: Sequence[str] | None
    ) -> None:
        self.ids = list(ids)
        self.start = start
        self.ndays = (end - start).days
        index = {cid: i for i, cid in enumerate(self.ids)}
        self.index = index
        totals = np.zeros((len(self.ids), self.ndays + 1), dtype=np.int64)
        used: dict[str, np.ndarray] = {}
        for part in _parts(self.ids):
            rows = _rollups(part, start, end, names).values_list(
                "customer_id", "day", "name", "count"
            )
            for cid, day, name, count in rows.iterator(chunk_size=20_000):
                i = index.get(cid)
                if i is None:
                    continue
                d = (day - start).days + 1
                totals[i, d] += count
                grid = used.get(name)
                if grid is None:
                    grid = used[name] = np.zeros((len(self.ids), self.ndays + 1), dtype=np.int8)
                if count > 0:
                    grid[i, d] = 1
        self.cum_total = np.cumsum(totals, axis=1)
        self.cum_active = np.cumsum(totals > 0, axis=1, dtype=np.int32)
        self.cum_used = {
            name: np.cumsum(grid, axis=1, dtype=np.int32) for name, grid in used.items()
        }

    def _col(self, day: date) -> int:
        """Index in the cumulative arrays of "everything before ``day``"."""
        return min(max((day - self.start).days, 0), self.ndays)

    def window(self, cum: np.ndarray, end: date, days: int) -> np.ndarray:
        return cum[:, self._col(end)] - cum[:, self._col(end - timedelta(days=days))]

    def breadth(self, end: date, days: int) -> np.ndarray:
        out = np.zeros(len(self.ids), dtype=np.int64)
        for cum in self.cum_used.values():
            out += self.window(cum, end, days) > 0
        return out


def _usage_days(
    ids: Sequence[int],
    days: Sequence[date],
    params: Params,
    longest: int,
    value: Callable[[_RollupCube, date], np.ndarray],
) -> dict[date, Values]:
    if not days:
        return {}
    first, last = min(days), max(days)
    known = _usage_known(ids, last)
    cube = _RollupCube(ids, first - timedelta(days=longest), last, params.get("events") or None)
    out: dict[date, Values] = {}
    for day in days:
        raw = value(cube, day)
        values: Values = {}
        for i, cid in enumerate(cube.ids):
            seen = known.get(cid)
            if seen is None or seen >= day:
                values[cid] = None
            else:
                v = raw[i]
                values[cid] = (
                    None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
                )
        out[day] = values
    return out


# --- usage measures --------------------------------------------------------------------


def active_days_compute(ids: Sequence[int], as_of: date, params: Params) -> Values:
    n = params["days"]
    known = _usage_known(ids, as_of)
    active = _by_customer(
        ids,
        lambda part: (
            _rollups(part, as_of - timedelta(days=n), as_of)
            .filter(count__gt=0)
            .values("customer_id")
            .annotate(n=Count("day", distinct=True))
            .values_list("customer_id", "n")
        ),
    )
    return {cid: (float(active.get(cid, 0)) if cid in known else None) for cid in ids}


def active_days_days(
    ids: Sequence[int], days: Sequence[date], params: Params
) -> dict[date, Values]:
    n = params["days"]
    return _usage_days(ids, days, params, n, lambda cube, day: cube.window(cube.cum_active, day, n))


def active_days_explain(raw: Raw, previous: Raw, params: Params) -> str:
    if raw is None:
        return gettext("no usage recorded yet")
    text = ngettext(
        "active %(n)s of the last %(days)s day",
        "active %(n)s of the last %(days)s days",
        params["days"],
    ) % {"n": _num(raw), "days": params["days"]}
    return _was(text, previous)


def event_count_compute(ids: Sequence[int], as_of: date, params: Params) -> Values:
    n = params["days"]
    known = _usage_known(ids, as_of)
    totals = _by_customer(
        ids,
        lambda part: (
            _rollups(part, as_of - timedelta(days=n), as_of, params["events"] or None)
            .values("customer_id")
            .annotate(n=Sum("count"))
            .values_list("customer_id", "n")
        ),
    )
    return {cid: (float(totals.get(cid) or 0) if cid in known else None) for cid in ids}


def event_count_days(
    ids: Sequence[int], days: Sequence[date], params: Params
) -> dict[date, Values]:
    n = params["days"]
    return _usage_days(ids, days, params, n, lambda cube, day: cube.window(cube.cum_total, day, n))


def _events_words(params: Params) -> str:
    return ", ".join(params["events"]) if params.get("events") else gettext("events")


def event_count_explain(raw: Raw, previous: Raw, params: Params) -> str:
    if raw is None:
        return gettext("no usage recorded yet")
    text = gettext("%(n)s × %(events)s in the last %(days)s days") % {
        "n": _num(raw),
        "events": _events_words(params),
        "days": params["days"],
    }
    return _was(text, previous)


def _change(current: float, before: float) -> Raw:
    if before <= 0:
        return None
    return round((current - before) / before * 100.0, 2)


def usage_change_compute(ids: Sequence[int], as_of: date, params: Params) -> Values:
    n = params["days"]
    events = params["events"] or None

    def window(start: date, end: date) -> dict[int, Any]:
        return _by_customer(
            ids,
            lambda part: (
                _rollups(part, start, end, events)
                .values("customer_id")
                .annotate(n=Sum("count"))
                .values_list("customer_id", "n")
            ),
        )

    now = window(as_of - timedelta(days=n), as_of)
    before = window(as_of - timedelta(days=2 * n), as_of - timedelta(days=n))
    return {cid: _change(float(now.get(cid) or 0), float(before.get(cid) or 0)) for cid in ids}


def usage_change_days(
    ids: Sequence[int], days: Sequence[date], params: Params
) -> dict[date, Values]:
    n = params["days"]
    if not days:
        return {}
    cube = _RollupCube(ids, min(days) - timedelta(days=2 * n), max(days), params["events"] or None)
    out: dict[date, Values] = {}
    for day in days:
        now = cube.window(cube.cum_total, day, n)
        before = cube.window(cube.cum_total, day - timedelta(days=n), n)
        out[day] = {cid: _change(float(now[i]), float(before[i])) for i, cid in enumerate(cube.ids)}
    return out


def usage_change_explain(raw: Raw, previous: Raw, params: Params) -> str:
    if raw is None:
        return gettext("no usage in the window before to compare with")
    text = gettext("usage %(change)s against the %(days)s days before") % {
        "change": _pct(raw),
        "days": params["days"],
    }
    return _was(text, previous, _pct)


def breadth_compute(ids: Sequence[int], as_of: date, params: Params) -> Values:
    n = params["days"]
    known = _usage_known(ids, as_of)
    distinct = _by_customer(
        ids,
        lambda part: (
            _rollups(part, as_of - timedelta(days=n), as_of)
            .filter(count__gt=0)
            .values("customer_id")
            .annotate(n=Count("name", distinct=True))
            .values_list("customer_id", "n")
        ),
    )
    return {cid: (float(distinct.get(cid, 0)) if cid in known else None) for cid in ids}


def breadth_days(ids: Sequence[int], days: Sequence[date], params: Params) -> dict[date, Values]:
    n = params["days"]
    return _usage_days(ids, days, {}, n, lambda cube, day: cube.breadth(day, n))


def breadth_explain(raw: Raw, previous: Raw, params: Params) -> str:
    if raw is None:
        return gettext("no usage recorded yet")
    text = gettext("%(n)s different features used in the last %(days)s days") % {
        "n": _num(raw),
        "days": params["days"],
    }
    return _was(text, previous)


# --- billing measures ------------------------------------------------------------------


def _billed_since(ids: Sequence[int]) -> dict[int, datetime]:
    """When each customer's first subscription started: before that there is no billing data."""
    from tend.billing.models import Subscription

    return _by_customer(
        ids,
        lambda part: (
            _only(Subscription.objects.all(), part)
            .values("customer_id")
            .annotate(first=Min("started_at"))
            .values_list("customer_id", "first")
        ),
    )


def failed_payments_compute(ids: Sequence[int], as_of: date, params: Params) -> Values:
    from tend.activity.models import DailyRollup

    n = params["days"]
    billed = _billed_since(ids)
    failed = _by_customer(
        ids,
        lambda part: (
            _only(DailyRollup.objects.all(), part)
            .filter(
                name=PAYMENT_FAILED,
                day__gte=as_of - timedelta(days=n),
                day__lt=as_of,
            )
            .values("customer_id")
            .annotate(n=Sum("count"))
            .values_list("customer_id", "n")
        ),
    )
    start = day_start(as_of)
    return {
        cid: (float(failed.get(cid) or 0) if cid in billed and billed[cid] < start else None)
        for cid in ids
    }


def failed_payments_days(
    ids: Sequence[int], days: Sequence[date], params: Params
) -> dict[date, Values]:
    n = params["days"]
    if not days:
        return {}
    billed = _billed_since(ids)
    cube = _RollupCube(ids, min(days) - timedelta(days=n), max(days), [PAYMENT_FAILED])
    out: dict[date, Values] = {}
    for day in days:
        start = day_start(day)
        raw = cube.window(cube.cum_total, day, n)
        out[day] = {
            cid: (float(raw[i]) if cid in billed and billed[cid] < start else None)
            for i, cid in enumerate(cube.ids)
        }
    return out


def failed_payments_explain(raw: Raw, previous: Raw, params: Params) -> str:
    if raw is None:
        return gettext("no subscription yet")
    text = ngettext(
        "%(n)s failed payment in the last %(days)s days",
        "%(n)s failed payments in the last %(days)s days",
        int(raw),
    ) % {"n": _num(raw), "days": params["days"]}
    return _was(text, previous)


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    days_in = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, days_in))


def _period_end_as_of(period_end: datetime, interval: str, start: datetime) -> datetime | None:
    """The end of the billing period that was running at ``start``: ``period_end`` stepped
    back by whole intervals while the earlier end is still at or after ``start``."""
    months = {"month": 1, "quarter": 3, "year": 12}.get(interval)
    end = period_end
    for _step in range(0, 2000):
        earlier = end - timedelta(weeks=1) if months is None else _add_months(end, -months)
        if earlier < start:
            return end
        end = earlier
    return end  # pragma: no cover - more than 2000 periods back


def days_to_renewal_compute(ids: Sequence[int], as_of: date, params: Params) -> Values:
    from django.db.models import Q

    from tend.billing.models import MRR_STATUSES, Subscription

    start = day_start(as_of)
    rows: list[tuple[int, str, datetime | None, datetime | None, str]] = []
    for part in _parts(ids):
        rows += list(
            _only(Subscription.objects.all(), part)
            .filter(
                started_at__lt=start,
                current_period_end__isnull=False,
            )
            .filter(Q(canceled_at__isnull=True) | Q(canceled_at__gte=start))
            .filter(Q(status__in=MRR_STATUSES) | Q(canceled_at__gte=start))
            .values_list("customer_id", "interval", "current_period_end", "canceled_at", "status")
        )
    best: dict[int, float] = {}
    for cid, interval, period_end, _canceled, _status in rows:
        if period_end is None:
            continue
        end = _period_end_as_of(period_end, interval, start) if period_end >= start else None
        if end is None:
            continue
        days = float((end.date() - as_of).days)
        if cid not in best or days < best[cid]:
            best[cid] = days
    return {cid: best.get(cid) for cid in ids}


def days_to_renewal_explain(raw: Raw, previous: Raw, params: Params) -> str:
    if raw is None:
        return gettext("no renewal ahead")
    return ngettext("renews in %(n)s day", "renews in %(n)s days", int(raw)) % {"n": _num(raw)}


def _mrr_at(ids: Sequence[int], moments: Sequence[datetime]) -> list[dict[int, float]]:
    """Each customer's MRR just before each moment (``mrr_after`` of its last movement before
    it), from one query per chunk of customers."""
    from tend.billing.models import MrrMovement

    last = max(moments)
    history: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    for part in _parts(ids):
        rows = (
            _only(MrrMovement.objects.filter(at__lt=last), part)
            .order_by("customer_id", "at", "id")
            .values_list("customer_id", "at", "mrr_after")
        )
        for cid, at, after in rows.iterator(chunk_size=10_000):
            history[cid].append((at, float(after)))
    out: list[dict[int, float]] = [{} for _ in moments]
    points = np.array(
        [np.datetime64(m.astimezone(UTC).replace(tzinfo=None), "us") for m in moments]
    )
    for cid, moves in history.items():
        stamps = np.array(
            [np.datetime64(at.astimezone(UTC).replace(tzinfo=None), "us") for at, _v in moves]
        )
        found = np.searchsorted(stamps, points, side="left")
        for k, i in enumerate(found):
            if i > 0:
                out[k][cid] = moves[int(i) - 1][1]
    return out


def mrr_change_compute(ids: Sequence[int], as_of: date, params: Params) -> Values:
    return mrr_change_days(ids, [as_of], params)[as_of]


def mrr_change_days(ids: Sequence[int], days: Sequence[date], params: Params) -> dict[date, Values]:
    n = params["days"]
    if not days:
        return {}
    moments: list[datetime] = []
    for day in days:
        moments += [day_start(day), day_start(day - timedelta(days=n))]
    mrr = _mrr_at(ids, moments)
    out: dict[date, Values] = {}
    for k, day in enumerate(days):
        now, before = mrr[2 * k], mrr[2 * k + 1]
        out[day] = {cid: _change(now.get(cid, 0.0), before.get(cid, 0.0)) for cid in ids}
    return out


def mrr_change_explain(raw: Raw, previous: Raw, params: Params) -> str:
    if raw is None:
        return gettext("no MRR %(days)s days ago to compare with") % {"days": params["days"]}
    return gettext("MRR %(change)s over the last %(days)s days") % {
        "change": _pct(raw),
        "days": params["days"],
    }


# --- relationship ----------------------------------------------------------------------

TOUCH_KINDS = ("note", "call", "email", "meeting")


def days_since_touch_compute(ids: Sequence[int], as_of: date, params: Params) -> Values:
    from tend.customers.models import TimelineEntry

    start = day_start(as_of)
    last = _by_customer(
        ids,
        lambda part: (
            _only(TimelineEntry.objects.filter(kind__in=TOUCH_KINDS, at__lt=start), part)
            .values("customer_id")
            .annotate(last=Max("at"))
            .values_list("customer_id", "last")
        ),
    )
    return {
        cid: (float((as_of - last[cid].astimezone(UTC).date()).days) if cid in last else None)
        for cid in ids
    }


def days_since_touch_days(
    ids: Sequence[int], days: Sequence[date], params: Params
) -> dict[date, Values]:
    from tend.customers.models import TimelineEntry

    if not days:
        return {}
    end = day_start(max(days))
    touched: dict[int, list[date]] = defaultdict(list)
    for part in _parts(ids):
        rows = (
            _only(TimelineEntry.objects.filter(kind__in=TOUCH_KINDS, at__lt=end), part)
            .order_by("customer_id", "at")
            .values_list("customer_id", "at")
        )
        for cid, at in rows.iterator(chunk_size=10_000):
            touched[cid].append(at.astimezone(UTC).date())
    out: dict[date, Values] = {}
    arrays = {cid: np.array(v, dtype="datetime64[D]") for cid, v in touched.items()}
    for day in days:
        d64 = np.datetime64(day, "D")
        values: Values = {}
        for cid in ids:
            arr = arrays.get(cid)
            if arr is None:
                values[cid] = None
                continue
            i = int(np.searchsorted(arr, d64, side="left"))
            values[cid] = float((day - arr[i - 1].astype(date)).days) if i > 0 else None
        out[day] = values
    return out


def days_since_touch_explain(raw: Raw, previous: Raw, params: Params) -> str:
    if raw is None:
        return gettext("no note, call, email or meeting recorded")
    text = ngettext(
        "last note, call, email or meeting %(n)s day ago",
        "last note, call, email or meeting %(n)s days ago",
        int(raw),
    ) % {"n": _num(raw)}
    return _was(text, previous)


# --- registration ----------------------------------------------------------------------


def _days(default: int) -> Param:
    return Param("days", _("Days"), "int", default, low=1, high=MAX_DAYS)


EVENTS = Param(
    "events",
    _("Events"),
    "names",
    [],
    help=_("Event names, separated by commas; empty counts every event."),
)

BUILT_IN: tuple[Measure, ...] = (
    Measure(
        "active_days",
        _("Active days"),
        "usage",
        (_days(30),),
        active_days_compute,
        active_days_explain,
        compute_days=active_days_days,
        unit=_("days"),
        help=_("Days with at least one event in the last N days."),
        suggested=((1, 20), (4, 40), (8, 60), (12, 80), (18, 100)),
    ),
    Measure(
        "event_count",
        _("Event count"),
        "usage",
        (_days(30), EVENTS),
        event_count_compute,
        event_count_explain,
        compute_days=event_count_days,
        unit=_("events"),
        help=_("How many of the chosen events happened in the last N days."),
        suggested=((1, 25), (10, 50), (50, 75), (200, 100)),
    ),
    Measure(
        "usage_change",
        _("Usage change"),
        "usage",
        (_days(30), EVENTS),
        usage_change_compute,
        usage_change_explain,
        compute_days=usage_change_days,
        unit="%",
        help=_(
            "Events in the last N days against the N days before, in percent; no data when "
            "the window before had none."
        ),
        suggested=((-75, 10), (-40, 40), (-10, 70), (10, 100)),
    ),
    Measure(
        "breadth",
        _("Breadth of use"),
        "usage",
        (_days(30),),
        breadth_compute,
        breadth_explain,
        compute_days=breadth_days,
        unit=_("event names"),
        help=_("Distinct event names used in the last N days."),
        suggested=((1, 25), (3, 50), (5, 75), (8, 100)),
    ),
    Measure(
        "failed_payments",
        _("Failed payments"),
        "billing",
        (_days(30),),
        failed_payments_compute,
        failed_payments_explain,
        compute_days=failed_payments_days,
        higher_is_better=False,
        unit=_("payments"),
        help=_(
            "“Payment Failed” events (written by the Stripe webhook) in the last N days; "
            "no data before the first subscription."
        ),
        suggested=((0, 100), (1, 40), (2, 10)),
    ),
    Measure(
        "days_to_renewal",
        _("Days to renewal"),
        "billing",
        (),
        days_to_renewal_compute,
        days_to_renewal_explain,
        unit=_("days"),
        help=_("Days until the earliest live subscription renews; no data without one."),
        suggested=((14, 30), (30, 60), (60, 100)),
    ),
    Measure(
        "mrr_change",
        _("MRR change"),
        "billing",
        (_days(90),),
        mrr_change_compute,
        mrr_change_explain,
        compute_days=mrr_change_days,
        unit="%",
        help=_(
            "Change of the customer's MRR over the last N days, in percent; no data when "
            "there was no MRR N days ago."
        ),
        suggested=((-50, 10), (-10, 50), (0, 80), (5, 100)),
    ),
    Measure(
        "days_since_touch",
        _("Days since last touch"),
        "relationship",
        (),
        days_since_touch_compute,
        days_since_touch_explain,
        compute_days=days_since_touch_days,
        higher_is_better=False,
        unit=_("days"),
        help=_("Days since the last note, call, email or meeting on the timeline."),
        suggested=((14, 100), (30, 70), (60, 40), (120, 10)),
    ),
)


def measures_register_builtin() -> None:
    for measure in BUILT_IN:
        if measure.name not in measures:
            measures.register(measure)


def measure_values(
    measure: Measure, ids: Sequence[int], days: Sequence[date], params: Params
) -> dict[date, Values]:
    """Raw values for many days: the measure's fast path when it has one, else day by day."""
    if measure.compute_days is not None and len(days) > 1:
        return measure.compute_days(ids, days, params)
    return {day: measure.compute(ids, day, params) for day in days}
