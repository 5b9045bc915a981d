"""Small builders for tests and examples. They go through the actions, like real writes do."""

from __future__ import annotations

import itertools
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from tend.billing.actions import plan_upsert, subscription_create
from tend.billing.models import Plan, Subscription
from tend.customers.actions import contact_create, customer_create
from tend.customers.models import Contact, Customer

_seq = itertools.count(1)


def make_plan(code: str = "pro", price: str = "49", interval: str = "month", **kw: Any) -> Plan:
    return plan_upsert(
        code=code, name=kw.pop("name", code.title()), price=Decimal(price), interval=interval, **kw
    )


def make_customer(name: str | None = None, **fields: Any) -> Customer:
    n = next(_seq)
    fields.setdefault("external_id", f"cus_{n}")
    fields.setdefault("email", f"customer{n}@example.com")
    return customer_create(by=None, name=name or f"Customer {n}", **fields)


def make_contact(customer: Customer, name: str | None = None, **fields: Any) -> Contact:
    n = next(_seq)
    fields.setdefault("email", f"person{n}@example.com")
    return contact_create(customer=customer, by=None, name=name or f"Person {n}", **fields)


def make_subscription(
    customer: Customer, plan: Plan | None = None, at: datetime | None = None, **fields: Any
) -> Subscription:
    plan = plan or make_plan()
    return subscription_create(
        customer=customer, plan=plan, by=None, at=at or timezone.now(), **fields
    )
