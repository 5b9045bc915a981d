"""A small hand-made MRR ledger for the API, CLI and surfaces-agree tests.

Dates are counted back from the current month, because the API and the CLI read "today"
from the clock. Eight customers over six months cover new, expansion, contraction, churn
and reactivation, an annual plan, a referral, three channels, two countries and two tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from tend.billing.actions import subscription_cancel, subscription_create, subscription_update
from tend.billing.models import Plan, Subscription
from tend.customers.models import Customer
from tend.factories import make_customer, make_plan
from tend.metrics.snapshots import snapshots_refresh


def months_ago(k: int, day: int = 3) -> datetime:
    """Day ``day`` of the month ``k`` months back, 09:00 UTC (never in the future)."""
    now = timezone.now()
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    at = first - relativedelta(months=k) + timedelta(days=day - 1, hours=9)
    return min(at, now - timedelta(seconds=1))


@dataclass
class Ledger:
    basic: Plan
    pro: Plan
    biz: Plan
    customers: dict[str, Customer]


def build_ledger() -> Ledger:
    """Create the customers and their subscription history, then build the snapshots."""
    basic = make_plan("basic", "20")
    pro = make_plan("pro", "50")
    biz = make_plan("biz", "1200", interval="year")

    def customer(name: str, **fields: object) -> Customer:
        fields.setdefault("acquisition_cost", Decimal("30"))
        return make_customer(name, **fields)

    c: dict[str, Customer] = {}
    c["ada"] = customer("Ada", channel="referral", country="DE", tags=["vip", "eu"])
    c["bob"] = customer("Bob", channel="organic", country="US")
    c["cy"] = customer("Cy", channel="paid_search", country="US", tags=["vip"])
    c["dee"] = customer("Dee", channel="referral", country="DE", tags=["eu"])
    c["eve"] = customer("Eve", channel="organic", country="US")
    c["fay"] = customer("Fay", channel="paid_search", country="DE", referred_by=c["ada"])
    c["gus"] = customer("Gus", channel="referral", country="US", tags=["vip"])
    c["hal"] = customer("Hal", channel="organic", country="DE", acquisition_cost=None)

    def start(name: str, plan: Plan, k: int, day: int = 3) -> Subscription:
        return subscription_create(customer=c[name], plan=plan, by=None, at=months_ago(k, day))

    gus = start("gus", pro, 6)
    ada = start("ada", pro, 5)
    bob = start("bob", basic, 5, day=5)
    eve = start("eve", pro, 5, day=7)
    cy = start("cy", basic, 4)
    start("dee", biz, 3)
    start("fay", basic, 2)
    start("hal", basic, 0, day=1)

    subscription_update(subscription=ada, by=None, at=months_ago(3), quantity=2, mrr=Decimal(100))
    subscription_cancel(subscription=bob, by=None, at=months_ago(2, 10))
    subscription_cancel(subscription=eve, by=None, at=months_ago(3, 12))
    start("eve", pro, 1, day=2)  # reactivation
    subscription_update(subscription=cy, by=None, at=months_ago(1), mrr=Decimal(15))
    subscription_update(subscription=gus, by=None, at=months_ago(4), mrr=Decimal(40))
    snapshots_refresh()
    return Ledger(basic, pro, biz, {k: Customer.objects.get(pk=v.pk) for k, v in c.items()})
