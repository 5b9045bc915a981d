"""Pass 3: lifecycle stages from what happened, plus the notes a founder would have written.

The rules are the ones a founder would apply by hand, and they read only observable history:
billing facts from the lifecycle pass and usage counted from the generated events (a month with
less than half the usual activity puts an established customer at risk; a month back to normal
takes them out of it). Hidden engagement plays no part here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from tend.customers.models import Stage
from tend.demo.catalog import NOTES
from tend.demo.lifecycle import Fact, Start
from tend.demo.timebase import DAY
from tend.demo.usage import BUCKET_DAYS

S = Stage
WORKING = (S.ADOPTING, S.ESTABLISHED, S.EXPANSION, S.RENEWAL_DUE)
START_STAGE = {Start.TRIAL: S.TRIAL, Start.LEAD: S.PROSPECT, Start.PAYING: S.ONBOARDING}
# Why each fact moved a customer, as the message id (and parameters) stored in
# StageChange.reason_data and rendered in the reader's language (customers.timeline).
REASONS = {
    fact: json.dumps(data, sort_keys=True)
    for fact, data in {
        Fact.PAID: {"msg": "first_payment"},
        Fact.REACTIVATE: {"msg": "came_back"},
        Fact.EXPAND: {"msg": "expanded"},
        Fact.CONTRACT: {"msg": "expansion_settled"},
        Fact.RENEW_SOON: {"msg": "renewal_soon"},
        Fact.RENEWED: {"msg": "renewed"},
        Fact.RISK: {"msg": "usage_fell"},
        Fact.RECOVER: {"msg": "usage_recovered"},
        Fact.ADOPT: {"msg": "days_as_customer", "days": 30},
        Fact.ESTABLISH: {"msg": "days_as_customer", "days": 90},
        Fact.SETTLE: {"msg": "expansion_settled"},
        Fact.ORDER: {"msg": "repeat_purchase"},
        Fact.CHURN: {"msg": "mrr_zero"},
        Fact.TRIAL_LOST: {"msg": "trial_lost"},
        Fact.LAPSED: {"msg": "lapsed"},
    }.items()
}


@dataclass
class Stages:
    # customer, t, from, to, reason (JSON of the message id and parameters, "" for none)
    changes: list[tuple[int, int, str, str, str]]
    notes: list[tuple[int, int, str, str]]  # customer, t, kind, body
    final: list[str]
    changed_at: np.ndarray
    churned_at: np.ndarray  # -1 when not churned at the end


def usage_facts(buckets: np.ndarray, signup_day: np.ndarray) -> dict[str, np.ndarray]:
    """RISK / RECOVER facts at the end of each 30-day bucket, from observed event counts."""
    n, nb = buckets.shape
    custs: list[np.ndarray] = []
    ts: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    ever_risky = np.zeros(n, dtype=bool)
    for b in range(3, nb - 1):  # the last bucket is partial
        last = buckets[:, b].astype(np.float64)
        ref = buckets[:, b - 3 : b].mean(axis=1)
        known = signup_day < (b - 3) * BUCKET_DAYS
        risky = known & (ref >= 3) & (last < 0.45 * ref)
        fine = known & ever_risky & (last >= 0.75 * ref)
        ever_risky |= risky
        when = (b + 1) * BUCKET_DAYS * DAY + 6 * 3600
        for mask, kind in ((risky, Fact.RISK), (fine, Fact.RECOVER)):
            idx = np.flatnonzero(mask)
            custs.append(idx)
            ts.append(np.full(len(idx), when, dtype=np.int64))
            kinds.append(np.full(len(idx), int(kind), dtype=np.int64))
    if not custs:
        empty = np.zeros(0, dtype=np.int64)
        return {"cust": empty, "t": empty, "kind": empty, "payload": empty}
    cust = np.concatenate(custs)
    return {
        "cust": cust,
        "t": np.concatenate(ts),
        "kind": np.concatenate(kinds),
        "payload": np.zeros(len(cust), dtype=np.int64),
    }


def derive_stages(
    *,
    business: str,
    facts: dict[str, np.ndarray],
    n: int,
    end_sec: int,
    chinese: np.ndarray,
    has_owner: np.ndarray,
    rng: np.random.Generator,
) -> Stages:
    keep = facts["t"] < end_sec
    cust = facts["cust"][keep]
    t = facts["t"][keep]
    kind = facts["kind"][keep]
    payload = facts["payload"][keep]
    order = np.lexsort((kind, t, cust))
    cust, t, kind, payload = cust[order], t[order], kind[order], payload[order]
    coins = rng.random(len(cust)).tolist()
    picks = rng.integers(0, 1 << 30, len(cust)).tolist()
    delays = rng.integers(3600, 5 * DAY, len(cust)).tolist()
    bounds = np.searchsorted(cust, np.arange(n + 1)).tolist()
    t_l, kind_l, payload_l = t.tolist(), kind.tolist(), payload.tolist()
    zh = chinese.tolist()
    owner = has_owner.tolist()
    saas = business == "saas"

    changes: list[tuple[int, int, str, str, str]] = []
    notes: list[tuple[int, int, str, str]] = []
    final: list[str] = [S.PROSPECT] * n
    changed_at = np.zeros(n, dtype=np.int64)
    churned_at = np.full(n, -1, dtype=np.int64)

    def note(c: int, when: int, key: str, i: int) -> None:
        options = NOTES.get(f"{key}_zh") if zh[c] and f"{key}_zh" in NOTES else NOTES[key]
        if options and when < end_sec:
            note_kind, body = options[picks[i] % len(options)]
            notes.append((c, when, note_kind, body))

    for c in range(n):
        lo, hi = bounds[c], bounds[c + 1]
        stage = ""
        episode = -1
        last_expand = -1
        churn_t = -1
        since = 0
        for i in range(lo, hi):
            k = kind_l[i]
            when = t_l[i]
            new = stage
            if k == Fact.SIGNUP:
                new = START_STAGE[Start(payload_l[i])]
            elif k == Fact.PAID:
                if stage in (S.TRIAL, S.PROSPECT, S.CHURNED):
                    new, episode = S.ONBOARDING, payload_l[i]
                elif stage in (S.ADOPTING, S.ESTABLISHED, S.AT_RISK, S.RENEWAL_DUE):
                    new, last_expand = S.EXPANSION, payload_l[i]
                elif stage == S.ONBOARDING and episode < 0:
                    episode = payload_l[i]
            elif k == Fact.REACTIVATE:
                if stage == S.CHURNED:
                    new, episode = S.ONBOARDING, payload_l[i]
            elif k == Fact.EXPAND:
                if stage in (*WORKING, S.AT_RISK):
                    new, last_expand = S.EXPANSION, payload_l[i]
            elif k == Fact.CONTRACT:
                if stage == S.EXPANSION:
                    new = S.ESTABLISHED
            elif k == Fact.RENEW_SOON:
                if stage in (S.ADOPTING, S.ESTABLISHED, S.EXPANSION):
                    new = S.RENEWAL_DUE
            elif k == Fact.RENEWED:
                if stage == S.RENEWAL_DUE:
                    new = S.ESTABLISHED
            elif k == Fact.RISK:
                if stage in WORKING:
                    new = S.AT_RISK
            elif k == Fact.RECOVER:
                if stage == S.AT_RISK:
                    new = S.ESTABLISHED
            elif k == Fact.ADOPT:
                if stage == S.ONBOARDING and episode == payload_l[i]:
                    new = S.ADOPTING
            elif k == Fact.ESTABLISH:
                if stage == S.ADOPTING and episode == payload_l[i]:
                    new = S.ESTABLISHED
            elif k == Fact.SETTLE:
                if stage == S.EXPANSION and last_expand == payload_l[i]:
                    new = S.ESTABLISHED
            elif k == Fact.ORDER:
                if business == "shop":
                    if payload_l[i] == 2 and stage == S.ONBOARDING:
                        new = S.ADOPTING
                    elif payload_l[i] >= 3 and stage == S.ADOPTING:
                        new = S.ESTABLISHED
            elif k in (Fact.CHURN, Fact.TRIAL_LOST, Fact.LAPSED) and stage != S.CHURNED:
                new = S.CHURNED
            if new == stage:
                continue
            if stage:
                changes.append((c, when, stage, new, REASONS[Fact(k)]))
            else:
                changes.append((c, when, "", new, ""))
            since = when
            if new == S.CHURNED:
                churn_t = when
            elif stage == S.CHURNED:
                churn_t = -1
            stage = new
            # The founder's own notes, written around the moves that matter.
            if owner[c] and saas:
                if new == S.ONBOARDING and coins[i] < 0.7:
                    note(c, when + delays[i], "kickoff", i)
                elif new == S.EXPANSION and coins[i] < 0.4 and k == Fact.EXPAND:
                    note(c, max(when - delays[i], 0), "expansion", i)
                elif new == S.RENEWAL_DUE and coins[i] < 0.5:
                    note(c, when + delays[i], "renewal", i)
            if owner[c] and new == S.AT_RISK and coins[i] < (0.6 if saas else 0.2):
                note(c, when + delays[i], "at_risk" if saas else f"at_risk_{business}", i)
            if owner[c] and k == Fact.CHURN and coins[i] < (0.5 if saas else 0.15):
                note(c, when + delays[i] // 4, "churn" if saas else f"churn_{business}", i)
        final[c] = stage or S.PROSPECT
        changed_at[c] = since
        churned_at[c] = churn_t
    return Stages(changes, notes, final, changed_at, churned_at)
