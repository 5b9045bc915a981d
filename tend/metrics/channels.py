"""Acquisition channels: CAC, ARPA, churn, LTV and LTV:CAC per channel over a range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from tend.customers.channels import channel_choices, channel_labels
from tend.metrics import formulas
from tend.metrics.filters import Filters
from tend.metrics.kpis import (
    PeriodKpis,
    channel_month_rows,
    empty_months,
    fill_period,
    gross_margin,
)
from tend.metrics.models import Dimension, MonthlySummary
from tend.metrics.snapshots import (
    SUMMARY_COLUMNS,
    db_date,
    db_money,
    month_of,
    tables,
)
from tend.metrics.value import lifetime_value


@dataclass
class ChannelRow:
    channel: str
    acquired: int
    acquisition_cost: Decimal
    customers: int
    mrr: Decimal
    cac: Decimal | None
    arpa: Decimal | None
    monthly_churn: float | None
    ltv: Decimal | None
    ltv_cac: float | None
    payback_months: float | None


def by_channel(filters: Filters, *, today: date | None = None) -> list[ChannelRow]:
    """CAC, ARPA, churn, LTV and LTV:CAC per acquisition channel over the range.

    One query for all channels: the per-channel summaries, or (with other customer filters)
    the matching customer-month rows added up per channel and month.
    """
    # The founder's channels (archived ones too: old customers came through them).
    # Every channel of the founder's list in their order (archived ones too: their customers
    # still count), then built-in codes a flushed or restored database may lack.
    ordered = [code for code, _label in channel_choices(include_archived=True)]
    chosen = filters.channels or tuple(dict.fromkeys([*ordered, *channel_labels()]))
    first, last = filters.months(today=today)
    last = min(last, month_of(today or timezone.now()))
    if last < first:
        return []
    rows: Any
    if filters.only_by_channel():
        rows = MonthlySummary.objects.filter(
            period="month",
            dimension=Dimension.CHANNEL,
            value__in=chosen,
            month__gte=first,
            month__lte=last,
        ).values_list("value", "month", *SUMMARY_COLUMNS)
    else:
        rows = channel_month_rows(filters, first, last)
    per_channel: dict[str, dict[date, PeriodKpis]] = {}
    for channel, month, *values in rows:
        months = per_channel.get(channel)
        if months is None:
            months = per_channel[channel] = empty_months(first, last)
        target = months.get(db_date(month))
        if target is not None:
            fill_period(target, values)
    margin = gross_margin()
    out: list[ChannelRow] = []
    for channel in chosen:
        if channel not in per_channel:
            continue
        monthly = [p.compute(gross_margin=margin) for p in per_channel[channel].values()]
        value = lifetime_value(monthly)
        end = monthly[-1]
        if not value["acquired"] and not end.customers_end and not end.customers_start:
            continue
        out.append(
            ChannelRow(
                channel=channel,
                acquired=value["acquired"],
                acquisition_cost=value["acquisition_cost"],
                customers=end.customers_end,
                mrr=end.mrr_end,
                cac=value["cac"],
                arpa=value["arpa"],
                monthly_churn=value["monthly_churn"],
                ltv=value["clv_simple"],
                ltv_cac=value["ltv_cac"],
                payback_months=value["cac_payback"],
            )
        )
    return out


@dataclass
class ChannelMonth:
    channel: str
    month: date
    acquired: int
    acquisition_cost: Decimal
    cac: Decimal | None


def cac_by_channel_month(filters: Filters, *, today: date | None = None) -> list[ChannelMonth]:
    """CAC per acquisition channel and month: Σ acquisition cost ÷ customers acquired.

    A customer is acquired in the month it first paid; its cost is ``acquisition_cost``.
    """
    first, last = filters.months(today=today)
    last = min(last, month_of(today or timezone.now()))
    out: list[ChannelMonth] = []
    if filters.only_by_channel():  # per-channel summaries
        rows: Any = (
            MonthlySummary.objects.filter(
                period="month",
                dimension=Dimension.CHANNEL,
                month__gte=first,
                month__lte=last,
                acquired__gt=0,
            )
            .filter(**({"value__in": filters.channels} if filters.channels else {}))
            .order_by("value", "month")
            .values_list("value", "month", "acquired", "acquisition_cost", "acquired_costed")
        )
    else:
        t = tables()
        where, params = filters.customer_sql("cm.customer_id")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.channel, cm.month, COUNT(*), SUM(COALESCE(c.acquisition_cost, 0)), "
                f"SUM(CASE WHEN c.acquisition_cost IS NOT NULL THEN 1 ELSE 0 END) "
                f"FROM {t['cm']} cm JOIN {t['c']} c ON c.id = cm.customer_id "
                f"WHERE cm.age = 0 AND cm.month >= %s AND cm.month <= %s AND {where} "
                f"GROUP BY c.channel, cm.month ORDER BY c.channel, cm.month",
                [first, last, *params],
            )
            rows = cursor.fetchall()
    for channel, month, acquired, cost, costed in rows:
        money = db_money(cost)
        out.append(
            ChannelMonth(
                channel=channel,
                month=db_date(month),
                acquired=int(acquired),
                acquisition_cost=money,
                cac=formulas.cac(acquisition_cost=money, customers_acquired=int(costed or 0)),
            )
        )
    return out
