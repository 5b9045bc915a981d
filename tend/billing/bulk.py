"""The MRR ledger's bulk writer: bring many customers' MRR and movements in step after their
subscriptions were loaded (imports, Stripe backfills call it; they never write the ledger).

The same rules as ``billing.actions.customer_mrr_sync`` (``billing.ledger.classify``, and
``customers_churn_at_zero_mrr`` for the stage), for many customers at once. A customer with no
MRR history yet gets its history replayed from the subscriptions' start and cancel dates, so a
backfill shows when MRR really moved; anyone else gets one movement now. Either way the
movements sum to ``Customer.mrr``.

MRR in another currency is converted as ``customer_mrr_sync`` converts it: at every point of
the history, each live subscription's MRR times the rate in force that day, rounded to the
cent, then added up. Writers call ``rate_gaps`` first and refuse the rows it names, so the sync
itself never meets a missing rate; if it does anyway, it raises CurrencyError before writing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import groupby

from django.db.models import Exists, OuterRef

from tend.accounts.models import User
from tend.billing.currency import CurrencyError, RateBook, reporting_currency
from tend.billing.ledger import CENT, classify
from tend.billing.models import MRR_STATUSES, MrrMovement, Subscription, SubscriptionStatus
from tend.changes.actions import changes_record_bulk
from tend.changes.models import ChangeKind
from tend.customers.models import Customer
from tend.lib.db import chunks, insert_objects
from tend.lib.updates import update_rows

CHUNK = 500
# Customers computed and written together: the movements, their outbox rows and the customers'
# new MRR go out in one statement each per batch (an import's whole batch of rows).
SYNC_BATCH = 5_000


def _replayed(sub: Subscription) -> bool:
    """Whether a customer's replayed history includes this subscription."""
    if sub.mrr <= 0:
        return False
    if sub.status in MRR_STATUSES:
        return True
    return (
        sub.status == SubscriptionStatus.CANCELED
        and sub.canceled_at is not None
        and sub.canceled_at > sub.started_at
    )


def _replay(subs: list[Subscription]) -> list[tuple[datetime, Subscription, bool]]:
    """(moment, subscription, starts) for every start and end of a replayed subscription."""
    points: list[tuple[datetime, Subscription, bool]] = []
    for sub in subs:
        if not _replayed(sub):
            continue
        points.append((sub.started_at, sub, True))
        if sub.status not in MRR_STATUSES and sub.canceled_at is not None:
            points.append((sub.canceled_at, sub, False))
    return sorted(points, key=lambda p: p[0])


def _value(live: Iterable[Subscription], at: datetime, book: RateBook) -> Decimal:
    """The live subscriptions' MRR in the reporting currency on ``at``, each to the cent."""
    total = sum((book.convert(s.mrr, s.currency, at) for s in live), Decimal(0))
    return total.quantize(CENT)


def rate_needed_on(sub: Subscription, *, replay: bool, now: datetime) -> datetime | None:
    """The first moment ``customers_mrr_sync_bulk`` converts this subscription's MRR (None:
    never).

    A rate that covers this moment covers every later one (the latest rate on or before a day
    is used), so it is the one moment to check: the start, for a customer whose history is
    replayed; ``now``, for a live subscription of anyone else.
    """
    if sub.mrr <= 0 or sub.currency.upper() == reporting_currency():
        return None
    if replay:
        return sub.started_at if _replayed(sub) else None
    return now if sub.status in MRR_STATUSES else None


def replaying(customer_ids: Iterable[int]) -> set[int]:
    """The customers whose MRR history ``customers_mrr_sync_bulk`` replays: no movement yet,
    MRR zero."""
    ids = sorted(set(customer_ids))
    found: set[int] = set()
    moved = MrrMovement.objects.filter(customer=OuterRef("pk"))
    for chunk in chunks(ids, CHUNK):
        found.update(
            Customer.objects.filter(pk__in=chunk, mrr=0)
            .exclude(Exists(moved))
            .values_list("pk", flat=True)
        )
    return found


@dataclass
class RateGaps:
    """Which pending rows ``customers_mrr_sync_bulk`` could not convert, and why."""

    rows: dict[int, CurrencyError] = field(default_factory=dict)  # row number → the gap


def rate_gaps(*, pending: list[tuple[int, Subscription]], now: datetime) -> RateGaps:
    """The rows (number, subscription about to be written) that must be refused for a missing
    exchange rate, so that ``customers_mrr_sync_bulk`` on the rest never meets one.

    A row is refused when its own subscription cannot be converted, or when another
    subscription of the same customer that is already stored (and not replaced by an accepted
    row) cannot: that customer's MRR could not be recomputed. A row with ``customer_id`` None
    (a customer a dry run would create) is a customer with no history. Reads only.
    """
    gaps = RateGaps()
    reporting = reporting_currency()
    customer_ids = sorted({s.customer_id for _n, s in pending if s.customer_id is not None})
    stored: list[Subscription] = []
    for chunk in chunks(customer_ids, CHUNK):
        stored.extend(
            Subscription.objects.filter(customer_id__in=chunk)
            .exclude(currency=reporting)
            .filter(mrr__gt=0)
        )
    if not stored and all(s.currency.upper() == reporting for _n, s in pending):
        return gaps  # one currency: nothing to convert
    book = RateBook.load()
    replay = replaying(customer_ids)

    def gap(sub: Subscription) -> CurrencyError | None:
        first = rate_needed_on(
            sub, replay=sub.customer_id is None or sub.customer_id in replay, now=now
        )
        if first is None:
            return None
        try:
            book.rate(sub.currency, first)
        except CurrencyError as exc:
            return exc
        return None

    while True:
        accepted = [(n, s) for n, s in pending if n not in gaps.rows]
        replaced = {s.pk for _n, s in accepted if s.pk is not None}
        blocked: dict[int, CurrencyError] = {}
        for sub in stored:
            if sub.pk not in replaced and sub.customer_id not in blocked:
                error = gap(sub)
                if error is not None:
                    blocked[sub.customer_id] = error
        refused = 0
        for number, sub in accepted:
            error = gap(sub) or blocked.get(sub.customer_id)  # type: ignore[arg-type]
            if error is not None:
                gaps.rows[number] = error
                refused += 1
        if not refused:  # refusing a row can bring its stored version back into play
            return gaps


def customers_mrr_sync_bulk(
    *, customer_ids: list[int], now: datetime, by: User | None = None, label: str = ""
) -> dict[int, tuple[Decimal, Decimal]]:
    """Recompute MRR for these customers and record movements; returns {id: (before, after)}.

    Raises CurrencyError (from the chunk being computed, before it writes) when a rate is
    missing; writers avoid it by refusing the rows ``rate_gaps`` names first. Customers whose
    MRR reached zero are churned by ``customers_churn_at_zero_mrr``, as ``by``/``label``.
    """
    from tend.billing.actions import customers_churn_at_zero_mrr, mrr_change_data

    changes: dict[int, tuple[Decimal, Decimal]] = {}
    reporting = reporting_currency()
    book = RateBook.load()
    for batch in chunks(customer_ids, SYNC_BATCH):
        customers: list[Customer] = []
        subs: dict[int, list[Subscription]] = defaultdict(list)
        had: set[int] = set()
        for chunk in chunks(sorted(batch), CHUNK):  # lookups in slices; locks in pk order
            customers.extend(
                Customer.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
            )
            for sub in Subscription.objects.filter(customer_id__in=chunk).order_by(
                "started_at", "pk"
            ):
                subs[sub.customer_id].append(sub)
            had.update(
                MrrMovement.objects.filter(customer_id__in=chunk)
                .values_list("customer_id", flat=True)
                .distinct()
            )
        movements: list[MrrMovement] = []
        churned: list[tuple[Customer, datetime]] = []
        for customer in customers:
            live = [s for s in subs[customer.pk] if s.status in MRR_STATUSES]
            before = customer.mrr
            running, had_mrr = before, customer.pk in had
            first_paid: datetime | None = None
            last: tuple[str, datetime] | None = None
            if customer.pk not in had and before == 0:
                points = _replay(subs[customer.pk])
                valued_at = points[-1][0] if points else now
            else:
                points = []
                valued_at = now
            after = _value(live, valued_at, book)
            steps: list[tuple[datetime, Decimal, Subscription | None]] = []
            if points:
                current: dict[int, Subscription] = {}
                for at, group in groupby(points, key=lambda p: p[0]):
                    items = list(group)
                    for _at, sub, starts in items:
                        if starts:
                            current[sub.pk] = sub
                        else:
                            current.pop(sub.pk, None)
                    steps.append((at, _value(current.values(), at, book), items[-1][1]))
            else:
                steps.append((now, after, live[0] if live else None))
            for at, new, moved in steps:
                kind = classify(before=running, after=new, had_mrr_before=had_mrr)
                if kind is not None:
                    movements.append(
                        MrrMovement(
                            customer=customer,
                            subscription=moved,
                            at=at,
                            kind=kind,
                            amount=new - running,
                            mrr_before=running,
                            mrr_after=new,
                            currency=reporting,
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
                            currency=reporting,
                        )
                    )
                    last = (kind, now)
            if before != after:
                changes[customer.pk] = (before, after)
            customer.mrr = after
            if customer.first_paid_at is None and first_paid is not None:
                customer.first_paid_at = first_paid
            top = max(live, key=lambda s: book.convert(s.mrr, s.currency, valued_at), default=None)
            if top is not None and top.plan_id:
                customer.plan_id = top.plan_id
            customer.updated_at = now
            if last is not None and last[0] == "churn":
                churned.append((customer, last[1]))
        insert_objects(MrrMovement, movements)  # COPY on PostgreSQL
        changes_record_bulk(
            (
                m.customer_id,
                ChangeKind.MRR,
                f"mrr:{m.pk}",
                mrr_change_data(m),
                m.at,
            )
            for m in movements
        )
        update_rows(Customer, ["mrr", "first_paid_at", "plan", "updated_at"], customers)
        customers_churn_at_zero_mrr(moves=churned, by=by, label=label)
    return changes
