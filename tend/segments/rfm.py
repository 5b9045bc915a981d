"""RFM scores for businesses that sell by order (shops, course schools): who buys recently,
often and for much.

For a day ``as_of`` (its end, UTC) and a window of ``window_days`` days ending with it, the
half-open period [as_of + 1 − window_days, as_of + 1) at 00:00 UTC:

- **R**ecency: whole days from the customer's last paid order (ever, before the end of
  ``as_of``) to ``as_of``; an order placed on ``as_of`` is 0 days ago.
- **F**requency: paid orders in the window.
- **M**onetary: revenue of those orders in the window, net of partial refunds (amount −
  refunded amount), each converted to the reporting currency at the rate in force on its day
  (tend.billing.currency). An order no rate covers still counts in R and F and is left out of
  M; the run counts how many (``RfmRun.unconverted``).

Paid orders only: a pending order has not been paid and a refunded one was paid back. Every
customer with at least one paid order before the end of ``as_of`` is scored.

**Quintile scores** 1–5 (5 best) among the customers scored: for F and M a customer's score is
1 + ⌊5 × (customers with a strictly lower value) ÷ (customers scored)⌋, for R the same with
"strictly more days since the last order". Distinct values so fall into five equal fifths,
and equal values always share one score (the lowest their rank reaches), so a score never
depends on a customer's id or on the order rows come in.

**Groups** from R and FM = (F + M) / 2 rounded half up (``RFM_GROUP_RULES``; docs/behaviour.md).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.billing.currency import CurrencyError, RateBook, reporting_currency
from tend.billing.models import Order, OrderStatus
from tend.segments.behaviour_models import CustomerRfm, RfmGroup, RfmRun

RFM_WINDOW_DAYS = 365
WINDOW_DAYS_MIN = 7
WINDOW_DAYS_MAX = 3650

# (group, R from, R to, FM from, FM to), both ends included. Every (R, FM) pair of 1–5 × 1–5
# falls in exactly one rectangle (tested).
RFM_GROUP_RULES: tuple[tuple[str, int, int, int, int], ...] = (
    (RfmGroup.CHAMPIONS, 5, 5, 4, 5),
    (RfmGroup.LOYAL, 3, 4, 4, 5),
    (RfmGroup.POTENTIAL_LOYALISTS, 4, 5, 2, 3),
    (RfmGroup.NEW, 5, 5, 1, 1),
    (RfmGroup.PROMISING, 4, 4, 1, 1),
    (RfmGroup.NEED_ATTENTION, 3, 3, 3, 3),
    (RfmGroup.ABOUT_TO_SLEEP, 3, 3, 1, 2),
    (RfmGroup.AT_RISK, 1, 2, 3, 4),
    (RfmGroup.CANT_LOSE, 1, 2, 5, 5),
    (RfmGroup.HIBERNATING, 1, 2, 1, 2),
)


class BehaviourError(ValueError):
    """A value for RFM or usage clusters is refused: ``field`` names it ("" when no single
    field is at fault, e.g. too little data), ``message`` says why in the reader's language."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message
        self.code = code


class RfmError(BehaviourError):
    """A parameter of an RFM run is out of range."""


def fm_score(f: int, m: int) -> int:
    """(F + M) / 2 rounded half up: 4 and 5 give 5, 3 and 4 give 4."""
    return (f + m + 1) // 2


def rfm_group(r: int, f: int, m: int) -> str:
    """The group of a customer with scores ``r``, ``f`` and ``m`` (see RFM_GROUP_RULES)."""
    fm = fm_score(f, m)
    for group, r_lo, r_hi, fm_lo, fm_hi in RFM_GROUP_RULES:
        if r_lo <= r <= r_hi and fm_lo <= fm <= fm_hi:
            return str(group)
    raise ValueError(f"r, f, m: scores must be 1–5, got {r}, {f}, {m}")


def quintile_scores(values: Sequence[Any], *, higher_is_better: bool = True) -> list[int]:
    """Score each value 1–5 by where it stands among all of them (see the module docstring)."""
    n = len(values)
    ordered = sorted(values)
    scores = []
    for value in values:
        if higher_is_better:
            beaten = bisect_left(ordered, value)  # strictly lower values
        else:
            beaten = n - bisect_right(ordered, value)  # strictly higher values
        scores.append(min(5, 1 + (5 * beaten) // n))
    return scores


@dataclass(frozen=True)
class RfmRow:
    customer_id: int
    recency_days: int
    frequency: int
    monetary: Decimal
    r: int
    f: int
    m: int

    @property
    def score(self) -> str:
        return f"{self.r}{self.f}{self.m}"

    @property
    def group(self) -> str:
        return rfm_group(self.r, self.f, self.m)


@dataclass(frozen=True)
class RfmResult:
    rows: list[RfmRow]
    orders: int
    unconverted: int


def _end_of(as_of: date) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)


EARLIEST_AS_OF = date(2000, 1, 1)


def as_of_check(as_of: Any) -> date:
    """``as_of`` as a day from 2000-01-01 to today (UTC), or today when None; else an error
    naming it (a day in the future has no data yet)."""
    today = timezone.now().astimezone(UTC).date()
    if as_of is None:
        return today
    if isinstance(as_of, datetime) or not isinstance(as_of, date):
        raise BehaviourError("as_of", _("give a day as YYYY-MM-DD."))
    if not EARLIEST_AS_OF <= as_of <= today:
        raise BehaviourError(
            "as_of",
            _("give a day from %(first)s to today (%(today)s).")
            % {"first": EARLIEST_AS_OF.isoformat(), "today": today.isoformat()},
            code="range",
        )
    return as_of


def window_check(window_days: Any) -> int:
    """``window_days`` as an int in range, else RfmError naming it."""
    if isinstance(window_days, bool) or not isinstance(window_days, int):
        raise RfmError("window_days", _("give a whole number of days."))
    if not WINDOW_DAYS_MIN <= window_days <= WINDOW_DAYS_MAX:
        raise RfmError(
            "window_days",
            _("give %(low)s to %(high)s days.") % {"low": WINDOW_DAYS_MIN, "high": WINDOW_DAYS_MAX},
        )
    return window_days


@dataclass
class OrderRevenue:
    orders: dict[int, int]  # paid orders per customer
    amounts: dict[int, Decimal]  # their revenue net of refunds, in the reporting currency
    unconverted: int  # orders no exchange rate covers: counted in ``orders`` only


def order_revenue(*, start: datetime, end: datetime) -> OrderRevenue:
    """Paid orders and their net revenue per customer for orders placed in [start, end):
    orders in the reporting currency summed in the database, others converted one by one at
    the rate of their day (one more query, plus the rates)."""
    paid = Order.objects.filter(
        status=OrderStatus.PAID, ordered_at__gte=start, ordered_at__lt=end
    ).order_by()
    net = ExpressionWrapper(
        F("amount") - F("refunded_amount"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )
    home = reporting_currency()
    counts: dict[int, int] = defaultdict(int)
    amounts: dict[int, Decimal] = defaultdict(Decimal)
    for customer_id, count, total in (
        paid.filter(currency__iexact=home)
        .values("customer_id")
        .annotate(n=Count("pk"), total=Sum(net))
        .values_list("customer_id", "n", "total")
    ):
        counts[customer_id] += count
        amounts[customer_id] += total or Decimal(0)
    unconverted = 0
    foreign = paid.exclude(currency__iexact=home)
    currencies = set(foreign.values_list("currency", flat=True).distinct())
    if currencies:
        book = RateBook.load(currencies)
        for customer_id, at, amount, currency in (
            foreign.annotate(net=net)
            .values_list("customer_id", "ordered_at", "net", "currency")
            .iterator(chunk_size=5000)
        ):
            counts[customer_id] += 1
            try:
                amounts[customer_id] += book.convert(amount, currency, at)
            except CurrencyError:
                unconverted += 1
    return OrderRevenue(orders=dict(counts), amounts=dict(amounts), unconverted=unconverted)


def rfm_compute(*, as_of: date, window_days: int = RFM_WINDOW_DAYS) -> RfmResult:
    """Every ordering customer's R, F, M values and scores as of the end of ``as_of``. Reads
    three queries (last orders, window totals in the reporting currency, other currencies'
    orders) plus the rates; writes nothing."""
    window_check(window_days)
    as_of = as_of_check(as_of)
    end = _end_of(as_of)
    start = end - timedelta(days=window_days)
    paid = Order.objects.filter(status=OrderStatus.PAID, ordered_at__lt=end).order_by()
    last = dict(
        paid.values("customer_id")
        .annotate(last=Max("ordered_at"))
        .values_list("customer_id", "last")
    )
    if not last:
        return RfmResult(rows=[], orders=0, unconverted=0)
    revenue = order_revenue(start=start, end=end)
    frequency, monetary = revenue.orders, revenue.amounts
    ids = sorted(last)
    day_end = as_of
    recency = [max(0, (day_end - last[i].astimezone(UTC).date()).days) for i in ids]
    freq = [frequency.get(i, 0) for i in ids]
    money = [monetary.get(i, Decimal(0)) for i in ids]
    r_scores = quintile_scores(recency, higher_is_better=False)
    f_scores = quintile_scores(freq)
    m_scores = quintile_scores(money)
    rows = [
        RfmRow(
            customer_id=i,
            recency_days=recency[k],
            frequency=freq[k],
            monetary=money[k],
            r=r_scores[k],
            f=f_scores[k],
            m=m_scores[k],
        )
        for k, i in enumerate(ids)
    ]
    return RfmResult(rows=rows, orders=sum(frequency.values()), unconverted=revenue.unconverted)


def rfm_refresh(as_of: date | None = None, *, window_days: int = RFM_WINDOW_DAYS) -> RfmRun:
    """Compute and store every customer's RFM scores as of ``as_of`` (default today, UTC),
    replacing the previous ones in one transaction; customers with no paid order lose theirs.
    Returns the run. Safe to run again: the latest run is the one in force."""
    as_of = as_of_check(as_of)
    result = rfm_compute(as_of=as_of, window_days=window_days)
    with transaction.atomic():
        run = RfmRun.objects.create(
            as_of=as_of,
            window_days=window_days,
            currency=reporting_currency(),
            customers=len(result.rows),
            orders=result.orders,
            unconverted=result.unconverted,
        )
        CustomerRfm.objects.all().delete()
        CustomerRfm.objects.bulk_create(
            [
                CustomerRfm(
                    customer_id=row.customer_id,
                    run=run,
                    as_of=as_of,
                    recency_days=row.recency_days,
                    frequency=row.frequency,
                    monetary=row.monetary,
                    r=row.r,
                    f=row.f,
                    m=row.m,
                    score=row.score,
                    group=row.group,
                )
                for row in result.rows
            ],
            batch_size=2000,
        )
        # Keep the history of runs short: the rows of older runs are gone anyway.
        old = RfmRun.objects.exclude(pk=run.pk).order_by("-computed_at", "-pk")[30:]
        RfmRun.objects.filter(pk__in=[r.pk for r in old]).delete()
    return run


def rfm_pipeline_step(as_of: date) -> dict[str, int]:
    """The daily pipeline's RFM step: refresh the scores; counts for the step's record."""
    run = rfm_refresh(as_of)
    return {"customers": run.customers, "orders": run.orders, "unconverted": run.unconverted}
