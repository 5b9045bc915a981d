"""Build the monthly snapshots from the MRR ledger and the subscriptions.

``snapshots_refresh`` is incremental: it rebuilds the ``CustomerMonth`` and ``CustomerLife``
rows of customers whose ledger or subscriptions changed since the last build (all of them
when the month rolled over or ``full`` is asked), then re-adds the per-month summaries,
the cohort cells and the survival curves from those rows with a few GROUP BY statements.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from tend.billing.models import MrrMovement, Subscription, SubscriptionStatus
from tend.lib.db import analyze, chunks
from tend.metrics.models import (
    CohortCell,
    CustomerLife,
    CustomerMonth,
    Dimension,
    MonthlySummary,
    SnapshotState,
)

CHUNK = 2000
ZERO = Decimal(0)
MOVEMENT_COLUMNS = ("new", "expansion", "contraction", "churn", "reactivation")


def month_of(value: date | datetime) -> date:
    """The first day of the calendar month holding ``value`` (datetimes read in UTC)."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return value.replace(day=1)


def is_period_boundary(value: datetime) -> bool:
    """``value`` is the first instant of a month (00:00:00 UTC on the 1st), so also the
    closing instant of the month before (and of a quarter or year when the month starts one)."""
    at = value.astimezone(UTC)
    return at.day == 1 and at.hour == 0 and at.minute == 0 and at.second == 0 and not at.microsecond


def change_month(at: datetime, *, paying_before: bool) -> date:
    """The month a change stamped ``at`` counts in (docs/metrics.md, "Period boundaries").

    A subscription is active on [start, end). A change stamped at the first instant of a
    month belongs to the month it closes when the customer was paying up to that instant (an
    end there is the previous month's churn, an up- or downgrade the previous month's
    movement), so the customer's MRR at the start of the month already includes it. A
    customer who starts or returns at that instant has nothing to close: that is the month
    it opens, and they count as new (or reactivated) in it, not at its start.
    """
    month = month_of(at)
    if paying_before and is_period_boundary(at):
        return add_months(month, -1)
    return month


def period_first(month: date, period: str) -> date:
    """The first month of the quarter or year holding ``month`` (itself for months)."""
    if period == "quarter":
        return month.replace(month=(month.month - 1) // 3 * 3 + 1)
    if period == "year":
        return month.replace(month=1)
    return month


def period_last(month: date, period: str) -> date:
    """The last month of the quarter or year holding ``month``."""
    size = {"month": 1, "quarter": 3, "year": 12}[period]
    return add_months(period_first(month, period), size - 1)


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month``."""
    total = month.year * 12 + month.month - 1 + count
    return date(total // 12, total % 12 + 1, 1)


def next_month(month: date) -> date:
    """The first day of the month after ``month`` (a first day)."""
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


@dataclass
class RefreshResult:
    customers: int
    rows: int
    seconds: float
    full: bool


def state() -> SnapshotState:
    """The one snapshot-state row; an unsaved empty one before the first build (reads never
    write)."""
    return SnapshotState.objects.filter(pk=1).first() or SnapshotState(pk=1)


def snapshots_refresh(*, full: bool = False, now: datetime | None = None) -> RefreshResult:
    """Bring the snapshots up to date with the ledger; safe to run again at any time."""
    started = time.perf_counter()
    # Changes are looked for by wall-clock time; ``now`` (the "as of" time) may be earlier.
    wall = timezone.now()
    now = now or wall
    this_month = month_of(now)
    with transaction.atomic():
        current = SnapshotState.objects.select_for_update().get_or_create(pk=1)[0]
        top = MrrMovement.objects.aggregate(top=Max("pk"))["top"] or 0
        rebuild_all = full or current.built_through != this_month or current.built_at is None
        if rebuild_all:
            ids = _all_paying_customers()
            CustomerMonth.objects.all()._raw_delete(CustomerMonth.objects.db)  # type: ignore[attr-defined]
            CustomerLife.objects.all()._raw_delete(CustomerLife.objects.db)  # type: ignore[attr-defined]
        else:
            assert current.built_at is not None
            ids = _changed_customers(after_id=current.last_movement_id, since=current.built_at)
        rows = 0
        since: date | None = None  # the first month whose rows changed
        for chunk in chunks(sorted(ids), CHUNK):
            written, changed = _rebuild_customers(
                chunk, now=now, this_month=this_month, wipe=not rebuild_all
            )
            rows += written
            if changed is not None and (since is None or changed < since):
                since = changed
        if rebuild_all or since is not None:
            _summaries_rebuild(since=None if rebuild_all else since, this_month=this_month)
            _cohorts_rebuild(since=None if rebuild_all else since)
            from tend.metrics.survival import survival_rebuild

            current.survival = survival_rebuild(now=now)
        current.last_movement_id = top
        current.built_through = this_month
        current.built_at = wall
        current.customers_rebuilt = len(ids)
        current.duration_ms = int((time.perf_counter() - started) * 1000)
        current.save()
    if rebuild_all:
        # Fresh planner statistics for the rebuilt tables (SQLite has none until ANALYZE).
        analyze([CustomerMonth, CustomerLife, MonthlySummary, CohortCell])
    return RefreshResult(
        customers=len(ids), rows=rows, seconds=time.perf_counter() - started, full=rebuild_all
    )


def _all_paying_customers() -> set[int]:
    return set(MrrMovement.objects.values_list("customer_id", flat=True).distinct())


def _changed_customers(*, after_id: int, since: datetime) -> set[int]:
    moved = MrrMovement.objects.filter(pk__gt=after_id).values_list("customer_id", flat=True)
    changed = Subscription.objects.filter(updated_at__gte=since).values_list(
        "customer_id", flat=True
    )
    return set(moved) | set(changed)


def _rebuild_customers(
    ids: list[int], *, now: datetime, this_month: date, wipe: bool
) -> tuple[int, date | None]:
    """Rewrite these customers' rows; returns rows written and the first month that changed."""
    old: dict[tuple[int, date], tuple[Any, ...]] = {}
    old_lives: set[tuple[Any, ...]] = set()
    if wipe:
        existing = CustomerMonth.objects.filter(customer_id__in=ids)
        for values in existing.values_list(*MonthRow._fields):
            old[(values[0], values[1])] = _normal(values[:MONTH_COLUMNS])
        lives_qs = CustomerLife.objects.filter(customer_id__in=ids)
        old_lives = set(lives_qs.values_list("customer_id", "started_at", "churned_at"))
        existing._raw_delete(existing.db)  # type: ignore[attr-defined]
        lives_qs._raw_delete(lives_qs.db)  # type: ignore[attr-defined]
    movements: dict[int, list[tuple[datetime, str, Decimal, Decimal]]] = defaultdict(list)
    for row in (
        MrrMovement.objects.filter(customer_id__in=ids)
        .order_by("customer_id", "at", "pk")
        .values_list("customer_id", "at", "kind", "amount", "mrr_after")
    ):
        movements[row[0]].append(row[1:])
    subs: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for sub in Subscription.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "status", "interval", "started_at", "trial_ends_at", "canceled_at"
    ):
        subs[sub[0]].append(sub[1:])
    months: list[MonthRow] = []
    lives: list[tuple[int, datetime, datetime | None]] = []
    for customer_id, moves in movements.items():
        life, rows = customer_months(
            customer_id, moves, subs.get(customer_id, []), now=now, this_month=this_month
        )
        if life is not None:
            lives.append(life)
            months.extend(rows)
    _insert(CustomerLife, ("customer_id", "started_at", "churned_at"), lives)
    _insert(CustomerMonth, MonthRow._fields, months)
    if not wipe:
        return len(months), None
    new = {(r.customer_id, r.month): _normal(tuple(r)[:MONTH_COLUMNS]) for r in months}
    changed = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
    first = min((month for _cid, month in changed), default=None)
    if first is None and set(lives) != old_lives:
        first = this_month  # only a life changed (e.g. a churn date): survival must refresh
    return len(months), first


# The columns that say which months changed. The quarter- and year-end MRR of earlier months
# follow from later months; the period summaries are rebuilt from the period's start anyway.
MONTH_COLUMNS = 13


def _normal(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row's values in one comparable form (dates as dates, money as cents)."""
    return tuple(
        db_money(v) if isinstance(v, (Decimal, float)) else db_date(v) if isinstance(v, str) else v
        for v in values
    )


def _insert(model: Any, columns: tuple[str, ...], rows: list[Any]) -> None:
    """Plain multi-row inserts: Django's bulk_create spends most of its time preparing values."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy(model, columns, rows)
        return
    ops = connection.ops
    fields = [model._meta.get_field(c.removesuffix("_id")) for c in columns]
    prep: list[Any] = []
    for f in fields:
        kind = f.get_internal_type()
        if kind == "DateTimeField":
            prep.append(ops.adapt_datetimefield_value)
        elif kind == "DateField":
            prep.append(ops.adapt_datefield_value)
        elif kind == "DecimalField" and connection.vendor == "sqlite":
            prep.append(str)
        else:
            prep.append(None)
    table = model._meta.db_table
    names = ", ".join(f.column for f in fields)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    convert = [(i, fn) for i, fn in enumerate(prep) if fn is not None]
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 5000):
            batch = []
            for row in rows[i : i + 5000]:
                values = list(row)
                for j, fn in convert:
                    if values[j] is not None:
                        values[j] = fn(values[j])
                batch.append(values)
            cursor.executemany(sql, batch)


def _copy(model: Any, columns: tuple[str, ...], rows: list[Any]) -> None:
    """PostgreSQL: COPY the rows (psycopg adapts dates, datetimes and decimals itself)."""
    names = ", ".join(model._meta.get_field(c.removesuffix("_id")).column for c in columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


class MonthRow(NamedTuple):
    """A ``CustomerMonth`` row before it is written (same column names)."""

    customer_id: int
    month: date
    cohort: date
    age: int
    mrr_start: Decimal
    mrr_end: Decimal
    new: Decimal
    expansion: Decimal
    contraction: Decimal
    churn: Decimal
    reactivation: Decimal
    renewals_due: int
    renewals_done: int
    quarter_end_mrr: Decimal
    year_end_mrr: Decimal


def customer_months(
    customer_id: int,
    moves: list[tuple[datetime, str, Decimal, Decimal]],
    subs: Iterable[tuple[Any, ...]],
    *,
    now: datetime,
    this_month: date,
) -> tuple[tuple[int, datetime, datetime | None] | None, list[MonthRow]]:
    """One customer's life and month rows from its ledger (ordered by time) and subscriptions."""
    first = next((m for m in moves if m[3] > 0), None)
    if first is None:
        return None, []
    cohort = month_of(first[0])
    churned_at = next((m[0] for m in moves if m[0] >= first[0] and m[1] == "churn"), None)
    life = (customer_id, first[0], churned_at)
    per_month: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    paying = False  # paying just before the instant of the movement being read
    instant: datetime | None = None
    closes = False  # the movements at ``instant`` close the month before (see change_month)
    for at, kind, amount, after in moves:
        if at != instant:
            instant, closes = at, paying
        per_month[change_month(at, paying_before=closes)][kind] += amount
        paying = after > 0
    renewals = _renewals(subs, now=now, cohort=cohort)
    partial: list[tuple[Any, ...]] = []
    levels: dict[date, Decimal] = {}  # MRR at the end of every month from the cohort on
    level = ZERO
    month = cohort
    while month <= this_month:
        moved = per_month.get(month)
        due, done = renewals.get(month, (0, 0))
        start = level
        if moved:
            level = start + sum(moved.values(), ZERO)
        levels[month] = level
        if start > 0 or level > 0 or moved or due:
            get = (moved or {}).get
            partial.append(
                (
                    customer_id,
                    month,
                    cohort,
                    months_between(cohort, month),
                    start,
                    level,
                    get("new", ZERO),
                    get("expansion", ZERO),
                    get("contraction", ZERO),
                    get("churn", ZERO),
                    get("reactivation", ZERO),
                    due,
                    done,
                )
            )
        month = next_month(month)
    rows = [
        MonthRow._make(
            (
                *values,
                levels[min(period_last(values[1], "quarter"), this_month)],
                levels[min(period_last(values[1], "year"), this_month)],
            )
        )
        for values in partial
    ]
    return life, rows


MONTHS_PER_TERM = {"month": 1, "quarter": 3, "year": 12}


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _term_end(start: datetime, interval: str, k: int) -> datetime:
    """The end of the k-th term from ``start``: same day of month (clamped), or k weeks."""
    if interval == "week":
        return start + timedelta(weeks=k)
    total = start.month - 1 + k * MONTHS_PER_TERM.get(interval, 1)
    year, month = start.year + total // 12, total % 12 + 1
    return start.replace(year=year, month=month, day=min(start.day, _days_in_month(year, month)))


def _renewals(
    subs: Iterable[tuple[Any, ...]], *, now: datetime, cohort: date
) -> dict[date, tuple[int, int]]:
    """Per month: renewal dates that fell due (up to now) and how many of them renewed.

    A subscription's paid terms start when its trial ends (or when it started) and repeat
    every billing interval from that anchor. Each term end before the subscription was
    canceled renewed; the first term end at or after the cancellation did not.
    """
    out: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    now = now.astimezone(UTC)
    for status, interval, started_at, trial_ends_at, canceled_at in subs:
        if status in (SubscriptionStatus.TRIALING, SubscriptionStatus.INCOMPLETE):
            continue
        paid_from = max(started_at, trial_ends_at) if trial_ends_at else started_at
        if canceled_at is not None and canceled_at <= paid_from:
            continue  # ended before it was ever paid (a lost trial)
        paid_from = paid_from.astimezone(UTC)
        end = canceled_at if status == SubscriptionStatus.CANCELED else None
        for k in range(1, 1200):  # a century of monthly terms; guards bad data
            due = _term_end(paid_from, interval, k)
            if due > now:
                break
            # A renewal due at 00:00 on the 1st closes the month before (like a churn there).
            cell = out[change_month(due, paying_before=True)]
            cell[0] += 1
            if end is None or due < end:
                cell[1] += 1
            else:
                break
    return {m: (v[0], v[1]) for m, v in out.items() if m >= cohort}


# --- summaries -------------------------------------------------------------------------

DIMENSION_SQL = {
    Dimension.ALL: "''",
    Dimension.PLAN: "COALESCE(CAST(c.plan_id AS TEXT), '')",
    Dimension.CHANNEL: "c.channel",
    Dimension.COUNTRY: "c.country",
}

SUMMARY_COLUMNS = (
    "customers_start",
    "customers_end",
    "retained",
    "churned",
    "expanded",
    "mrr_start",
    "mrr_end",
    "new",
    "expansion",
    "contraction",
    "churn",
    "reactivation",
    "base_expansion",
    "base_contraction",
    "base_churn",
    "renewals_due",
    "renewals_done",
    "acquired",
    "acquisition_cost",
    "acquired_costed",
)

# One aggregate per summary column over customer-month rows ``cm`` joined to customers ``c``.
SUMMARY_SELECT = """
    SUM(CASE WHEN cm.mrr_start > 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN cm.mrr_end > 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN cm.mrr_start > 0 AND cm.mrr_end > 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN cm.mrr_start > 0 AND cm.mrr_end = 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN cm.mrr_start > 0 AND cm.mrr_end > cm.mrr_start THEN 1 ELSE 0 END),
    SUM(cm.mrr_start), SUM(cm.mrr_end),
    SUM(cm.new), SUM(cm.expansion), SUM(cm.contraction), SUM(cm.churn), SUM(cm.reactivation),
    SUM(CASE WHEN cm.mrr_start > 0 AND cm.mrr_end > cm.mrr_start
        THEN cm.mrr_end - cm.mrr_start ELSE 0 END),
    SUM(CASE WHEN cm.mrr_start > 0 AND cm.mrr_end > 0 AND cm.mrr_end < cm.mrr_start
        THEN cm.mrr_start - cm.mrr_end ELSE 0 END),
    SUM(CASE WHEN cm.mrr_start > 0 AND cm.mrr_end = 0 THEN cm.mrr_start ELSE 0 END),
    SUM(cm.renewals_due), SUM(cm.renewals_done),
    SUM(CASE WHEN cm.age = 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN cm.age = 0 THEN COALESCE(c.acquisition_cost, 0) ELSE 0 END),
    SUM(CASE WHEN cm.age = 0 AND c.acquisition_cost IS NOT NULL THEN 1 ELSE 0 END)
"""


def tables() -> dict[str, str]:
    from tend.customers.models import Customer

    return {
        # SQLite: walk the customer-month rows first (by month) and look customers up by
        # key; left alone it walks all customers through an index instead.
        "join": "CROSS JOIN" if connection.vendor == "sqlite" else "JOIN",
        "cm": CustomerMonth._meta.db_table,
        "c": Customer._meta.db_table,
        "summary": MonthlySummary._meta.db_table,
    }


def _summaries_rebuild(*, since: date | None, this_month: date) -> None:
    """Re-add the period summaries, all of them or those from month ``since`` on."""
    old = MonthlySummary.objects.filter(period="month")
    if since is not None:
        old = old.filter(month__gte=since)
    old._raw_delete(old.db)  # type: ignore[attr-defined]
    t = tables()
    columns = ", ".join(SUMMARY_COLUMNS)
    where = "" if since is None else "WHERE cm.month >= %s"
    with connection.cursor() as cursor:
        for dimension, expr in DIMENSION_SQL.items():
            cursor.execute(
                f"INSERT INTO {t['summary']} (period, dimension, value, month, {columns}) "
                f"SELECT 'month', %s, {expr}, cm.month, {SUMMARY_SELECT} "
                f"FROM {t['cm']} cm {t['join']} {t['c']} c ON c.id = cm.customer_id {where} "
                f"GROUP BY {_group(expr)}cm.month",
                [dimension.value] if since is None else [dimension.value, since],
            )
    for period in ("quarter", "year"):
        _period_summaries_rebuild(period, since=since, this_month=this_month)


FLOW_COLUMNS = (
    "new",
    "expansion",
    "contraction",
    "churn",
    "reactivation",
    "renewals_due",
    "renewals_done",
    "acquired",
    "acquisition_cost",
    "acquired_costed",
)
BASE_COLUMNS = (
    "retained",
    "churned",
    "expanded",
    "base_expansion",
    "base_contraction",
    "base_churn",
)


def period_base_select(end: str) -> str:
    """Retained … base churn of customers active at a period's start (rows ``cm`` there)."""
    return (
        f"SUM(CASE WHEN {end} > 0 THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {end} = 0 THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {end} > cm.mrr_start THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {end} > cm.mrr_start THEN {end} - cm.mrr_start ELSE 0 END), "
        f"SUM(CASE WHEN {end} > 0 AND {end} < cm.mrr_start THEN cm.mrr_start - {end} ELSE 0 END), "
        f"SUM(CASE WHEN {end} = 0 THEN cm.mrr_start ELSE 0 END)"
    )


def _period_summaries_rebuild(period: str, *, since: date | None, this_month: date) -> None:
    """Quarters or years from the monthly summaries: flows add up, the start and end come
    from the first and last month, and the start customers' fate from their period-end MRR."""
    first = None if since is None else period_first(since, period)
    old = MonthlySummary.objects.filter(period=period)
    monthly = MonthlySummary.objects.filter(period="month")
    if first is not None:
        old = old.filter(month__gte=first)
        monthly = monthly.filter(month__gte=first)
    old._raw_delete(old.db)  # type: ignore[attr-defined]
    groups: dict[tuple[str, str, date], dict[date, Any]] = defaultdict(dict)
    for row in monthly.values("dimension", "value", "month", *SUMMARY_COLUMNS):
        key = (row["dimension"], row["value"], period_first(row["month"], period))
        groups[key][row["month"]] = row
    end_column = f"cm.{period}_end_mrr"
    starts = sorted({key[2] for key in groups})
    base: dict[tuple[str, str, date], tuple[Any, ...]] = {}
    t = tables()
    if starts:
        marks = ", ".join(["%s"] * len(starts))
        with connection.cursor() as cursor:
            for dimension, expr in DIMENSION_SQL.items():
                cursor.execute(
                    f"SELECT {expr}, cm.month, {period_base_select(end_column)} "
                    f"FROM {t['cm']} cm {t['join']} {t['c']} c ON c.id = cm.customer_id "
                    f"WHERE cm.mrr_start > 0 AND cm.month IN ({marks}) "
                    f"GROUP BY {_group(expr)}cm.month",
                    starts,
                )
                for value, month, *figures in cursor.fetchall():
                    base[(dimension.value, value, db_date(month))] = tuple(figures)
    rows: list[tuple[Any, ...]] = []
    for key, months in groups.items():
        start = key[2]
        last = min(period_last(start, period), this_month)
        head, tail = months.get(start), months.get(last)
        values: dict[str, Any] = {c: sum(m[c] or 0 for m in months.values()) for c in FLOW_COLUMNS}
        values["customers_start"] = head["customers_start"] if head else 0
        values["mrr_start"] = head["mrr_start"] if head else ZERO
        values["customers_end"] = tail["customers_end"] if tail else 0
        values["mrr_end"] = tail["mrr_end"] if tail else ZERO
        values.update(zip(BASE_COLUMNS, base.get(key, (0, 0, 0, 0, 0, 0)), strict=True))
        rows.append((period, *key, *(values[c] for c in SUMMARY_COLUMNS)))
    _insert(MonthlySummary, ("period", "dimension", "value", "month", *SUMMARY_COLUMNS), rows)


def _cohorts_rebuild(*, since: date | None) -> None:
    """Re-add the cohort cells, all of them or those of months from ``since`` on."""
    old = CohortCell.objects.all()
    if since is not None:
        old = old.filter(month__gte=since)
    old._raw_delete(old.db)  # type: ignore[attr-defined]
    cells: list[tuple[Any, ...]] = []
    for dimension, expr in DIMENSION_SQL.items():
        for value, cohort, age, *rest in cohort_rows(expr, "", [], since=since):
            month = add_months(cohort, age)
            cells.append((dimension.value, value, cohort, age, month, *rest))
    columns = ("dimension", "value", "cohort", "age", "month", "cohort_customers")
    _insert(CohortCell, (*columns, "cohort_mrr", "active", "mrr"), cells)


def cohort_rows(
    group: str, where: str, params: list[Any], *, since: date | None = None
) -> list[tuple[Any, ...]]:
    """(group value, cohort, age, cohort size, cohort first MRR, still paying, MRR) rows.

    ``where`` (SQL over ``cm`` and ``c``) picks the customers; ``since`` limits the cells
    (not the cohort sizes) to months from then on.
    """
    t = tables()
    and_where = f"AND {where}" if where else ""
    cell_where = [w for w in (where, "cm.month >= %s" if since else "") if w]
    where_sql = f"WHERE {' AND '.join(cell_where)}" if cell_where else ""
    cell_params = [*params, since] if since else params
    with connection.cursor() as cursor:
        if since is None:
            # One scan: each cohort's size and first MRR are its age-0 cell's row count and
            # "new" movements (the same rows the separate query below would add up).
            cursor.execute(
                f"SELECT {group}, cm.cohort, cm.age, "
                f"SUM(CASE WHEN cm.mrr_end > 0 THEN 1 ELSE 0 END), SUM(cm.mrr_end), "
                f"COUNT(*), SUM(cm.new) "
                f"FROM {t['cm']} cm {t['join']} {t['c']} c ON c.id = cm.customer_id {where_sql} "
                f"GROUP BY {_group(group)}cm.cohort, cm.age",
                cell_params,
            )
            cells = cursor.fetchall()
            sizes = {
                (r[0], db_date(r[1])): (int(r[5]), db_money(r[6])) for r in cells if int(r[2]) == 0
            }
        else:
            cursor.execute(
                f"SELECT {group}, cm.cohort, COUNT(*), SUM(cm.new) "
                f"FROM {t['cm']} cm {t['join']} {t['c']} c ON c.id = cm.customer_id "
                f"WHERE cm.age = 0 {and_where} GROUP BY {_group(group)}cm.cohort",
                params,
            )
            sizes = {(r[0], db_date(r[1])): (int(r[2]), db_money(r[3])) for r in cursor.fetchall()}
            cursor.execute(
                f"SELECT {group}, cm.cohort, cm.age, "
                f"SUM(CASE WHEN cm.mrr_end > 0 THEN 1 ELSE 0 END), SUM(cm.mrr_end) "
                f"FROM {t['cm']} cm {t['join']} {t['c']} c ON c.id = cm.customer_id {where_sql} "
                f"GROUP BY {_group(group)}cm.cohort, cm.age",
                cell_params,
            )
            cells = cursor.fetchall()
    out = []
    for value, cohort, age, active, mrr, *_size in cells:
        key = (value, db_date(cohort))
        size, base = sizes.get(key, (0, ZERO))
        out.append((value, key[1], int(age), size, base, int(active or 0), db_money(mrr)))
    return out


def _group(expr: str) -> str:
    """``expr, `` for a GROUP BY list; nothing for the constant of the "all" dimension."""
    return "" if expr == "''" else f"{expr}, "


def db_date(value: Any) -> date:
    """A date column as a ``date`` (SQLite hands back text from raw SQL)."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.date()
    assert isinstance(value, date)
    return value


def db_money(value: Any) -> Decimal:
    """A money column or SUM as a ``Decimal`` to the cent (None, from an empty SUM, is 0)."""
    if value is None:
        return ZERO
    return Decimal(str(value)).quantize(Decimal("0.01"))
