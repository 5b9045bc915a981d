"""A hand-made ledger whose monthly logo churn the goal tests move across 2 %, and a real
SMTP server (aiosmtpd) that email tests point Django at.

The ledger: 50 customers on a $100 monthly plan since 2 Dec 2025, so 50 are active at the
start of February and of March 2026. Nobody leaves in February. "Today" is 20 Mar 2026;
each ``churn`` cancels one more customer on a March day before that.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from typing import Any

import dj_email_url
from aiosmtpd.controller import Controller

from tend.billing.actions import subscription_cancel, subscription_create
from tend.billing.models import Plan, Subscription
from tend.customers.models import Customer
from tend.factories import make_customer, make_plan
from tend.metrics.snapshots import snapshots_refresh

TODAY = date(2026, 3, 20)
NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
CUSTOMERS = 50


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, tzinfo=UTC)


@dataclass
class Ledger:
    plan: Plan
    subscriptions: list[Subscription]
    churned: list[Subscription] = field(default_factory=list)

    def churn(self, day: int) -> Customer:
        """Cancel the next customer's subscription on ``day`` March and refresh snapshots."""
        subscription = self.subscriptions[len(self.churned)]
        subscription_cancel(subscription=subscription, by=None, at=at(3, day))
        self.churned.append(subscription)
        snapshots_refresh(now=NOW)
        return subscription.customer

    def win_back(self, day: int) -> None:
        """The last churned customer subscribes again on ``day`` March (so did not churn)."""
        customer = self.churned.pop().customer
        subscription_create(customer=customer, plan=self.plan, by=None, at=at(3, day))
        snapshots_refresh(now=NOW)


def build_ledger(customers: int = CUSTOMERS) -> Ledger:
    plan = make_plan("basic", "100")
    subscriptions = [
        subscription_create(
            customer=make_customer(channel="organic" if i % 2 else "paid_search"),
            plan=plan,
            by=None,
            at=datetime(2025, 12, 2, 9, tzinfo=UTC),
        )
        for i in range(customers)
    ]
    snapshots_refresh(now=NOW)
    return Ledger(plan, subscriptions)


# --- a real SMTP server --------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(settings: Any) -> Iterator[_Inbox]:
    """Run an SMTP server on localhost and point Django's email settings at it, exactly as
    ``TEND_EMAIL_URL=smtp://127.0.0.1:<port>`` would."""
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        parsed = dj_email_url.parse(f"smtp://127.0.0.1:{port}")
        settings.EMAIL_BACKEND = parsed["EMAIL_BACKEND"]
        settings.EMAIL_HOST = parsed["EMAIL_HOST"]
        settings.EMAIL_PORT = parsed["EMAIL_PORT"]
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        yield inbox
    finally:
        controller.stop()


def free_port() -> int:
    """A localhost port nothing listens on (for "the mail server is down" tests)."""
    return _free_port()
