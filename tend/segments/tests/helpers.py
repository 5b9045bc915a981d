"""Customers built straight in the database for condition tests (every field a condition reads)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tend.accounts.models import User
from tend.billing.models import MrrMovement, Plan, Subscription
from tend.customers.models import Customer, Tag, TimelineEntry
from tend.health.models import CustomerHealth
from tend.segments.models import Segment

NOW = datetime(2026, 6, 15, 12, 30, tzinfo=UTC)
MIDNIGHT = datetime(2026, 6, 15, tzinfo=UTC)


def plan(code: str, price: str = "49") -> Plan:
    return Plan.objects.create(code=code, name=code.title(), price=Decimal(price))


def customer(
    name: str,
    *,
    tags: tuple[str, ...] = (),
    subscriptions: tuple[dict[str, Any], ...] = (),
    timeline: tuple[tuple[str, datetime], ...] = (),
    movements: tuple[tuple[str, datetime], ...] = (),
    health: dict[str, Any] | None = None,
    **fields: Any,
) -> Customer:
    c = Customer.objects.create(name=name, **fields)
    for tag in tags:
        c.tags.add(Tag.objects.get_or_create(name=tag)[0])
    for sub in subscriptions:
        Subscription.objects.create(customer=c, **sub)
    for kind, at in timeline:
        TimelineEntry.objects.create(customer=c, kind=kind, at=at)
    for kind, at in movements:
        MrrMovement.objects.create(
            customer=c, kind=kind, at=at, amount=Decimal(1), mrr_before=0, mrr_after=1
        )
    if health is not None:
        CustomerHealth.objects.create(customer=c, day=NOW.date(), **health)
    return c


# --- a random dataset for the property test --------------------------------------------------

NAMES = ["Acme", "acme tools", "Beta Corp", "cobalt", "Delta_1", "100% Growth", "Echo", "foxtrot"]
INDUSTRIES = ["", "", "SaaS", "saas tools", "Retail", "Health_care"]
STAGES = ["prospect", "trial", "onboarding", "established", "at_risk", "churned"]
TAGS = ["vip", "beta", "Trial", "churn-risk"]
CHANNELS = ["", "organic", "referral"]
COUNTRIES = ["", "US", "DE"]
MRRS = ["0", "0", "49", "49.50", "100.10", "250", "1000"]
STATUSES = ["active", "past_due", "canceled", "trialing", "unpaid"]
TIMELINE_KINDS = ["note", "call", "email", "meeting", "stage", "system"]
MOVEMENT_KINDS = ["new", "expansion", "contraction", "churn"]
# Trait values of mixed JSON types, so a condition reading one type meets all the others.
TRAIT_VALUES: dict[str, list[Any]] = {
    "seats": [12, 3.5, 0, -2, "12", "many", True, None, 250, 10],
    "region": ["emea", "EMEA", "apac", "", 5, False, "Em"],
    "beta": [True, False, "true", 1, 0, None],
    "renew": [
        "2026-06-15",
        "2026-06-14",
        "2026-07-01",
        "2026-06-15T10:00:00Z",
        "2025-01-01",
        "2026-13-45",
        "soon",
        20260615,
        "",
    ],
    'we"ird': [1, 2, "x"],
    "größe": [3, "L", 7.25],
}


def around(rng: random.Random, base: datetime) -> datetime:
    """A moment near ``base``: often exactly N days away (the edges of the operators)."""
    days = rng.choice([0, 1, 6, 7, 8, 29, 30, 31, 89, 90, 365, 400])
    sign = rng.choice([-1, -1, 1])
    moment = base + sign * timedelta(days=days)
    if rng.random() < 0.4:
        moment += timedelta(hours=rng.choice([-13, -1, 1, 5]))
    if rng.random() < 0.2:
        moment = moment.replace(hour=0, minute=0)
    return moment


def random_dataset(seed: int, count: int = 40) -> dict[str, Any]:
    """``count`` customers with random values of every field, plus two saved segments."""
    rng = random.Random(seed)
    users = [User.objects.create(username=f"u{seed}_{i}") for i in range(2)]
    plans = [plan(f"p{seed}a"), plan(f"p{seed}b", "99")]
    for i in range(count):
        maybe = rng.random
        traits = {key: rng.choice(values) for key, values in TRAIT_VALUES.items() if maybe() < 0.8}
        traits = {k: v for k, v in traits.items() if v is not None or maybe() < 0.5}
        health = None
        if maybe() < 0.7:
            health = {
                "score": rng.choice([None, 0, 35, 50, 80, 100]),
                "colour": rng.choice(["", "red", "yellow", "green"]),
                "colour_since": rng.choice([None, date(2026, 6, 1), date(2026, 6, 15)]),
            }
        customer(
            f"{rng.choice(NAMES)} {i}",
            email=rng.choice(["", f"c{i}@example.com", f"C{i}@Acme.io"]),
            industry=rng.choice(INDUSTRIES),
            kind=rng.choice(["company", "person"]),
            stage=rng.choice(STAGES),
            plan=rng.choice([None, *plans]),
            owner=rng.choice([None, *users]),
            channel=rng.choice(CHANNELS),
            country=rng.choice(COUNTRIES),
            size=rng.choice([None, 1, 10, 49, 50, 250]),
            mrr=Decimal(rng.choice(MRRS)),
            signed_up_at=around(rng, NOW),
            first_paid_at=rng.choice([None, around(rng, NOW)]),
            last_seen_at=rng.choice([None, around(rng, NOW), NOW]),
            churned_at=rng.choice([None, None, around(rng, NOW)]),
            birthday=rng.choice([None, date(1990, 6, 15), date(2026, 6, 8), date(2026, 6, 15)]),
            traits=traits,
            tags=tuple(t for t in TAGS if maybe() < 0.3),
            subscriptions=tuple(
                {
                    "status": rng.choice(STATUSES),
                    "mrr": Decimal(rng.choice(MRRS)),
                    "current_period_end": rng.choice([None, NOW, around(rng, NOW)]),
                }
                for _ in range(rng.choice([0, 0, 1, 2]))
            ),
            timeline=tuple(
                (rng.choice(TIMELINE_KINDS), around(rng, NOW)) for _ in range(rng.choice([0, 1, 3]))
            ),
            movements=tuple(
                (rng.choice(MOVEMENT_KINDS), around(rng, NOW)) for _ in range(rng.choice([0, 1, 2]))
            ),
            health=health,
        )
    seg_a = Segment.objects.create(
        name=f"Paying {seed}", condition={"field": "mrr", "op": "gt", "value": 0}
    )
    seg_b = Segment.objects.create(
        name=f"Paying VIPs {seed}",
        condition={
            "all": [
                {"field": "segment", "op": "eq", "value": seg_a.pk},
                {"field": "tags", "op": "has", "value": "vip"},
            ]
        },
    )
    return {"users": users, "plans": plans, "segments": [seg_a, seg_b]}
