"""The churn-model features built from Tend's own data: usage rollups, billing history, the
lifecycle stage history, the timeline, the customer's profile.

Every feature reads only what happened before ``as_of`` 00:00 UTC. Features that share a data
source share its query: a *source* is loaded once per day (one grouped query, or one query in
slices of ``LOOKUP_CHUNK`` ids when a few customers are asked for) and each feature picks its
column. Within ``sources_run()`` (the training-set build) a source that does not depend on the
day is read once for every day (everything before the latest day, filtered per day in pandas),
so 12 observation dates cost one query, not 12.

Compute functions return a ``pandas.Series`` indexed by customer id (a fast path
``tend.predict.training`` understands); plug-ins may return a plain dict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from tend.lib.db import chunks

# The event name the billing integrations record a failed charge under (tend.health.measures).
PAYMENT_FAILED = "Payment Failed"
# Timeline kinds written by a person: the relationship touches.
TOUCH_KINDS = ("note", "call", "email", "meeting")
# Above this many ids a source reads the whole table and keeps the asked-for rows in pandas
# instead of asking 500 at a time (the same rule as the health measures).
WHOLE_TABLE = 5_000
# PostgreSQL memory for the grouped queries of one build (see ``sources_run``).
AGGREGATE_MEMORY = "128MB"


def day_start(day: date) -> datetime:
    """``day`` 00:00 UTC: features read what happened strictly before it."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def parts(ids: Sequence[int] | None) -> Iterator[list[int] | None]:
    """Slices of ``ids`` to filter a query by, or a single None ("every customer")."""
    if ids is None or len(ids) > WHOLE_TABLE:
        yield None
    else:
        yield from chunks(list(ids))


def only(qs: Any, part: list[int] | None, field: str = "customer_id") -> Any:
    return qs if part is None else qs.filter(**{f"{field}__in": part})


def _rows(qs_for: Callable[[list[int] | None], Any], ids: Sequence[int] | None) -> list[Any]:
    out: list[Any] = []
    for part in parts(ids):
        out.extend(qs_for(part))
    return out


# --- sources -------------------------------------------------------------------------------


class _Scope:
    """Sources loaded during one build: {(source, day or None, ids key): frame}."""

    def __init__(self, until: date | None) -> None:
        self.until = until
        self.frames: dict[tuple[str, date | None, Any], Any] = {}


_scope: ContextVar[_Scope | None] = ContextVar("predict_feature_sources", default=None)


@contextmanager
def sources_run(*, until: date | None = None) -> Iterator[None]:
    """Share the sources' queries between the features (and, with ``until``, the days up to
    ``until``) of one build. Nothing is kept after it.

    On PostgreSQL the build runs in a transaction with ``work_mem`` raised to
    ``AGGREGATE_MEMORY`` for it alone (``SET LOCAL``): the per-day grouped query over the
    rollups of 100,000 customers spills its hash tables to disk at the default 4 MB (5.9 s
    against about 1 s in memory)."""
    from django.db import connection, transaction

    token = _scope.set(_Scope(until))
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL work_mem = '{AGGREGATE_MEMORY}'")
            yield
    finally:
        _scope.reset(token)


def _ids_key(ids: Sequence[int] | None) -> Any:
    return None if ids is None else tuple(ids)


def _cached(name: str, day: date | None, ids: Sequence[int] | None, load: Callable[[], Any]) -> Any:
    scope = _scope.get()
    if scope is None:
        return load()
    key = (name, day, _ids_key(ids))
    if key not in scope.frames:
        scope.frames[key] = load()
    return scope.frames[key]


def _history(
    name: str,
    ids: Sequence[int] | None,
    as_of: date | None,
    load: Callable[[Sequence[int] | None, Any], pd.DataFrame],
) -> pd.DataFrame:
    """A source with a ``customer_id`` column read up to ``as_of`` (not included). Within
    ``sources_run(until=…)`` it is read once for every customer up to ``until`` and each day
    keeps its own rows in pandas; callers still filter by time themselves."""
    scope = _scope.get()
    if scope is not None and scope.until is not None and (as_of is None or scope.until >= as_of):
        until = None if as_of is None else scope.until
        frame = _cached(name, until, None, lambda: load(None, until))
        if ids is None:
            return frame
        return frame[frame["customer_id"].isin(ids)]
    return load(ids, as_of)


def _utc(values: Any) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype="object"), utc=True)


def _series(ids: Sequence[int], values: pd.Series | None, *, fill: Any = np.nan) -> pd.Series:
    index = pd.Index(list(ids), dtype="int64", name="customer_id")
    if values is None:
        return pd.Series(fill, index=index, dtype="float64" if fill is np.nan else None)
    return values.reindex(index)


USAGE_COLUMNS = [
    "events_7d",
    "events_30d",
    "events_prev_30d",
    "events_90d",
    "active_days_7d",
    "active_days_30d",
    "active_days_prev_30d",
    "active_days_90d",
    "payment_failures_90d",
    "last_day",
]

# Two levels: the rollups of the window summed per customer and day (usage apart from failed
# payments), then per customer with one CASE per window: no COUNT(DISTINCT …), so both
# databases hash-aggregate in one pass over the window's rows.
_USAGE_SQL = """
SELECT customer_id,
  SUM(CASE WHEN day >= %s THEN n ELSE 0 END),
  SUM(CASE WHEN day >= %s THEN n ELSE 0 END),
  SUM(CASE WHEN day >= %s AND day < %s THEN n ELSE 0 END),
  SUM(n),
  SUM(CASE WHEN n > 0 AND day >= %s THEN 1 ELSE 0 END),
  SUM(CASE WHEN n > 0 AND day >= %s THEN 1 ELSE 0 END),
  SUM(CASE WHEN n > 0 AND day >= %s AND day < %s THEN 1 ELSE 0 END),
  SUM(CASE WHEN n > 0 THEN 1 ELSE 0 END),
  SUM(pf),
  MAX(CASE WHEN n > 0 THEN day END)
FROM (
  SELECT customer_id, day,
    SUM(CASE WHEN name <> %s THEN count ELSE 0 END) AS n,
    SUM(CASE WHEN name = %s THEN count ELSE 0 END) AS pf
  FROM {table}
  WHERE day >= %s AND day < %s{only}
  GROUP BY customer_id, day
) per_day
GROUP BY customer_id
"""

_BREADTH_SQL = """
SELECT customer_id, COUNT(DISTINCT name) FROM {table}
WHERE day >= %s AND day < %s AND count > 0 AND name <> %s{only}
GROUP BY customer_id
"""

_LAST_SQL = """
SELECT customer_id, MAX(day) FROM {table}
WHERE day < %s AND count > 0 AND name <> %s{only}
GROUP BY customer_id
"""


def _raw(
    sql: str, params: list[Any], ids: Sequence[int] | None, column: str = "customer_id"
) -> list[tuple[Any, ...]]:
    """Run ``sql`` (with ``{table}`` = the rollups and ``{only}`` holes) for ``ids`` in slices
    of ``LOOKUP_CHUNK`` ("AND <column> IN (…)"), or once for everyone."""
    from django.db import connection

    from tend.activity.models import DailyRollup

    table = connection.ops.quote_name(DailyRollup._meta.db_table)
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for part in parts(ids):
            if part is None:
                cursor.execute(sql.format(table=table, only=""), params)
            elif not part:
                continue
            else:
                marks = ", ".join(["%s"] * len(part))
                cursor.execute(
                    sql.format(table=table, only=f" AND {column} IN ({marks})"),
                    [*params, *part],
                )
            out.extend(cursor.fetchall())
    return out


def _q(name: str) -> str:
    from django.db import connection

    return connection.ops.quote_name(name)


def _stamp(column: str) -> str:
    """A timestamp column as something pandas turns into datetimes without a Python object
    per value: microseconds since 1970 on PostgreSQL, the stored UTC text on SQLite."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"(EXTRACT(EPOCH FROM {column}) * 1000000)::bigint"
    return column


def _stamps(values: Any) -> pd.Series:
    """What ``_stamp`` selected, as UTC datetimes (NaT for NULL)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return pd.to_datetime(pd.Series(values, dtype="float64"), unit="us", utc=True)
    return pd.to_datetime(pd.Series(values, dtype="object"), format="ISO8601", utc=True)


def _moment(value: datetime) -> Any:
    """A datetime as the database compares it with its stored timestamps."""
    from django.db import connection

    return connection.ops.adapt_datetimefield_value(value)


def _days(values: pd.Series) -> pd.Series:
    """Dates (date objects or ISO text, as each database gives them) as datetime64."""
    return pd.to_datetime(values.astype("object"), errors="coerce")


def usage(ids: Sequence[int], as_of: date) -> pd.DataFrame:
    """Per customer, the usage rollups of the 90 days before ``as_of`` (one grouped query for
    the counts, one for the breadth) and the days since the last usage ever before ``as_of``.
    Customers with no usage at all before ``as_of`` have NaN everywhere (no usage data is not
    zero usage). Within ``sources_run(until=…)`` every customer is read and the last usage is
    carried from the previous day (a day ≤ 90 days earlier) instead of read again."""
    scope = _scope.get()
    if scope is not None and scope.until is not None:
        frame = _cached("usage", as_of, None, lambda: _usage(None, as_of))
    else:
        frame = _cached("usage", as_of, ids, lambda: _usage(ids, as_of))
    out = frame.reindex(pd.Index(list(ids), dtype="int64", name="customer_id"))
    out["payment_failures_90d"] = out["payment_failures_90d"].fillna(0.0)
    return out


def _usage(ids: Sequence[int] | None, as_of: date) -> pd.DataFrame:
    d = {n: (as_of - timedelta(days=n)).isoformat() for n in (7, 30, 60, 90)}
    end = as_of.isoformat()
    params = [d[7], d[30], d[60], d[30], d[7], d[30], d[60], d[30]]
    params += [PAYMENT_FAILED, PAYMENT_FAILED, d[90], end]
    rows = _raw(_USAGE_SQL, params, ids)
    frame = pd.DataFrame(rows, columns=["customer_id", *USAGE_COLUMNS])
    frame = frame.set_index(frame["customer_id"].astype("int64")).drop(columns="customer_id")
    frame.index.name = "customer_id"
    last = _days(frame.pop("last_day"))
    frame = frame.astype("float64")
    breadth = _raw(_BREADTH_SQL, [d[30], end, PAYMENT_FAILED], ids)
    frame["breadth_30d"] = pd.Series(dict(breadth), dtype="float64").reindex(frame.index)
    # The last usage before the window: carried from an earlier day of the same build when
    # that day's window reaches back to this one's start, else read.
    earlier = _earlier_last_usage(as_of)
    if earlier is None:
        older = _raw(_LAST_SQL, [d[90], PAYMENT_FAILED], ids)
        earlier = _days(pd.Series(dict(older), dtype="object"))
    index = (
        frame.index.union(earlier.index)
        if ids is None
        else pd.Index(list(ids), dtype="int64", name="customer_id")
    )
    index = index.astype("int64")
    index.name = "customer_id"
    last_day = last.reindex(index)
    last_day = last_day.where(last_day.notna(), earlier.reindex(index))
    scope = _scope.get()
    if scope is not None and ids is None:
        scope.frames[("last_usage", as_of, None)] = last_day.dropna()
    out = frame.reindex(index)
    start = pd.Timestamp(as_of)
    out["days_since_last_activity"] = ((start - last_day).dt.days).astype("float64")
    known = last_day.notna()
    usage_cols = [c for c in out.columns if c != "payment_failures_90d"]
    usage_cols.remove("days_since_last_activity")
    out.loc[known, usage_cols] = out.loc[known, usage_cols].fillna(0.0)
    out.loc[~known, usage_cols] = np.nan
    out["payment_failures_90d"] = out["payment_failures_90d"].fillna(0.0)
    return out


def _earlier_last_usage(as_of: date) -> pd.Series | None:
    """The last usage day of every customer before an earlier day of this build whose window
    covers everything from then to ``as_of``'s window (at most 90 days earlier)."""
    scope = _scope.get()
    if scope is None:
        return None
    best: date | None = None
    for name, day, ids in scope.frames:
        if (
            name == "last_usage"
            and ids is None
            and day is not None
            and day < as_of
            and (as_of - day).days <= 90
            and (best is None or day > best)
        ):
            best = day
    return None if best is None else scope.frames[("last_usage", best, None)]


def movements(ids: Sequence[int] | None, as_of: date) -> pd.DataFrame:
    """Every MRR movement before ``as_of`` (customer_id, at, kind, mrr_after), oldest first."""
    frame = _history("movements", ids, as_of, _movements)
    return frame[frame["at"] < pd.Timestamp(day_start(as_of))]


def _movements(ids: Sequence[int] | None, until: date) -> pd.DataFrame:
    from tend.billing.models import MrrMovement

    sql = (
        f"SELECT customer_id, {_stamp('at')}, kind, mrr_after "
        f"FROM {_q(MrrMovement._meta.db_table)} WHERE at < %s{{only}}"
    )
    rows = _raw(sql, [_moment(day_start(until))], ids)
    frame = pd.DataFrame(rows, columns=["customer_id", "at", "kind", "mrr_after"])
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["at"] = _stamps(frame["at"])
    frame["mrr_after"] = frame["mrr_after"].astype("float64")
    return frame.sort_values(["at"], kind="stable").reset_index(drop=True)


def billing(ids: Sequence[int], as_of: date) -> pd.DataFrame:
    """Per customer as of ``as_of``: MRR (after the last movement before it), paying tenure in
    days (since the first movement), expansions and contractions in the 90 days before."""
    return _cached("billing", as_of, ids, lambda: _billing(ids, as_of))


def _billing(ids: Sequence[int], as_of: date) -> pd.DataFrame:
    index = pd.Index(list(ids), dtype="int64", name="customer_id")
    moves = movements(ids, as_of)
    start = pd.Timestamp(day_start(as_of))
    grouped = moves.groupby("customer_id")
    out = pd.DataFrame(index=index)
    out["mrr"] = grouped["mrr_after"].last().reindex(index)
    first = grouped["at"].min().reindex(index)
    out["tenure_days"] = ((start - first).dt.total_seconds() // 86_400).astype("float64")
    recent = moves[moves["at"] >= start - pd.Timedelta(days=90)]
    for kind in ("expansion", "contraction"):
        counts = recent[recent["kind"] == kind].groupby("customer_id").size()
        out[f"{kind}s_90d"] = counts.reindex(index).fillna(0).astype("float64")
    return out


def subscriptions(ids: Sequence[int] | None) -> pd.DataFrame:
    """Every subscription (customer_id, plan code, started, canceled, interval, mrr). The plan
    and MRR are today's values; started/canceled place a subscription in time."""
    scope = _scope.get()
    if scope is not None and scope.until is not None:
        frame = _cached("subscriptions", None, None, lambda: _subscriptions(None))
        return frame if ids is None else frame[frame["customer_id"].isin(ids)]
    return _cached("subscriptions", None, ids, lambda: _subscriptions(ids))


def _subscriptions(ids: Sequence[int] | None) -> pd.DataFrame:
    from tend.billing.models import Plan, Subscription

    sql = (
        f"SELECT s.customer_id, p.code, {_stamp('s.started_at')}, {_stamp('s.canceled_at')}, "
        f"s.{_q('interval')}, s.mrr FROM {_q(Subscription._meta.db_table)} s "
        f"LEFT JOIN {_q(Plan._meta.db_table)} p ON p.id = s.plan_id WHERE 1 = 1{{only}}"
    )
    rows = _raw(sql, [], ids, "s.customer_id")
    frame = pd.DataFrame(
        rows, columns=["customer_id", "plan", "started_at", "canceled_at", "interval", "mrr"]
    )
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["started_at"] = _stamps(frame["started_at"])
    frame["canceled_at"] = _stamps(frame["canceled_at"])
    frame["mrr"] = frame["mrr"].astype("float64")
    return frame


def live_subscriptions(ids: Sequence[int] | None, as_of: date) -> pd.DataFrame:
    """The subscriptions running at ``as_of`` 00:00 UTC: started before, not canceled before."""
    subs = subscriptions(ids)
    start = pd.Timestamp(day_start(as_of))
    live = (subs["started_at"] < start) & (
        subs["canceled_at"].isna() | (subs["canceled_at"] >= start)
    )
    return subs[live]


def plan_at(ids: Sequence[int], as_of: date) -> pd.Series:
    """The plan of the customer's largest subscription running at ``as_of``."""
    live = live_subscriptions(ids, as_of)
    live = live[live["plan"].notna()].sort_values(["mrr"], kind="stable")
    plans = live.groupby("customer_id")["plan"].last()
    return _series(ids, plans.astype("object"))


def stages(ids: Sequence[int], as_of: date) -> pd.DataFrame:
    """Per customer, the lifecycle stage as of ``as_of`` and the days since it began.

    The stage is the last stage change's before ``as_of``; without one, the stage the first
    later change moved the customer *from* (what it was at ``as_of``); without any change at
    all, the customer's stage now, which it has had since it signed up (if before ``as_of``).
    Today's stage is never used for a past day when the history says otherwise."""
    return _cached("stages", as_of, ids, lambda: _stages(ids, as_of))


def _stages(ids: Sequence[int], as_of: date) -> pd.DataFrame:
    changes = _history("stage_changes", ids, None, _stage_changes)
    start = pd.Timestamp(day_start(as_of))
    index = pd.Index(list(ids), dtype="int64", name="customer_id")
    before = changes[changes["at"] < start]
    last = before.groupby("customer_id").last()
    later = changes[changes["at"] >= start].groupby("customer_id").first()
    people = profile(ids).reindex(index)
    existed = people["signed_up_at"] < start
    stage = last["to_stage"].reindex(index).astype("object")
    was = later["from_stage"].reindex(index)
    stage = stage.where(stage.notna(), was.where(was.notna() & (was != ""), None))
    never = ~index.isin(changes["customer_id"])
    stage = stage.where(~(stage.isna() & never & existed), people["stage"])
    since = last["at"].reindex(index)
    since = since.where(since.notna(), people["signed_up_at"].where(existed))
    out = pd.DataFrame(index=index)
    out["stage"] = stage.where(stage.notna(), np.nan).astype("object")
    out["days_in_stage"] = ((start - since).dt.total_seconds() // 86_400).astype("float64")
    return out


def _stage_changes(ids: Sequence[int] | None, until: date | None) -> pd.DataFrame:
    """Every stage change, after ``as_of`` too: the first later change's *from* stage tells
    the stage at ``as_of`` (a fact about before ``as_of``, not after)."""
    from tend.customers.models import StageChange

    sql = (
        f"SELECT customer_id, {_stamp('at')}, from_stage, to_stage "
        f"FROM {_q(StageChange._meta.db_table)} WHERE 1 = 1{{only}}"
    )
    rows = _raw(sql, [], ids)
    frame = pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "at",
            "from_stage",
            "to_stage",
        ],
    )
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["at"] = _stamps(frame["at"])
    frame["order"] = np.arange(len(frame))
    return frame.sort_values(["at", "order"], kind="stable").drop(columns="order")


def touches(ids: Sequence[int], as_of: date) -> pd.DataFrame:
    """Notes, calls, emails and meetings written on the timeline before ``as_of``: how many in
    the 90 days before, and the days since the last one (NaN: never)."""
    entries = _history("touches", ids, as_of, _touches)
    start = pd.Timestamp(day_start(as_of))
    before = entries[entries["at"] < start]
    grouped = before.groupby("customer_id")["at"]
    index = pd.Index(list(ids), dtype="int64", name="customer_id")
    out = pd.DataFrame(index=index)
    recent = before[before["at"] >= start - pd.Timedelta(days=90)]
    out["touches_90d"] = recent.groupby("customer_id").size().reindex(index).fillna(0)
    out["touches_90d"] = out["touches_90d"].astype("float64")
    out["days_since_last_touch"] = (
        ((start - grouped.max()).dt.total_seconds() // 86_400).reindex(index).astype("float64")
    )
    return out


def _touches(ids: Sequence[int] | None, until: date) -> pd.DataFrame:
    from tend.customers.models import TimelineEntry

    marks = ", ".join(["%s"] * len(TOUCH_KINDS))
    sql = (
        f"SELECT customer_id, {_stamp('at')} FROM {_q(TimelineEntry._meta.db_table)} "
        f"WHERE kind IN ({marks}) AND at < %s{{only}}"
    )
    rows = _raw(sql, [*TOUCH_KINDS, _moment(day_start(until))], ids)
    frame = pd.DataFrame(rows, columns=["customer_id", "at"])
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["at"] = _stamps(frame["at"])
    return frame


def profile(ids: Sequence[int] | None) -> pd.DataFrame:
    """The customer's own fields and traits, as they are now (they have no history)."""
    scope = _scope.get()
    if scope is not None and scope.until is not None:
        frame = _cached("profile", None, None, lambda: _profile(None))
        return frame if ids is None else frame[frame.index.isin(ids)]
    return _cached("profile", None, ids, lambda: _profile(ids))


def _profile(ids: Sequence[int] | None) -> pd.DataFrame:
    import json

    from tend.customers.models import Customer

    sql = (
        f"SELECT id, industry, size, channel, country, kind, {_stamp('signed_up_at')}, "
        f"{_stamp('created_at')}, stage, traits FROM {_q(Customer._meta.db_table)} "
        f"WHERE 1 = 1{{only}}"
    )
    rows = _raw(sql, [], ids, "id")
    columns = [
        "industry",
        "size",
        "channel",
        "country",
        "kind",
        "signed_up_at",
        "created_at",
        "stage",
        "traits",
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", *columns])
    frame = frame.set_index(frame["customer_id"].astype("int64")).drop(columns="customer_id")
    frame.index.name = "customer_id"
    for name in ("industry", "channel", "country", "kind"):
        frame[name] = frame[name].where(frame[name].astype(bool), None).astype("object")
    frame["size"] = frame["size"].astype("float64")
    frame["signed_up_at"] = _stamps(frame["signed_up_at"].to_numpy()).set_axis(frame.index)
    frame["created_at"] = _stamps(frame["created_at"].to_numpy()).set_axis(frame.index)
    frame["traits"] = [
        json.loads(t) if isinstance(t, str | bytes) else (t or {}) for t in frame["traits"]
    ]
    return frame


# --- words --------------------------------------------------------------------------------


def fmt_number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    number = float(value)
    if number.is_integer():
        return f"{int(number):,}"
    return f"{number:,.1f}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def explain_number(label: Any, fmt: Callable[[Any], str] = fmt_number) -> Callable[[Any, Any], str]:
    """ "<label> fell from 21 to 4" / "rose from … to …" / "<label>: 4"."""

    def explain(now: Any, before: Any) -> str:
        what = str(label)
        if _missing(now):
            return gettext("%(what)s: no data") % {"what": what}
        if _missing(before):
            return gettext("%(what)s: %(now)s") % {"what": what, "now": fmt(now)}
        values = {"what": what, "now": fmt(now), "before": fmt(before)}
        if float(now) < float(before):
            return gettext("%(what)s fell from %(before)s to %(now)s") % values
        if float(now) > float(before):
            return gettext("%(what)s rose from %(before)s to %(now)s") % values
        return gettext("%(what)s stayed at %(now)s") % values

    return explain


def explain_category(label: Any, shown_as: Callable[[str], str] = str) -> Callable[[Any, Any], str]:
    """Words for a category's change; ``shown_as`` turns a stored code into its label in the
    reader's language (a stage "renewal_due" reads "Renewal due")."""

    def explain(now: Any, before: Any) -> str:
        what = str(label)
        shown = "—" if _missing(now) else shown_as(str(now))
        if _missing(before) or before == now:
            return gettext("%(what)s: %(now)s") % {"what": what, "now": shown}
        return gettext("%(what)s changed from %(before)s to %(now)s") % {
            "what": what,
            "now": shown,
            "before": shown_as(str(before)),
        }

    return explain


def stage_label(code: str) -> str:
    """A lifecycle stage's label in the reader's language (the code itself if unknown)."""
    from tend.customers.models import Stage

    return str(dict(Stage.choices).get(code, code))


def fmt_days(value: Any) -> str:
    if _missing(value):
        return "—"
    n = int(value)
    return ngettext("%(n)s day", "%(n)s days", n) % {"n": f"{n:,}"}


def fmt_money(value: Any) -> str:
    if _missing(value):
        return "—"
    return f"{float(value):,.2f}"


def fmt_percent(value: Any) -> str:
    if _missing(value):
        return "—"
    return f"{float(value):+.0f}%"


# --- the features -------------------------------------------------------------------------


def _column(source: Callable[[Sequence[int], date], pd.DataFrame], column: str) -> Any:
    def compute(ids: Sequence[int], as_of: date) -> pd.Series:
        return source(ids, as_of)[column]

    compute.__name__ = f"{column}_compute"
    return compute


def _trend(ids: Sequence[int], as_of: date) -> pd.Series:
    frame = usage(ids, as_of)
    before = frame["events_prev_30d"]
    change = (frame["events_30d"] - before) / before.where(before > 0) * 100.0
    return change.astype("float64")


def _active_days_change(ids: Sequence[int], as_of: date) -> pd.Series:
    frame = usage(ids, as_of)
    return (frame["active_days_30d"] - frame["active_days_prev_30d"]).astype("float64")


def _per_active_day(ids: Sequence[int], as_of: date) -> pd.Series:
    frame = usage(ids, as_of)
    days = frame["active_days_30d"]
    return (frame["events_30d"] / days.where(days > 0)).astype("float64")


def _plan(ids: Sequence[int], as_of: date) -> pd.Series:
    return plan_at(ids, as_of)


def _profile_column(column: str) -> Callable[[Sequence[int], date], pd.Series]:
    def compute(ids: Sequence[int], as_of: date) -> pd.Series:
        return profile(ids)[column].reindex(pd.Index(list(ids), dtype="int64"))

    return compute


def _days_since_signup(ids: Sequence[int], as_of: date) -> pd.Series:
    signed = profile(ids)["signed_up_at"].reindex(pd.Index(list(ids), dtype="int64"))
    start = pd.Timestamp(day_start(as_of))
    days = (start - signed).dt.total_seconds() // 86_400
    return days.where(signed < start).astype("float64")


def builtin_features() -> list[Any]:
    """The built-in features, in the order the frame shows them."""
    from tend.predict.features import Feature

    def numeric(name: str, label: Any, compute: Any, group: str, fmt: Any = fmt_number) -> Any:
        return Feature(
            name=name,
            label=label,
            kind="numeric",
            compute=compute,
            explain=explain_number(label, fmt),
            group=group,
        )

    def categorical(
        name: str, label: Any, compute: Any, group: str, shown_as: Callable[[str], str] = str
    ) -> Any:
        return Feature(
            name=name,
            label=label,
            kind="categorical",
            compute=compute,
            explain=explain_category(label, shown_as),
            group=group,
        )

    usage_label = {
        "events_7d": _("events in the last 7 days"),
        "events_30d": _("events in the last 30 days"),
        "events_90d": _("events in the last 90 days"),
        "active_days_7d": _("active days in the last 7 days"),
        "active_days_30d": _("active days in the last 30 days"),
        "active_days_90d": _("active days in the last 90 days"),
        "breadth_30d": _("different events used in the last 30 days"),
    }
    out = [
        numeric(name, label, _column(usage, name), "usage") for name, label in usage_label.items()
    ]
    out += [
        numeric(
            "events_trend_30d",
            _("change in events, last 30 days against the 30 before (%)"),
            _trend,
            "usage",
            fmt_percent,
        ),
        numeric(
            "active_days_change_30d",
            _("change in active days, last 30 days against the 30 before"),
            _active_days_change,
            "usage",
        ),
        numeric(
            "events_per_active_day_30d",
            _("events per active day in the last 30 days"),
            _per_active_day,
            "usage",
        ),
        numeric(
            "days_since_last_activity",
            _("days since the last activity"),
            _column(usage, "days_since_last_activity"),
            "usage",
            fmt_days,
        ),
        numeric("mrr", _("MRR"), _column(billing, "mrr"), "billing", fmt_money),
        categorical("plan", _("plan"), _plan, "billing"),
        numeric(
            "tenure_days",
            _("days as a paying customer"),
            _column(billing, "tenure_days"),
            "billing",
            fmt_days,
        ),
        numeric(
            "expansions_90d",
            _("MRR expansions in the last 90 days"),
            _column(billing, "expansions_90d"),
            "billing",
        ),
        numeric(
            "contractions_90d",
            _("MRR contractions in the last 90 days"),
            _column(billing, "contractions_90d"),
            "billing",
        ),
        numeric(
            "payment_failures_90d",
            _("failed payments in the last 90 days"),
            _column(usage, "payment_failures_90d"),
            "billing",
        ),
        categorical(
            "stage",
            _("lifecycle stage"),
            _column(stages, "stage"),
            "relationship",
            shown_as=stage_label,
        ),
        numeric(
            "days_in_stage",
            _("days in the lifecycle stage"),
            _column(stages, "days_in_stage"),
            "relationship",
            fmt_days,
        ),
        numeric(
            "touches_90d",
            _("notes, calls, emails and meetings in the last 90 days"),
            _column(touches, "touches_90d"),
            "relationship",
        ),
        numeric(
            "days_since_last_touch",
            _("days since the last note, call, email or meeting"),
            _column(touches, "days_since_last_touch"),
            "relationship",
            fmt_days,
        ),
        numeric(
            "days_since_signup",
            _("days since sign-up"),
            _days_since_signup,
            "profile",
            fmt_days,
        ),
        categorical("industry", _("industry"), _profile_column("industry"), "profile"),
        numeric("size", _("employees"), _profile_column("size"), "profile"),
        categorical("channel", _("acquisition channel"), _profile_column("channel"), "profile"),
        categorical("country", _("country"), _profile_column("country"), "profile"),
        categorical(
            "kind", pgettext_lazy("company or person", "kind"), _profile_column("kind"), "profile"
        ),
    ]
    return out
