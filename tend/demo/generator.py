"""``demo_generate``: a believable business, generated in numpy and written in bulk.

Determinism: every random draw comes from ``numpy.random.Generator(PCG64)`` streams spawned
from one ``SeedSequence(seed)``, one stream per concern (people, names, engagement, lifecycle,
usage, extras), so the same seed gives the same data. Dates are laid out backwards from an
anchor day, ``end`` (default: today, UTC), and nothing is dated on or after it; the anchor only
moves the calendar, never the random draws. Pass ``end`` to reproduce a data set exactly on
another day. In a fresh database the ids are the same too: customers, contacts and
subscriptions get explicit ids from the first free one, other rows are inserted in a fixed
order (events and timeline in time order).

Passes: people → lifecycle (billing, one day at a time) → usage events (the same engagement
replayed) → stages (from observable history) → rows → rollups.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

import numpy as np
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from tend.accounts.models import AuditEntry, Role, User
from tend.activity.actions import rollups_rebuild
from tend.activity.models import Event
from tend.activity.partitions import partitions_cover
from tend.billing.actions import plan_upsert
from tend.billing.ledger import classify
from tend.billing.models import MrrMovement, Order, OrderStatus, Plan, Subscription
from tend.customers.models import (
    Channel,
    Contact,
    Customer,
    Kind,
    StageChange,
    Tag,
    TimelineEntry,
    TimelineKind,
)
from tend.demo.catalog import BUSINESSES, DEMO_PLAN_CODES, Business
from tend.demo.lifecycle import STATUS_NAMES, Life, simulate_lifecycle
from tend.demo.load import (
    DEMO_PREFIX,
    demo_customers,
    drop_unused_plans,
    flush_demo_data,
    insert_rows,
    next_id,
    reset_sequences,
)
from tend.demo.names import NameMaker
from tend.demo.people import People, make_people
from tend.demo.stages import Stages, derive_stages, usage_facts
from tend.demo.timebase import Timebase, format_dates, format_times
from tend.demo.usage import Usage, simulate_usage
from tend.lib.db import analyze
from tend.metrics.snapshots import snapshots_refresh

# Apps whose tables the generator fills; their statistics are refreshed after the load.
LOADED_APPS = ("customers", "billing", "activity")

PROPERTY_VARIANTS = 24
ORDER_EVENT = "Order Completed"


class DemoDataError(Exception):
    """The demo data cannot be generated as asked (bad arguments, or customers exist)."""


class Progress(Protocol):
    def phase(self, name: str, total: int) -> None: ...

    def advance(self, steps: int = 1) -> None: ...


class _Quiet:
    def phase(self, name: str, total: int) -> None:
        pass

    def advance(self, steps: int = 1) -> None:
        pass


# The audit action that records a demo generation (read by the data-quality page).
DEMO_AUDIT_ACTION = "demo.generate"


@dataclass(frozen=True)
class DemoSummary:
    business: str
    seed: int
    start: date
    end: date
    customers: int
    paying: int
    mrr: Decimal
    subscriptions: int
    movements: int
    orders: int
    contacts: int
    stage_changes: int
    timeline: int
    events: int
    rollups: int
    seconds: float
    fingerprint: str


def demo_generate(
    *,
    business: str,
    customers: int,
    months: int,
    seed: int,
    events_per_customer: float | None = None,
    end: date | None = None,
    flush: bool = False,
    progress: Progress | None = None,
) -> DemoSummary:
    """Generate a demo business into the database and return what was written."""
    started = time.perf_counter()
    biz = BUSINESSES.get(business)
    if biz is None:
        raise DemoDataError(f"business must be one of {', '.join(BUSINESSES)}; got {business!r}")
    if customers < 1:
        raise DemoDataError("customers must be at least 1")
    if not 1 <= months <= 120:
        raise DemoDataError("months must be between 1 and 120")
    if events_per_customer is not None and events_per_customer < 0:
        raise DemoDataError("events per customer cannot be negative")
    epc = biz.default_events_per_customer if events_per_customer is None else events_per_customer
    end = end or datetime.now(UTC).date()
    bar: Progress = progress or _Quiet()

    if flush:
        bar.phase("Deleting earlier demo data", 1)
        with transaction.atomic():
            flush_demo_data()
            drop_unused_plans(DEMO_PLAN_CODES - {p.code for p in biz.plans})
        bar.advance()
    elif Customer.objects.exists():
        raise DemoDataError(
            f"the database already has {Customer.objects.count():,} customers; "
            "run with --flush to replace the demo data, or use an empty database"
        )

    tb = Timebase.build(end=end, months=months)
    streams = np.random.SeedSequence(seed).spawn(6)
    rng_people, rng_names, seed_eng, seed_life, seed_usage, rng_extra = (
        np.random.Generator(np.random.PCG64(streams[0])),
        np.random.Generator(np.random.PCG64(streams[1])),
        streams[2],
        streams[3],
        streams[4],
        np.random.Generator(np.random.PCG64(streams[5])),
    )

    bar.phase("Inventing customers", 1)
    people = make_people(biz=biz, tb=tb, n=customers, rng=rng_people, names=NameMaker(rng_names))
    bar.advance()

    bar.phase("Simulating billing day by day", tb.days)
    life = simulate_lifecycle(
        biz=biz,
        tb=tb,
        signup_day=people.signup_day,
        signup_sec=people.signup_sec,
        tier=people.tier,
        seats=people.seats.copy(),
        base_rate=people.base_rate,
        engagement_seed=seed_eng,
        life_seed=seed_life,
        tick=bar.advance,
    )
    orders = _orders(biz, life, rng_extra)
    order_events = len(orders["cust"]) if biz.key != "saas" else 0

    bar.phase("Simulating product usage", tb.days)
    usage = simulate_usage(
        biz=biz,
        tb=tb,
        life=life,
        signup_day=people.signup_day,
        base_rate=people.base_rate,
        utc_offset_hours=people.utc_offset,
        contact_first=people.contact_first,
        contact_count=people.contact_count,
        target_events=max(epc * customers - order_events, 0.0),
        variants=PROPERTY_VARIANTS,
        engagement_seed=seed_eng,
        usage_seed=seed_usage,
        tick=bar.advance,
    )
    if order_events:
        usage = _with_order_events(biz, usage, orders, people)

    users = list(
        User.objects.filter(is_active=True, role__in=[Role.OWNER, Role.MEMBER])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    owner = (
        np.array(users)[rng_extra.integers(0, len(users), customers)]
        if users
        else np.zeros(customers, dtype=np.int64)
    )

    bar.phase("Deriving lifecycle stages", 1)
    facts = _concat(life.facts, usage_facts(usage.buckets, people.signup_day))
    stages = derive_stages(
        business=biz.key,
        facts=facts,
        n=customers,
        end_sec=tb.end_sec,
        chinese=people.chinese,
        has_owner=np.full(customers, bool(users)),
        rng=rng_extra,
    )
    bar.advance()

    ledger = _ledger(life)
    referred = _referrals(people, ledger, orders, rng_extra)
    value = ledger["mrr"] * 12 + np.bincount(
        orders["cust"], weights=orders["amount"], minlength=customers
    )
    vip = value >= np.quantile(value, 0.95) if value.max() > 0 else np.zeros(customers, bool)

    with transaction.atomic(), _big_sqlite_cache():
        _skip_deferred_fk_checks()
        written = _write(
            biz=biz,
            tb=tb,
            people=people,
            life=life,
            usage=usage,
            stages=stages,
            ledger=ledger,
            orders=orders,
            owner=owner if users else None,
            referred=referred,
            vip=vip,
            bar=bar,
        )
        bar.phase("Rebuilding daily rollups", 1)
        rollups = rollups_rebuild()
        bar.advance()
        # The data-quality page counts what arrived through the tracking API, imports and
        # webhooks; demo rows came through none of them, so it says plainly that they were
        # generated, and when.
        AuditEntry.objects.create(
            actor_label="tend demo-data",
            action=DEMO_AUDIT_ACTION,
            object_type="demo",
            object_id=biz.key,
            changes={
                "customers": customers,
                "events": len(usage.cust),
                "months": months,
                "seed": seed,
                "end": end.isoformat(),
            },
        )
    # After the commit, so the statistics describe the rows the next queries will see.
    analyze(
        model
        for label in LOADED_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    )
    # The revenue dashboards read monthly snapshots; build them now rather than leaving the
    # first dashboard visit to wait for the worker.
    bar.phase("Building metric snapshots", 1)
    snapshots_refresh(full=True)
    bar.advance()

    digest = hashlib.sha256()
    for arr in (usage.cust, usage.t, usage.name, usage.variant, usage.contact, ledger["mrr"]):
        digest.update(np.ascontiguousarray(arr).tobytes())
    digest.update(json.dumps([people.name, people.email, stages.final]).encode())
    digest.update(str(sorted(stages.changes)).encode())
    mrr_cents = int(ledger["mrr"].sum())
    return DemoSummary(
        business=biz.key,
        seed=seed,
        start=tb.start,
        end=tb.end,
        customers=customers,
        paying=int((ledger["mrr"] > 0).sum()),
        mrr=Decimal(mrr_cents) / 100,
        subscriptions=life.subs.n,
        movements=written["movements"],
        orders=len(orders["cust"]),
        contacts=len(people.contact_rows),
        stage_changes=len(stages.changes),
        timeline=written["timeline"],
        events=len(usage.cust),
        rollups=rollups,
        seconds=time.perf_counter() - started,
        fingerprint=digest.hexdigest()[:16],
    )


@contextmanager
def _big_sqlite_cache() -> Iterator[None]:
    """Let SQLite keep up to 1 GB of pages while loading: millions of index inserts otherwise
    thrash the default 64 MB cache. Memory is only taken as pages are used."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -1000000")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _skip_deferred_fk_checks() -> None:
    """On PostgreSQL, don't queue one foreign-key trigger per inserted row for COMMIT.

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so COPYing millions of rows queues
    millions of checks that run at COMMIT (a third of the run time). The generated rows point
    only at rows written in the same transaction, so for this transaction we switch triggers
    off with ``session_replication_role = replica``, as pg_restore does. That needs a superuser;
    other roles keep the checks (a savepoint absorbs the permission error). The test suite's
    SQLite run verifies every foreign key of the generated data.
    """
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        pass


# --- derived data ---------------------------------------------------------------------------


def _concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([a[k], b[k]]) for k in a}


def _orders(biz: Business, life: Life, rng: np.random.Generator) -> dict[str, Any]:
    """Amounts and line items for the lifecycle's orders (course sales, shop baskets)."""
    cust = life.orders["cust"]
    n = len(cust)
    amount = np.zeros(n)
    items: list[list[dict[str, Any]]] = []
    descriptions: list[str] = []
    products = biz.products
    if n and biz.key == "course":
        coupon = rng.random(n) < 0.2
        for i, p in enumerate(life.orders["product"].tolist()):
            sku, title, price = products[p]
            paid = (price * Decimal("0.8")).quantize(Decimal("0.01")) if coupon[i] else price
            amount[i] = float(paid)
            items.append([{"sku": sku, "name": title, "quantity": 1, "price": str(paid)}])
            descriptions.append(title)
    elif n:
        counts = 1 + rng.poisson(1.2, n)
        picks = rng.integers(0, len(products), counts.sum())
        qtys = 1 + (rng.random(counts.sum()) < 0.25)
        pos = 0
        for i, k in enumerate(counts.tolist()):
            basket: dict[str, dict[str, Any]] = {}
            total = Decimal(0)
            for j in range(pos, pos + k):
                sku, name, price = products[int(picks[j])]
                line = basket.setdefault(
                    sku, {"sku": sku, "name": name, "quantity": 0, "price": str(price)}
                )
                line["quantity"] += int(qtys[j])
                total += price * int(qtys[j])
            pos += k
            amount[i] = float(total)
            items.append(list(basket.values()))
            descriptions.append(f"{sum(x['quantity'] for x in basket.values())} items")
    refunded = rng.random(n) < 0.02
    return {
        "cust": cust,
        "t": life.orders["t"],
        "amount": amount,
        "items": items,
        "description": descriptions,
        "refunded": refunded,
    }


def _with_order_events(
    biz: Business, usage: Usage, orders: dict[str, Any], people: People
) -> Usage:
    """Add one "Order Completed" event per order (properties carry the order) in time order."""
    n = len(orders["cust"])
    cust = orders["cust"]
    contact = np.where(people.contact_count[cust] > 0, people.contact_first[cust], -1)
    t = np.concatenate([usage.t, orders["t"]])
    order = np.argsort(t, kind="stable")
    name_idx = np.full(n, len(biz.events))

    def merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])[order]

    last_seen = usage.last_seen.copy()
    np.maximum.at(last_seen, cust, orders["t"])
    return Usage(
        cust=merge(usage.cust, cust),
        t=t[order],
        name=merge(usage.name, name_idx),
        variant=merge(usage.variant, np.arange(n)),
        contact=merge(usage.contact, contact),
        buckets=usage.buckets,
        last_seen=last_seen,
    )


def _ledger(life: Life) -> dict[str, Any]:
    """Movements in ledger order with ``classify``'s kind; each customer's end MRR and dates."""
    m = life.moves
    order = np.lexsort((m["t"], m["cust"]))
    cust, sub, t, after = m["cust"][order], m["sub"][order], m["t"][order], m["mrr"][order]
    n = len(life.state)
    mrr = np.zeros(n, dtype=np.int64)
    first_paid = np.full(n, -1, dtype=np.int64)
    plan = np.full(n, -1, dtype=np.int64)
    rows: list[tuple[int, int, int, str, int, int]] = []
    had = np.zeros(n, dtype=bool)
    for c, s, when, a in zip(cust.tolist(), sub.tolist(), t.tolist(), after.tolist(), strict=True):
        before = int(mrr[c])
        kind = classify(
            before=Decimal(before) / 100, after=Decimal(a) / 100, had_mrr_before=bool(had[c])
        )
        if kind is None:
            continue
        rows.append((c, s, when, str(kind), before, a))
        if a > 0 and first_paid[c] < 0:
            first_paid[c] = when
        mrr[c] = a
        had[c] = True
        plan[c] = life.subs["plan"][s]
    return {"rows": rows, "mrr": mrr, "first_paid": first_paid, "plan": plan}


def _referrals(
    people: People, ledger: dict[str, Any], orders: dict[str, Any], rng: np.random.Generator
) -> np.ndarray:
    """Referred customers point at a random customer who was already paying when they joined."""
    n = len(people.signup_sec)
    paid = ledger["first_paid"].copy()
    if len(orders["cust"]):
        first_order = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_order, orders["cust"], orders["t"])
        paid = np.where(paid < 0, first_order, np.minimum(paid, first_order))
        paid[paid == np.iinfo(np.int64).max] = -1
    payers = np.flatnonzero(paid >= 0)
    by_time = payers[np.argsort(paid[payers], kind="stable")]
    times = paid[by_time]
    referred = np.full(n, -1, dtype=np.int64)
    want = np.array([c == Channel.REFERRAL for c in people.channel])
    for i in np.flatnonzero(want).tolist():
        k = int(np.searchsorted(times, people.signup_sec[i]))
        if k > 0:
            referred[i] = by_time[int(rng.integers(0, k))]
    return referred


# --- rows -------------------------------------------------------------------------------------


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _property_table(biz: Business, rng: np.random.Generator) -> list[list[str]]:
    table = []
    for spec in biz.events:
        variants = []
        for _ in range(PROPERTY_VARIANTS):
            props = {k: v[int(rng.integers(len(v)))] for k, v in spec.props.items()}
            variants.append(json.dumps(props, ensure_ascii=False))
        table.append(variants)
    return table


def _write(
    *,
    biz: Business,
    tb: Timebase,
    people: People,
    life: Life,
    usage: Usage,
    stages: Stages,
    ledger: dict[str, Any],
    orders: dict[str, Any],
    owner: np.ndarray | None,
    referred: np.ndarray,
    vip: np.ndarray,
    bar: Progress,
) -> dict[str, int]:
    n = len(people.name)
    currency = settings.TEND_CURRENCY
    epoch = tb.epoch
    written: dict[str, int] = {}

    plans = [
        plan_upsert(code=p.code, name=p.name, price=p.price, interval=p.interval, by=None)
        for p in biz.plans
    ]
    plan_ids = [p.pk for p in plans]
    base_customer = next_id(Customer)
    base_contact = next_id(Contact)
    base_sub = next_id(Subscription)
    cid = (np.arange(n) + base_customer).tolist()

    def times(arr: np.ndarray) -> list[str | None]:
        arr = np.asarray(arr, dtype=np.int64)
        text: list[str | None] = list(format_times(np.maximum(arr, 0), epoch))
        for i in np.flatnonzero(arr < 0).tolist():
            text[i] = None
        return text

    # Customers.
    bar.phase("Writing customers", n)
    signed = times(people.signup_sec)
    stage_at = times(np.maximum(stages.changed_at, people.signup_sec))
    first_paid_t = ledger["first_paid"].copy()
    if len(orders["cust"]):
        paid_orders = ~orders["refunded"]
        first_order = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_order, orders["cust"][paid_orders], orders["t"][paid_orders])
        has = first_order < np.iinfo(np.int64).max
        first_paid_t = np.where(
            has & ((first_paid_t < 0) | (first_order < first_paid_t)), first_order, first_paid_t
        )
    first_paid = times(first_paid_t)
    churned = times(stages.churned_at)
    last_seen = times(usage.last_seen)
    updated = times(np.maximum(stages.changed_at, people.signup_sec))
    birthdays = format_dates(people.birthday_day, tb.start) if biz.person_customers else None
    kind = Kind.PERSON if biz.person_customers else Kind.COMPANY
    mrr = ledger["mrr"].tolist()
    plan = ledger["plan"].tolist()
    owner_l = owner.tolist() if owner is not None else [None] * n
    referred_l = referred.tolist()
    cac = people.cac_cents.tolist()

    def customer_rows() -> Any:
        for i in range(n):
            yield (
                cid[i],
                kind,
                f"{DEMO_PREFIX}{cid[i]:07d}",
                people.name[i],
                people.email[i],
                people.phone[i],
                people.industry[i],
                people.size[i],
                people.country[i],
                plan_ids[plan[i]] if plan[i] >= 0 else None,
                people.channel[i],
                _money(cac[i]),
                cid[referred_l[i]] if referred_l[i] >= 0 else None,
                owner_l[i],
                birthdays[i] if birthdays else None,
                json.dumps(people.traits[i], ensure_ascii=False),
                stages.final[i],
                stage_at[i],
                signed[i],
                first_paid[i],
                churned[i],
                _money(mrr[i]),
                last_seen[i],
                signed[i],
                updated[i],
            )

    insert_rows(
        Customer,
        [
            "id", "kind", "external_id", "name", "email", "phone", "industry", "size",
            "country", "plan", "channel", "acquisition_cost", "referred_by", "owner",
            "birthday", "traits", "stage", "stage_changed_at", "signed_up_at", "first_paid_at",
            "churned_at", "mrr", "last_seen_at", "created_at", "updated_at",
        ],
        customer_rows(),
        tick=bar.advance,
    )  # fmt: skip

    # Tags.
    tag_names = sorted({t for tags in people.tags for t in tags} | {"vip"})
    existing = set(Tag.objects.filter(name__in=tag_names).values_list("name", flat=True))
    Tag.objects.bulk_create([Tag(name=t) for t in tag_names if t not in existing])
    tag_id = dict(Tag.objects.filter(name__in=tag_names).values_list("name", "pk"))
    vip_l = vip.tolist()
    through = Customer.tags.through
    insert_rows(
        through,
        ["customer", "tag"],
        (
            (cid[i], tag_id[t])
            for i in range(n)
            for t in (people.tags[i] + (["vip"] if vip_l[i] else []))
        ),
    )

    # Contacts.
    bar.phase("Writing contacts", len(people.contact_rows))
    created = times(people.signup_sec[np.array(people.contact_cust, dtype=np.int64)] + 60)
    insert_rows(
        Contact,
        ["id", "customer", "external_id", "name", "email", "phone", "title", "is_primary",
         "traits", "created_at", "marketing_consent", "consent_source"],
        (
            (base_contact + j, cid[c], f"{DEMO_PREFIX}u{base_contact + j}", row[0], row[1],
             row[2], row[3], row[4], "{}", created[j], "unknown", "")
            for j, (c, row) in enumerate(zip(people.contact_cust, people.contact_rows, strict=True))
        ),
        tick=bar.advance,
    )  # fmt: skip

    # Subscriptions.
    subs = life.subs
    bar.phase("Writing subscriptions and the MRR ledger", subs.n + len(ledger["rows"]))
    s_cust = subs["cust"].tolist()
    s_plan = subs["plan"].tolist()
    s_status = subs["status"].tolist()
    s_mrr = subs["mrr"].tolist()
    s_seats = subs["seats"].tolist()
    s_started = times(subs["started"])
    s_trial = times(subs["trial_end"])
    s_period = times(subs["period_end"])
    s_canceled = times(subs["canceled"])
    plan_specs = biz.plans

    def sub_rows() -> Any:
        for k in range(subs.n):
            spec = plan_specs[s_plan[k]]
            yield (
                base_sub + k, cid[s_cust[k]], plan_ids[s_plan[k]],
                f"{DEMO_PREFIX}sub{base_sub + k}", STATUS_NAMES[s_status[k]],
                _money(max(s_mrr[k], 0)), currency, spec.interval, max(s_seats[k], 1),
                s_started[k], s_trial[k], s_period[k], s_canceled[k], s_started[k],
                s_canceled[k] or s_started[k],
            )  # fmt: skip

    insert_rows(
        Subscription,
        ["id", "customer", "plan", "external_id", "status", "mrr", "currency", "interval",
         "quantity", "started_at", "trial_ends_at", "current_period_end", "canceled_at",
         "created_at", "updated_at"],
        sub_rows(),
        tick=bar.advance,
    )  # fmt: skip

    # MRR ledger, in time order.
    rows = sorted(ledger["rows"], key=lambda r: (r[2], r[0]))
    m_at = times(np.array([r[2] for r in rows], dtype=np.int64))
    written["movements"] = insert_rows(
        MrrMovement,
        ["customer", "subscription", "at", "kind", "amount", "mrr_before", "mrr_after",
         "currency"],
        (
            (cid[c], base_sub + s, m_at[j], kind_, _money(a - b), _money(b), _money(a), currency)
            for j, (c, s, _t, kind_, b, a) in enumerate(rows)
        ),
        tick=bar.advance,
    )  # fmt: skip

    # Orders.
    o_n = len(orders["cust"])
    if o_n:
        bar.phase("Writing orders", o_n)
        o_order = np.argsort(orders["t"], kind="stable")
        o_at = times(orders["t"][o_order])
        o_cust = orders["cust"][o_order].tolist()
        o_amount = orders["amount"][o_order].tolist()
        o_ref = orders["refunded"][o_order].tolist()
        o_items = [orders["items"][k] for k in o_order.tolist()]
        o_desc = [orders["description"][k] for k in o_order.tolist()]
        insert_rows(
            Order,
            ["customer", "external_id", "ordered_at", "amount", "currency", "status",
             "description", "items", "refunded_amount"],
            (
                (cid[o_cust[j]], f"{DEMO_PREFIX}ord{j + 1}", o_at[j], f"{o_amount[j]:.2f}",
                 currency, OrderStatus.REFUNDED if o_ref[j] else OrderStatus.PAID, o_desc[j],
                 json.dumps(o_items[j], ensure_ascii=False),
                 f"{o_amount[j]:.2f}" if o_ref[j] else "0.00")
                for j in range(o_n)
            ),
            tick=bar.advance,
        )  # fmt: skip

    # Stage history.
    changes = sorted(stages.changes, key=lambda r: (r[1], r[0]))
    bar.phase("Writing lifecycle history", len(changes))
    c_at = times(np.array([r[1] for r in changes], dtype=np.int64))
    insert_rows(
        StageChange,
        ["customer", "from_stage", "to_stage", "at", "by", "reason", "reason_data"],
        (
            (cid[c], old, new, c_at[j], None, "", why or "{}")
            for j, (c, _t, old, new, why) in enumerate(changes)
        ),
        tick=bar.advance,
    )

    # Timeline: created, contacts, stage moves, MRR changes, orders, notes — in time order.
    entries: list[tuple[int, int, str, int | None, str, str]] = []
    for i in range(n):
        entries.append((int(people.signup_sec[i]), i, TimelineKind.SYSTEM, None, "",
                        json.dumps({"msg": "customer_created"})))  # fmt: skip
    for j, c in enumerate(people.contact_cust):
        entries.append((int(people.signup_sec[c]) + 60, c, TimelineKind.SYSTEM, None, "",
                        json.dumps({"msg": "contact_added", "name": people.contact_rows[j][0]},
                                   ensure_ascii=False)))  # fmt: skip
    for c, when, old, new, why in stages.changes:
        if old:
            data = {"msg": "stage_changed", "from": old, "to": new}
            if why:
                data["reason"] = json.loads(why)
            entries.append((when, c, TimelineKind.STAGE, None, "", json.dumps(data)))
    for c, _s, when, kind_, b, a in ledger["rows"]:
        data = {"msg": "mrr_changed", "kind": kind_, "before": _money(b), "after": _money(a),
                "currency": currency}  # fmt: skip
        entries.append((when, c, TimelineKind.SUBSCRIPTION, None, "", json.dumps(data)))
    for c, when, amount in zip(orders["cust"].tolist(), orders["t"].tolist(),
                               orders["amount"].tolist(), strict=True):  # fmt: skip
        data = {"msg": "order_placed", "amount": f"{amount:.2f}", "currency": currency}
        entries.append((when, c, TimelineKind.ORDER, None, "", json.dumps(data)))
    for c, when, note_kind, body in stages.notes:
        entries.append((when, c, note_kind, owner_l[c], body, "{}"))
    entries.sort(key=lambda e: (e[0], e[1]))
    bar.phase("Writing timelines", len(entries))
    e_at = times(np.array([e[0] for e in entries], dtype=np.int64))
    written["timeline"] = insert_rows(
        TimelineEntry,
        ["customer", "kind", "at", "author", "title", "body", "data"],
        ((cid[e[1]], e[2], e_at[j], e[3], "", e[4], e[5]) for j, e in enumerate(entries)),
        tick=bar.advance,
    )

    # Events, in time order.
    total = len(usage.cust)
    bar.phase("Writing events", total)
    props = _property_table(biz, np.random.default_rng(len(biz.events)))
    if len(orders["cust"]) and biz.key != "saas":
        props.append(
            [
                json.dumps({"total": f"{a:.2f}", "currency": currency, "order": j + 1})
                for j, a in enumerate(orders["amount"].tolist())
            ]
        )
    names = [e.name for e in biz.events] + [ORDER_EVENT]
    name_obj = np.array(names, dtype=object)
    cust_ext = np.array([f"{DEMO_PREFIX}{c:07d}" for c in cid] or [""], dtype=object)
    contact_ext = np.array(
        [f"{DEMO_PREFIX}u{base_contact + j}" for j in range(len(people.contact_rows))] or [""],
        dtype=object,
    )
    chunk = 200_000
    event_fields = ["customer", "contact", "user_id", "anonymous_id", "name", "timestamp",
                    "properties", "message_id", "received_at", "source"]  # fmt: skip
    for lo in range(0, total, chunk):
        hi = min(lo + chunk, total)
        ec = usage.cust[lo:hi]
        ect = usage.contact[lo:hi]
        en = usage.name[lo:hi]
        ev = usage.variant[lo:hi]
        stamps = format_times(usage.t[lo:hi], epoch)
        has = ect >= 0
        contact_id = np.where(has, ect + base_contact, 0).astype(object)
        contact_id[~has] = None
        user = np.where(has, contact_ext[np.maximum(ect, 0)], cust_ext[ec])
        prop = [props[a][b] for a, b in zip(en.tolist(), ev.tolist(), strict=True)]
        rows_ev = zip(
            (ec + base_customer).tolist(),
            contact_id.tolist(),
            user.tolist(),
            itertools.repeat(""),
            name_obj[en].tolist(),
            stamps,
            prop,
            itertools.repeat(None),
            stamps,
            itertools.repeat("demo"),
            strict=False,
        )
        # PostgreSQL: the months' partitions first, so the events do not land in DEFAULT.
        months = {date(int(m[:4]), int(m[5:7]), 1) for m in {s[:7] for s in stamps}}
        partitions_cover(months, ahead=settings.TEND_EVENTS_PARTITIONS_AHEAD)
        insert_rows(Event, event_fields, rows_ev)
        bar.advance(hi - lo)

    reset_sequences([Customer, Contact, Subscription, Plan])
    return written


def demo_data_exists() -> bool:
    return demo_customers().exists()


__all__ = ["DemoDataError", "DemoSummary", "demo_generate"]
