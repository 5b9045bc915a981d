"""Pass 1: what each demo customer buys and when they leave, one simulated day at a time.

All customers move together (numpy over the customer axis, a Python loop over days), so
100,000 customers over two years take a second or two. Decisions lean on the customer's hidden
engagement (``engagement.py``): engaged trials convert, engaged customers add seats and
upgrade, and customers whose engagement has sagged cancel at renewal.

The output is facts, not rows: subscriptions and their MRR changes, orders, lifecycle facts
(``Fact``) and the days on which each customer's usage level changes (for the event pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from tend.billing.ledger import monthly_amount
from tend.demo.catalog import Business
from tend.demo.engagement import Engagement
from tend.demo.timebase import DAY, Timebase


class Fact(IntEnum):
    """Lifecycle facts, in the order they are applied when several share one second."""

    SIGNUP = 0  # payload: Start
    PAID = 1  # first paid, or a membership/box on top of purchases; payload: episode day
    REACTIVATE = 2  # paying again after churn; payload: episode day
    EXPAND = 3
    CONTRACT = 4
    RENEW_SOON = 5
    RENEWED = 6
    RISK = 7
    RECOVER = 8
    ADOPT = 9  # payload: episode day
    ESTABLISH = 10  # payload: episode day
    SETTLE = 11  # payload: day of the expansion
    ORDER = 12  # payload: n-th order
    CHURN = 13
    TRIAL_LOST = 14
    LAPSED = 15


class Start(IntEnum):
    TRIAL = 0
    LEAD = 1
    PAYING = 2


# Subscription status codes (see billing.models.SubscriptionStatus).
TRIALING, ACTIVE, PAST_DUE, CANCELED = 0, 1, 2, 3
STATUS_NAMES = ("trialing", "active", "past_due", "canceled")

# Customer states during the simulation.
UNBORN, PROSPECT, CUSTOMER, LOST, CHURNED = 0, 1, 2, 3, 4


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class Columns:
    """Growable parallel int64 arrays, for rows that later change (subscriptions)."""

    def __init__(self, names: tuple[str, ...], capacity: int) -> None:
        self.n = 0
        self.data = {name: np.full(max(capacity, 16), -1, dtype=np.int64) for name in names}

    def add(self, count: int, **values: np.ndarray | int) -> np.ndarray:
        while self.n + count > len(next(iter(self.data.values()))):
            for name, arr in self.data.items():
                grown = np.full(len(arr) * 2, -1, dtype=np.int64)
                grown[: len(arr)] = arr
                self.data[name] = grown
        idx = np.arange(self.n, self.n + count)
        for name, value in values.items():
            self.data[name][idx] = value
        self.n += count
        return idx

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[name][: self.n]


@dataclass
class Life:
    subs: Columns
    moves: dict[str, np.ndarray]  # cust, sub, t, mrr_after (cents)
    facts: dict[str, np.ndarray]  # cust, t, kind, payload
    orders: dict[str, np.ndarray]  # cust, t, product (-1 = basket), n
    level_changes: dict[int, list[tuple[np.ndarray, float]]]
    raw_intensity: np.ndarray  # Σ daily unscaled event rate per customer
    sub_customer: np.ndarray  # live subscription index per customer at the end, or -1
    state: np.ndarray
    ema_final: np.ndarray = field(repr=False)


class _Log:
    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, **cols: np.ndarray | int) -> None:
        sizes = [np.size(v) for v in cols.values() if np.ndim(v) > 0]
        size = max(sizes) if sizes else 1
        if size == 0:
            return
        for name, value in cols.items():
            arr = np.broadcast_to(np.asarray(value, dtype=np.int64), (size,)).copy()
            self.parts.setdefault(name, []).append(arr)

    def done(self, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        return {
            n: np.concatenate(self.parts[n]) if n in self.parts else np.zeros(0, np.int64)
            for n in names
        }


def simulate_lifecycle(
    *,
    biz: Business,
    tb: Timebase,
    signup_day: np.ndarray,
    signup_sec: np.ndarray,
    tier: np.ndarray,
    seats: np.ndarray,
    base_rate: np.ndarray,
    engagement_seed: np.random.SeedSequence,
    life_seed: np.random.SeedSequence,
    tick: object = None,
) -> Life:
    n = len(signup_day)
    days = tb.days
    rng = np.random.Generator(np.random.PCG64(life_seed))
    eng = Engagement(engagement_seed, signup_day)
    plans = biz.plans
    # MRR in cents of (plan index, seats), through the ledger's own rounding rule.
    mrr_cache: dict[tuple[int, int], int] = {}

    def mrr_of(plan_idx: np.ndarray, qty: np.ndarray) -> np.ndarray:
        out = np.empty(len(plan_idx), dtype=np.int64)
        for i, (p, q) in enumerate(zip(plan_idx.tolist(), qty.tolist(), strict=True)):
            key = (p, q)
            if key not in mrr_cache:
                spec = plans[p]
                value = monthly_amount(price=spec.price, quantity=q, interval=spec.interval)
                mrr_cache[key] = int(value * 100)
            out[i] = mrr_cache[key]
        return out

    yearly_of = {p.tier: i for i, p in enumerate(plans) if p.interval == "year"}
    monthly_of = {p.tier: i for i, p in enumerate(plans) if p.interval == "month"}
    to_yearly = np.array([yearly_of[p.tier] for p in plans])
    to_monthly = np.array([monthly_of[p.tier] for p in plans])
    top_tier = max(p.tier for p in plans)
    plan_tier = np.array([p.tier for p in plans])
    is_yearly_plan = np.array([p.interval == "year" for p in plans])

    subs = Columns(
        (
            "cust",
            "plan",
            "seats",
            "status",
            "mrr",
            "started",
            "trial_end",
            "canceled",
            "period_end",
        ),
        n + n // 4,
    )
    moves = _Log()
    facts = _Log()
    orders = _Log()
    level_changes: dict[int, list[tuple[np.ndarray, float]]] = {}

    state = np.zeros(n, dtype=np.int8)
    ema = np.zeros(n)
    level = np.zeros(n)
    live_sub = np.full(n, -1, dtype=np.int64)
    last_sub = np.full(n, -1, dtype=np.int64)
    renew_day = np.full(n, -1, dtype=np.int64)
    due_day = np.full(n, -1, dtype=np.int64)  # trial end / lead decision
    churn_day = np.full(n, -1, dtype=np.int64)
    last_order = np.full(n, -1, dtype=np.int64)
    n_orders = np.zeros(n, dtype=np.int64)
    learner_until = np.full(n, -1, dtype=np.int64)
    alive = np.ones(n, dtype=bool)  # shop: still a buyer (BG/NBD-style dropout)
    raw = np.zeros(n)
    anchor = signup_sec % DAY
    # Shop buying habits: purchase rate per day and dropout chance after each order.
    buy_rate = rng.gamma(1.4, 1 / 90, n)
    dropout = rng.beta(1.3, 4.0, n)
    weekday_usage = np.array(biz.weekday_usage)
    season = np.array(biz.seasonality)
    bounds = np.searchsorted(signup_day, np.arange(days + 1))

    def set_level(idx: np.ndarray, value: float, day: int) -> None:
        if len(idx) == 0:
            return
        if day <= t:
            level[idx] = value
        if day < days:
            level_changes.setdefault(day, []).append((idx.copy(), value))

    def at(idx: np.ndarray, day: int) -> np.ndarray:
        return day * DAY + anchor[idx]

    def start_paying(idx: np.ndarray, plan_idx: np.ndarray, day: int, *, kind: Fact) -> None:
        """Start (or convert to) a paid subscription; records MRR, facts and renewal date."""
        if len(idx) == 0:
            return
        qty = seats[idx]
        mrr = mrr_of(plan_idx, qty)
        existing = live_sub[idx]
        new = existing < 0
        if new.any():
            sidx = subs.add(
                int(new.sum()),
                cust=idx[new],
                started=at(idx[new], day),
            )
            live_sub[idx[new]] = sidx
        s = live_sub[idx]
        last_sub[idx] = s
        subs.data["plan"][s] = plan_idx
        subs.data["seats"][s] = qty
        subs.data["status"][s] = ACTIVE
        subs.data["mrr"][s] = mrr
        yearly = is_yearly_plan[plan_idx]
        renew = np.where(yearly, tb.next_year[day], tb.next_month[day])
        renew_day[idx] = renew
        subs.data["period_end"][s] = renew * DAY + anchor[idx]
        moves.add(cust=idx, sub=s, t=at(idx, day), mrr=mrr)
        facts.add(cust=idx, t=at(idx, day), kind=int(kind), payload=day)
        if kind != Fact.PAID or biz.key != "shop":
            facts.add(cust=idx, t=at(idx, day + 30), kind=int(Fact.ADOPT), payload=day)
            facts.add(cust=idx, t=at(idx, day + 90), kind=int(Fact.ESTABLISH), payload=day)
        ysel = idx[yearly]
        if len(ysel):
            facts.add(
                cust=ysel,
                t=(renew[yearly] - 30) * DAY + anchor[ysel],
                kind=int(Fact.RENEW_SOON),
                payload=0,
            )
        state[idx] = CUSTOMER
        set_level(idx, 1.0, day)

    def stop_paying(idx: np.ndarray, day: int, *, lost_trial: bool = False) -> None:
        if len(idx) == 0:
            return
        s = live_sub[idx]
        subs.data["status"][s] = CANCELED
        subs.data["canceled"][s] = at(idx, day)
        subs.data["period_end"][s] = at(idx, day)
        if not lost_trial:
            moves.add(cust=idx, sub=s, t=at(idx, day), mrr=0)
        live_sub[idx] = -1
        renew_day[idx] = -1
        churn_day[idx] = day
        facts.add(
            cust=idx,
            t=at(idx, day) + 1,
            kind=int(Fact.TRIAL_LOST if lost_trial else Fact.CHURN),
            payload=0,
        )
        state[idx] = LOST if lost_trial else CHURNED
        set_level(idx, 0.25, day)
        grace = day + rng.integers(3, 21, len(idx))
        for g in np.unique(grace):
            set_level(idx[grace == g], 0.0, int(g))

    def place_orders(idx: np.ndarray, day: int, *, first: bool) -> None:
        if len(idx) == 0:
            return
        n_orders[idx] += 1
        last_order[idx] = day
        when = day * DAY + rng.integers(7 * 3600, 23 * 3600, len(idx))
        # Never before the sign-up itself (a shop customer's record starts with that order).
        when = np.maximum(when, signup_sec[idx])
        if biz.products and biz.key == "course":
            product = rng.integers(0, len(biz.products), len(idx))
        else:
            product = np.full(len(idx), -1)
        orders.add(cust=idx, t=when, product=product, n=n_orders[idx])
        facts.add(cust=idx, t=when, kind=int(Fact.ORDER), payload=n_orders[idx])
        if first:
            facts.add(cust=idx, t=when, kind=int(Fact.PAID), payload=day)
            if biz.key == "course":
                facts.add(cust=idx, t=when + 30 * DAY, kind=int(Fact.ADOPT), payload=day)
                facts.add(cust=idx, t=when + 90 * DAY, kind=int(Fact.ESTABLISH), payload=day)

    def pick(mask: np.ndarray, p: np.ndarray | float) -> np.ndarray:
        """Indices (of mask) whose coin with probability p comes up."""
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            return idx
        pp = p[idx] if isinstance(p, np.ndarray) and p.shape == mask.shape else p
        return idx[rng.random(len(idx)) < pp]

    plan_at = np.zeros((top_tier + 1, 2), dtype=np.int64)
    for i, p in enumerate(plans):
        plan_at[p.tier, int(p.interval == "year")] = i

    def change(idx: np.ndarray, plan_idx: np.ndarray, qty: np.ndarray, day: int) -> None:
        """Move live subscriptions to another plan or seat count; records the MRR movement."""
        if len(idx) == 0:
            return
        s = live_sub[idx]
        before = subs.data["mrr"][s]
        mrr = mrr_of(plan_idx, qty)
        seats[idx] = qty
        subs.data["plan"][s] = plan_idx
        subs.data["seats"][s] = qty
        subs.data["mrr"][s] = mrr
        when = at(idx, day) + rng.integers(60, 6 * 3600, len(idx))
        moves.add(cust=idx, sub=s, t=when, mrr=mrr)
        up = mrr > before
        facts.add(
            cust=idx, t=when, kind=np.where(up, int(Fact.EXPAND), int(Fact.CONTRACT)), payload=day
        )
        grew = idx[up]
        facts.add(cust=grew, t=when[up] + 45 * DAY, kind=int(Fact.SETTLE), payload=day)

    def saas_change(idx: np.ndarray, day: int) -> None:
        e = ema[idx]
        plan_idx = subs.data["plan"][live_sub[idx]]
        tiers = plan_tier[plan_idx]
        yearly = is_yearly_plan[plan_idx].astype(np.int64)
        q = seats[idx]
        c1 = np.where(tiers < top_tier, 0.05 * sigmoid(2 * (e - 0.3)), 0.0)
        c2 = c1 + 0.12 * sigmoid(2 * e)
        c3 = c2 + np.where(tiers > 0, 0.06 * sigmoid(-2 * (e + 0.3)), 0.0)
        c4 = c3 + np.where(q > 1, 0.08 * sigmoid(-2 * e), 0.0)
        u = rng.random(len(idx))
        up = u < c1
        change(idx[up], plan_at[tiers[up] + 1, yearly[up]], q[up], day)
        more = (u >= c1) & (u < c2)
        grow = np.maximum(1, np.rint(q[more] * rng.uniform(0.1, 0.4, int(more.sum()))))
        change(idx[more], plan_idx[more], q[more] + grow.astype(np.int64), day)
        down = (u >= c2) & (u < c3)
        change(idx[down], plan_at[tiers[down] - 1, yearly[down]], q[down], day)
        fewer = (u >= c3) & (u < c4)
        cut = np.maximum(1, np.rint(q[fewer] * rng.uniform(0.1, 0.3, int(fewer.sum()))))
        change(idx[fewer], plan_idx[fewer], np.maximum(1, q[fewer] - cut.astype(np.int64)), day)

    def add_seats(idx: np.ndarray, day: int) -> None:
        if len(idx) == 0:
            return
        q = seats[idx]
        grow = np.maximum(1, np.rint(q * rng.uniform(0.1, 0.3, len(idx)))).astype(np.int64)
        change(idx, subs.data["plan"][live_sub[idx]], q + grow, day)

    def lapse(idx: np.ndarray, day: int) -> None:
        """A non-subscriber who has not bought for the activity window counts as churned."""
        if len(idx) == 0:
            return
        state[idx] = CHURNED
        churn_day[idx] = day
        facts.add(cust=idx, t=at(idx, day), kind=int(Fact.LAPSED), payload=0)
        set_level(idx, 0.0, day)

    def last_subscription(idx: np.ndarray) -> np.ndarray:
        return last_sub[idx]

    t = 0
    for t in range(days):
        for idx_, value_ in level_changes.get(t, []):
            level[idx_] = value_
        z = eng.step(t)
        lo, hi = bounds[t], bounds[t + 1]
        born = np.arange(lo, hi)
        ema[born] = z[born]
        ema += (z - ema) / 30.0
        wd = weekday_usage[tb.weekday[t]]

        # --- sign-ups ---------------------------------------------------------------------
        if len(born):
            if biz.key == "saas":
                direct = rng.random(len(born)) < 0.15
                trial = born[~direct]
                sidx = subs.add(
                    len(trial),
                    cust=trial,
                    plan=np.array([monthly_of[x] for x in tier[trial].tolist()], dtype=np.int64),
                    seats=seats[trial],
                    status=TRIALING,
                    mrr=0,
                    started=at(trial, t),
                    trial_end=at(trial, t + 14),
                    period_end=at(trial, t + 14),
                )
                live_sub[trial] = sidx
                state[trial] = PROSPECT
                due_day[trial] = t + 14
                facts.add(cust=trial, t=at(trial, t), kind=int(Fact.SIGNUP), payload=Start.TRIAL)
                set_level(trial, 0.8, t)
                paying = born[direct]
                facts.add(cust=paying, t=at(paying, t), kind=int(Fact.SIGNUP), payload=Start.PAYING)
                plan_idx = np.array([monthly_of[x] for x in tier[paying].tolist()], dtype=np.int64)
                yearly = rng.random(len(paying)) < 0.35
                plan_idx = np.where(yearly, to_yearly[plan_idx], plan_idx)
                start_paying(paying, plan_idx, t, kind=Fact.PAID)
            elif biz.key == "course":
                state[born] = PROSPECT
                due_day[born] = t + rng.integers(0, 30, len(born))
                facts.add(cust=born, t=at(born, t), kind=int(Fact.SIGNUP), payload=Start.LEAD)
                set_level(born, 0.35, t)
            else:  # shop: a customer record starts with the first order
                facts.add(cust=born, t=at(born, t), kind=int(Fact.SIGNUP), payload=Start.LEAD)
                state[born] = CUSTOMER
                place_orders(born, t, first=True)
                set_level(born, 1.0, t)
                box = born[rng.random(len(born)) < 0.05]
                if len(box):
                    plan_idx = np.where(rng.random(len(box)) < 0.15, 1, 0)
                    start_paying(box, plan_idx, t, kind=Fact.PAID)

        # --- trials end / leads decide ------------------------------------------------------
        due = np.flatnonzero(due_day == t)
        if len(due):
            due_day[due] = -1
            if biz.key == "saas":
                win = rng.random(len(due)) < sigmoid(0.7 + 1.8 * ema[due])
                conv = due[win]
                plan_idx = live_sub[conv]
                plan_idx = subs.data["plan"][plan_idx]
                yearly = rng.random(len(conv)) < 0.2
                plan_idx = np.where(yearly, to_yearly[plan_idx], plan_idx)
                start_paying(conv, plan_idx, t, kind=Fact.PAID)
                stop_paying(due[~win], t, lost_trial=True)
            else:  # course lead: buy a course, take the membership, or drift away
                buy = rng.random(len(due)) < sigmoid(0.2 + 1.7 * ema[due])
                buyers = due[buy]
                member = rng.random(len(buyers)) < 0.3
                course_buyers = buyers[~member]
                state[course_buyers] = CUSTOMER
                place_orders(course_buyers, t, first=True)
                learner_until[course_buyers] = t + 120
                set_level(course_buyers, 1.0, t)
                members = buyers[member]
                start_paying(
                    members, np.where(rng.random(len(members)) < 0.2, 1, 0), t, kind=Fact.PAID
                )
                lost = due[~buy]
                state[lost] = LOST
                set_level(lost, 0.0, t + 5)

        # --- renewals: churn, or renew with a possible plan/seat change -----------------------
        ren = np.flatnonzero(renew_day == t)
        if len(ren):
            s = live_sub[ren]
            yearly = is_yearly_plan[subs.data["plan"][s]]
            base = {"saas": (-3.7, -2.3), "course": (-3.1, -1.9), "shop": (-2.9, -1.8)}[biz.key]
            logit = np.where(yearly, base[1], base[0]) - 2.0 * ema[ren]
            churn = rng.random(len(ren)) < sigmoid(logit)
            stop_paying(ren[churn], t)
            stay = ren[~churn]
            s = live_sub[stay]
            plan_idx = subs.data["plan"][s]
            yearly = is_yearly_plan[plan_idx]
            renew = np.where(yearly, tb.next_year[t], tb.next_month[t])
            renew_day[stay] = renew
            subs.data["period_end"][s] = renew * DAY + anchor[stay]
            ys = stay[yearly]
            facts.add(cust=ys, t=at(ys, t), kind=int(Fact.RENEWED), payload=0)
            facts.add(
                cust=ys, t=(renew[yearly] - 30) * DAY + anchor[ys], kind=int(Fact.RENEW_SOON),
                payload=0,
            )  # fmt: skip
            if biz.key == "saas" and len(stay):
                saas_change(stay, t)

        # --- mid-term seat additions for yearly customers -----------------------------------------
        if biz.key == "saas":
            paying_yearly = (state == CUSTOMER) & (live_sub >= 0)
            cand = pick(paying_yearly, 0.003 * sigmoid(2 * ema))
            if len(cand):
                cand = cand[is_yearly_plan[subs.data["plan"][live_sub[cand]]]]
                add_seats(cand, t)

        # --- purchases (course and shop) ------------------------------------------------------
        if biz.key == "course":
            active = (state == CUSTOMER) & (n_orders > 0)
            rebuy = pick(active, (1 / 150) * np.exp(0.9 * z))
            place_orders(rebuy, t, first=False)
            learner_until[rebuy] = t + 120
            set_level(rebuy, 1.0, t)
            upsell = pick(active & (live_sub < 0), (1 / 600) * 2 * sigmoid(1.5 * z))
            start_paying(upsell, np.where(rng.random(len(upsell)) < 0.2, 1, 0), t, kind=Fact.PAID)
            faded = np.flatnonzero(learner_until == t)
            set_level(faded[live_sub[faded] < 0], 0.12, t)
            lapsed = np.flatnonzero(
                (state == CUSTOMER) & (live_sub < 0) & (last_order >= 0) & (last_order == t - 365)
            )
            lapse(lapsed, t)
            back = pick((state == CHURNED) & (churn_day < t - 30), 0.0004 * 2 * sigmoid(1.5 * z))
            if len(back):
                facts.add(cust=back, t=at(back, t), kind=int(Fact.REACTIVATE), payload=t)
                state[back] = CUSTOMER
                place_orders(back, t, first=False)
                learner_until[back] = t + 120
                set_level(back, 1.0, t)
                facts.add(cust=back, t=at(back, t + 30), kind=int(Fact.ADOPT), payload=t)
                facts.add(cust=back, t=at(back, t + 90), kind=int(Fact.ESTABLISH), payload=t)
        elif biz.key == "shop":
            month = tb.month[t]
            shoppers = (state >= CUSTOMER) & alive & (signup_day < t)
            buyers = pick(shoppers, buy_rate * np.exp(0.6 * z) * season[month - 1])
            if len(buyers):
                was_churned = buyers[state[buyers] == CHURNED]
                if len(was_churned):
                    facts.add(
                        cust=was_churned, t=at(was_churned, t), kind=int(Fact.REACTIVATE),
                        payload=t,
                    )  # fmt: skip
                    state[was_churned] = CUSTOMER
                    set_level(was_churned, 1.0, t)
                place_orders(buyers, t, first=False)
                die = rng.random(len(buyers)) < np.clip(
                    dropout[buyers] * np.exp(-0.7 * z[buyers]), 0, 0.95
                )
                gone = buyers[die]
                alive[gone] = False
                set_level(gone, 0.08, t + 20)
            lapsed = np.flatnonzero((state == CUSTOMER) & (live_sub < 0) & (last_order == t - 180))
            lapse(lapsed, t)
            boxers = pick((state == CUSTOMER) & (live_sub < 0) & alive, (1 / 900) * 2 * sigmoid(z))
            start_paying(boxers, np.where(rng.random(len(boxers)) < 0.15, 1, 0), t, kind=Fact.PAID)

        # --- win-back: churned subscribers (and lost trials) come back ---------------------
        if biz.key == "saas":
            gap = t - churn_day
            back = pick(
                (state == CHURNED) & (gap > 14) & (gap < 540), 0.0004 * 2 * sigmoid(1.5 * z)
            )
            if len(back):
                plan_idx = subs.data["plan"][last_subscription(back)]
                start_paying(back, to_monthly[plan_idx], t, kind=Fact.REACTIVATE)
            late = pick((state == LOST) & (gap > 20) & (gap < 365), 0.0002 * 2 * sigmoid(1.5 * z))
            if len(late):
                plan_idx = np.array([monthly_of[x] for x in tier[late].tolist()], dtype=np.int64)
                start_paying(late, plan_idx, t, kind=Fact.PAID)
        elif biz.key == "course":
            gap = t - churn_day
            back = pick(
                (state == CHURNED) & (gap > 14) & (gap < 540) & (n_orders == 0),
                0.0004 * 2 * sigmoid(1.5 * z),
            )
            start_paying(back, np.zeros(len(back), dtype=np.int64), t, kind=Fact.REACTIVATE)

        emit = level > 0
        if emit.any():
            raw[emit] += base_rate[emit] * level[emit] * np.exp(z[emit]) * wd
        if callable(tick):
            tick()

    # A few live monthly subscriptions end the window with a failed payment.
    live = np.flatnonzero(live_sub >= 0)
    if len(live):
        s = live_sub[live]
        monthly = (~is_yearly_plan[subs.data["plan"][s]]) & (subs.data["status"][s] == ACTIVE)
        late = rng.random(len(live)) < 0.06 * sigmoid(-2 * ema[live])
        subs.data["status"][s[monthly & late]] = PAST_DUE

    return Life(
        subs=subs,
        moves=moves.done(("cust", "sub", "t", "mrr")),
        facts=facts.done(("cust", "t", "kind", "payload")),
        orders=orders.done(("cust", "t", "product", "n")),
        level_changes=level_changes,
        raw_intensity=raw,
        sub_customer=live_sub,
        state=state,
        ema_final=ema,
    )
