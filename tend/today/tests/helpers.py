"""Builders for the Today tests: hand-made customers, plug-in signals, a fixed day."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from tend.customers.models import Customer
from tend.factories import make_customer
from tend.today.actions import today_date
from tend.today.signals import Finding, Signal, signals

# Today (UTC): the page, API and CLI show the list as of the real today.
DAY = today_date()


def at(day: date, hour: int = 12) -> datetime:
    """A moment on ``day`` in UTC."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def days_ago(n: int, hour: int = 12) -> datetime:
    return at(DAY - timedelta(days=n), hour)


def customer(name: str, *, mrr: str = "0", **fields: Any) -> Customer:
    made = make_customer(name)
    values = {"mrr": Decimal(mrr), **fields}
    Customer.objects.filter(pk=made.pk).update(**values)
    made.refresh_from_db()
    return made


def fixed_signal(name: str, findings: dict[int, tuple[str, float]], order: int = 100) -> Signal:
    """A signal finding ``{customer_id: (key, risk)}`` whatever the day."""

    def find(as_of: date) -> Iterator[Finding]:
        for customer_id, (key, risk) in findings.items():
            yield Finding(customer_id=customer_id, key=key, risk=risk, params={"k": key})

    return Signal(
        name=name, label=name, find=find, describe=lambda p: f"{name} {p.get('k')}", order=order
    )


@contextmanager
def only_signals(*plugged: Signal) -> Iterator[None]:
    """Run with exactly these signals registered; the real ones come back afterwards."""
    saved = list(signals)
    for entry in saved:
        signals.unregister(entry.name)
    for entry in plugged:
        signals.register(entry)
    try:
        yield
    finally:
        for entry in plugged:
            signals.unregister(entry.name)
        for entry in saved:
            signals.register(entry)


@contextmanager
def findings(table: dict[str, dict[int, tuple[str, float]]]) -> Iterator[None]:
    """Signals by name, each with its findings: ``{"a": {customer_id: (key, risk)}}``."""
    with only_signals(*(fixed_signal(name, found) for name, found in table.items())):
        yield
