"""Pass 2: product-usage events, drawn from each customer's replayed engagement.

A customer's expected events on a day are scale × base rate × usage level × e^z × weekday
factor, where the usage level comes from the lifecycle pass (trial, paying, a short tail after
churn, nothing after that) and z is the hidden engagement, replayed from its seed. ``scale`` is
chosen so the total matches the requested average per customer.

Events of one customer-day form one session of one contact: a start time drawn from the
business's local-hour profile (shifted by the customer's time zone) and gaps of about two
minutes. Deeply engaged customers use the deeper features more often.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tend.demo.catalog import Business
from tend.demo.engagement import Engagement
from tend.demo.lifecycle import Life
from tend.demo.timebase import DAY, Timebase

BUCKET_DAYS = 30


@dataclass
class Usage:
    cust: np.ndarray
    t: np.ndarray  # seconds in the window, sorted ascending
    name: np.ndarray  # index into Business.events
    variant: np.ndarray  # which precomputed properties variant
    contact: np.ndarray  # index into the contacts table, -1 for none
    buckets: np.ndarray  # customers × 30-day buckets: event counts
    last_seen: np.ndarray  # per customer, -1 when never seen


def simulate_usage(
    *,
    biz: Business,
    tb: Timebase,
    life: Life,
    signup_day: np.ndarray,
    base_rate: np.ndarray,
    utc_offset_hours: np.ndarray,
    contact_first: np.ndarray,
    contact_count: np.ndarray,
    target_events: float,
    variants: int,
    engagement_seed: np.random.SeedSequence,
    usage_seed: np.random.SeedSequence,
    tick: Callable[[], None] | None = None,
) -> Usage:
    n = len(signup_day)
    rng = np.random.Generator(np.random.PCG64(usage_seed))
    eng = Engagement(engagement_seed, signup_day)
    raw_total = float(life.raw_intensity.sum())
    scale = target_events / raw_total if raw_total > 0 else 0.0
    weekday = np.array(biz.weekday_usage)
    buckets = np.zeros((n, tb.days // BUCKET_DAYS + 1), dtype=np.int32)
    level = np.zeros(n)
    days_c: list[np.ndarray] = []
    cust_c: list[np.ndarray] = []
    count_c: list[np.ndarray] = []
    deep_c: list[np.ndarray] = []
    for t in range(tb.days):
        for idx, value in life.level_changes.get(t, []):
            level[idx] = value
        z = eng.step(t)
        active = np.flatnonzero(level > 0)
        if len(active):
            lam = scale * base_rate[active] * level[active] * np.exp(z[active])
            k = rng.poisson(lam * weekday[tb.weekday[t]])
            hit = k > 0
            who, k = active[hit], k[hit]
            buckets[who, t // BUCKET_DAYS] += k.astype(np.int32)
            cust_c.append(who)
            count_c.append(k)
            days_c.append(np.full(len(who), t, dtype=np.int64))
            deep_c.append(z[who] > 0.3)
        if tick is not None:
            tick()

    if not cust_c:
        empty = np.zeros(0, dtype=np.int64)
        return Usage(empty, empty, empty, empty, empty, buckets, np.full(n, -1, dtype=np.int64))
    sess_cust = np.concatenate(cust_c)
    sess_count = np.concatenate(count_c)
    sess_day = np.concatenate(days_c)
    sess_deep = np.concatenate(deep_c)
    sessions = len(sess_cust)

    # One session per customer-day: local start hour → UTC, one contact throughout.
    hours = np.array(biz.hour_usage)
    local = rng.choice(24, size=sessions, p=hours / hours.sum()) * 3600 + rng.integers(
        0, 3600, sessions
    )
    start = (local - (utc_offset_hours[sess_cust] * 3600).astype(np.int64)) % DAY
    has = contact_count[sess_cust] > 0
    pick = np.where(
        rng.random(sessions) < 0.55,
        0,
        (rng.random(sessions) * np.maximum(contact_count[sess_cust], 1)).astype(np.int64),
    )
    sess_contact = np.where(has, contact_first[sess_cust] + pick, -1)

    total = int(sess_count.sum())
    cust = np.repeat(sess_cust, sess_count)
    first_index = np.cumsum(sess_count) - sess_count
    position = np.arange(total) - np.repeat(first_index, sess_count)
    gaps = rng.exponential(110.0, total).astype(np.int64) + 5
    gaps[position == 0] = 0
    cum = np.cumsum(gaps)
    offset = cum - np.repeat(cum[first_index], sess_count)
    sec = np.minimum(np.repeat(start, sess_count) + offset, DAY - 1)
    t_all = np.repeat(sess_day, sess_count) * DAY + sec

    light = np.cumsum([e.light for e in biz.events])
    deep = np.cumsum([e.deep for e in biz.events])
    u = rng.random(total)
    deep_ev = np.repeat(sess_deep, sess_count)
    name = np.where(
        deep_ev,
        np.searchsorted(deep / deep[-1], u, side="right"),
        np.searchsorted(light / light[-1], u, side="right"),
    )
    name = np.minimum(name, len(biz.events) - 1)
    # Most sessions open with the first event (Logged In, Lesson Started, Product Viewed).
    opens = (position == 0) & (rng.random(total) < 0.6)
    name[opens] = 0
    variant = rng.integers(0, variants, total)
    contact = np.repeat(sess_contact, sess_count)

    order = np.argsort(t_all, kind="stable")
    t_sorted = t_all[order]
    cust_sorted = cust[order]
    last_seen = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_seen, cust_sorted, t_sorted)
    return Usage(
        cust=cust_sorted,
        t=t_sorted,
        name=name[order],
        variant=variant[order],
        contact=contact[order],
        buckets=buckets,
        last_seen=last_seen,
    )
