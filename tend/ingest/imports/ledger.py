"""Bringing customers' MRR and the MRR movement ledger in step after subscriptions were loaded.

The same rules as ``billing.actions.customer_mrr_sync`` (``billing.ledger.classify``), for many
customers at once. A customer with no MRR history yet gets its history replayed from the
subscriptions' start and cancel dates, so a backfill shows when MRR really moved; anyone else
gets one movement now. Either way the movements sum to ``Customer.mrr``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from itertools import groupby

from django.conf import settings

from tend.billing.ledger import CENT, classify
from tend.billing.models import MRR_STATUSES, MrrMovement, Subscription, SubscriptionStatus
from tend.customers.models import Customer, Stage

CHUNK = 500


def _replay(subs: list[Subscription]) -> list[tuple[datetime, Decimal, Subscription]]:
    points: list[tuple[datetime, Decimal, Subscription]] = []
    for sub in subs:
        if sub.mrr <= 0:
            continue
        if sub.status in MRR_STATUSES:
            points.append((sub.started_at, sub.mrr, sub))
        elif (
            sub.status == SubscriptionStatus.CANCELED
            and sub.canceled_at is not None
            and sub.canceled_at > sub.started_at
        ):
            points.append((sub.started_at, sub.mrr, sub))
            points.append((sub.canceled_at, -sub.mrr, sub))
    return sorted(points, key=lambda p: p[0])


def mrr_sync_bulk(*, customer_ids: list[int], now: datetime) -> dict[int, tuple[Decimal, Decimal]]:
    """Recompute MRR for these customers and record movements; returns {id: (before, after)}."""
    from tend.customers.actions import customer_change_stage

    changes: dict[int, tuple[Decimal, Decimal]] = {}
    for start in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[start : start + CHUNK]
        customers = list(Customer.objects.select_for_update().filter(pk__in=chunk).order_by("pk"))
        subs: dict[int, list[Subscription]] = defaultdict(list)
        for sub in Subscription.objects.filter(customer_id__in=chunk).order_by("started_at", "pk"):
            subs[sub.customer_id].append(sub)
        had = set(
            MrrMovement.objects.filter(customer_id__in=chunk)
            .values_list("customer_id", flat=True)
            .distinct()
        )
        movements: list[MrrMovement] = []
        churned: list[tuple[Customer, datetime]] = []
        for customer in customers:
            live = [s for s in subs[customer.pk] if s.status in MRR_STATUSES]
            after = sum((s.mrr for s in live), Decimal(0)).quantize(CENT)
            before = customer.mrr
            if customer.pk not in had and before == 0:
                points = _replay(subs[customer.pk])
            else:
                points = [(now, after - before, live[0] if live else None)]  # type: ignore[list-item]
            running, had_mrr = before, customer.pk in had
            first_paid: datetime | None = None
            last: tuple[str, datetime] | None = None
            for at, group in groupby(points, key=lambda p: p[0]):
                items = list(group)
                new = (running + sum((p[1] for p in items), Decimal(0))).quantize(CENT)
                kind = classify(before=running, after=new, had_mrr_before=had_mrr)
                if kind is not None:
                    movements.append(
                        MrrMovement(
                            customer=customer,
                            subscription=items[-1][2],
                            at=at,
                            kind=kind,
                            amount=new - running,
                            mrr_before=running,
                            mrr_after=new,
                            currency=settings.TEND_CURRENCY,
                        )
                    )
                    had_mrr = True
                    last = (kind, at)
                if new > 0 and first_paid is None:
                    first_paid = at
                running = new
            if running != after:  # only if history and state disagree; never leave them apart
                kind = classify(before=running, after=after, had_mrr_before=had_mrr)
                if kind is not None:
                    movements.append(
                        MrrMovement(
                            customer=customer,
                            at=now,
                            kind=kind,
                            amount=after - running,
                            mrr_before=running,
                            mrr_after=after,
                            currency=settings.TEND_CURRENCY,
                        )
                    )
                    last = (kind, now)
            if before != after:
                changes[customer.pk] = (before, after)
            customer.mrr = after
            if customer.first_paid_at is None and first_paid is not None:
                customer.first_paid_at = first_paid
            top = max(live, key=lambda s: s.mrr, default=None)
            if top is not None and top.plan_id:
                customer.plan_id = top.plan_id
            customer.updated_at = now
            if last is not None and last[0] == "churn" and customer.stage != Stage.CHURNED:
                churned.append((customer, last[1]))
        MrrMovement.objects.bulk_create(movements)
        Customer.objects.bulk_update(customers, ["mrr", "first_paid_at", "plan", "updated_at"])
        for customer, at in churned:
            customer_change_stage(
                customer=customer, stage=Stage.CHURNED, by=None, at=at, reason="MRR fell to zero"
            )
    return changes
