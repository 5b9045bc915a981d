"""Small hand-checked data sets for the behavioural segmentation tests.

**Shop** (``build_shop``): ten customers A–J, "today" (as_of) 31 Mar 2026, window 365 days,
so orders count from 1 Apr 2025 00:00 UTC to 1 Apr 2026 00:00 UTC. "k days ago" is as_of − k
at 12:00 UTC.

=== ========= ======================================== ===== ====== =======
who last (d)  paid orders in the window                    F      M      note
=== ========= ======================================== ===== ====== =======
A   0         12 × 100 at 0, 10, … 110 days ago           12   1200
B   5         1 × 40                                       1     40   + a pending 5000
C   10        6 × 50 at 10 … 60; 20 of one refunded        6    280   (net of the partial refund)
D   20        6 × 75 at 20 … 70                            6    450
E   40        2 × 50 USD + 1 × EUR 40 (rate 1.25) 40 … 60  3    150
F   60        8 × 100 at 60 … 130                          8    800
G   90        2 × 50 at 90, 100                            2    100   + an order tomorrow (ignored)
H   180       4 × 50 at 180 … 210                          4    200
I   300       8 × 100 + 1 × 200 at 300, 305 … 340          9   1000
J   500       none (one 400 order 500 days ago)            0      0   + one refunded 2 days ago
=== ========= ======================================== ===== ====== =======

Scores (1 + ⌊5 × worse ÷ 10⌋; ties share the lowest):
R by days since (fewer is better): A 5, B 5, C 4, D 4, E 3, F 3, G 2, H 2, I 1, J 1.
F sorted 0 J, 1 B, 2 G, 3 E, 4 H, 6 C, 6 D, 8 F, 9 I, 12 A → J 1, B 1, G 2, E 2, H 3,
C 3, D 3 (tie with C: both have 5 lower), F 4, I 5, A 5.
M sorted 0 J, 40 B, 100 G, 150 E, 200 H, 280 C, 450 D, 800 F, 1000 I, 1200 A → J 1, B 1,
G 2, E 2, H 3, C 3, D 4, F 4, I 5, A 5.
FM = (F + M + 1) // 2 and the group from R × FM:
A 555 FM 5 champions · B 511 FM 1 new · C 433 FM 3 potential loyalists · D 434 FM 4 loyal ·
E 322 FM 2 about to sleep · F 344 FM 4 loyal · G 222 FM 2 hibernating · H 233 FM 3 at risk ·
I 155 FM 5 can't lose them · J 111 FM 1 hibernating.

**Usage** (``build_usage``): fifteen customers in three obvious groups, as_of 31 Mar 2026,
90 days (1 Jan – 31 Mar; the last 30 days are 2 – 31 Mar), plus one customer with nothing:

- heavy (H0–H4): active every day but the first i, 8 event names × 5 = 40 events a day,
  MRR 10 → "heavy users, low spend, many features";
- quiet (Q0–Q4): active on 6 days 15 days apart, 2 names × 1 event, MRR 500 + 10 i
  → "quiet, high spend, few features";
- new (N0–N4): active only the last 20 − i days, 4 names, 10 events a day, MRR 50
  → "regular users, medium spend, new and growing".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from tend.activity.actions import rollups_increment
from tend.billing.actions import exchange_rate_set, order_create, order_refund
from tend.billing.models import OrderStatus
from tend.customers.models import Customer
from tend.factories import make_customer, make_plan, make_subscription

AS_OF = date(2026, 3, 31)

EXPECTED_RFM = {
    # name: (recency days, frequency, monetary, score, group)
    "A": (0, 12, Decimal("1200"), "555", "champions"),
    "B": (5, 1, Decimal("40"), "511", "new"),
    "C": (10, 6, Decimal("280"), "433", "potential_loyalists"),
    "D": (20, 6, Decimal("450"), "434", "loyal"),
    "E": (40, 3, Decimal("150"), "322", "about_to_sleep"),
    "F": (60, 8, Decimal("800"), "344", "loyal"),
    "G": (90, 2, Decimal("100"), "222", "hibernating"),
    "H": (180, 4, Decimal("200"), "233", "at_risk"),
    "I": (300, 9, Decimal("1000"), "155", "cant_lose"),
    "J": (500, 0, Decimal("0"), "111", "hibernating"),
}


def ago(days: int, as_of: date = AS_OF) -> datetime:
    return datetime.combine(as_of - timedelta(days=days), time(12), tzinfo=UTC)


def build_shop(as_of: date = AS_OF) -> dict[str, Customer]:
    """The ten customers A–J above, with their orders; returns them by letter. Another
    ``as_of`` moves every order with it (the page and API compute as of today)."""

    def _orders(customer: Customer, days: list[int], amount: str, **kw: object) -> None:
        for d in days:
            at = ago(d, as_of)
            order_create(customer=customer, by=None, amount=Decimal(amount), at=at, **kw)  # type: ignore[arg-type]

    c = {name: make_customer(f"Shop {name}") for name in "ABCDEFGHIJ"}
    exchange_rate_set(currency="EUR", rate="1.25", valid_from=date(2025, 1, 1), by=None)
    _orders(c["A"], list(range(0, 120, 10)), "100")
    _orders(c["B"], [5], "40")
    _orders(c["B"], [1], "5000", status=OrderStatus.PENDING)
    _orders(c["C"], [10, 20, 30, 40, 50, 60], "50")
    partial = c["C"].orders.order_by("ordered_at").first()
    assert partial is not None
    order_refund(order=partial, by=None, amount=Decimal("20"))
    _orders(c["D"], [20, 30, 40, 50, 60, 70], "75")
    _orders(c["E"], [40, 50], "50")
    _orders(c["E"], [60], "40", currency="EUR")
    _orders(c["F"], list(range(60, 140, 10)), "100")
    _orders(c["G"], [90, 100], "50")
    _orders(c["G"], [-1], "999")  # tomorrow: after as_of
    _orders(c["H"], [180, 190, 200, 210], "50")
    _orders(c["I"], [300, 305, 310, 315, 320, 325, 330, 335], "100")
    _orders(c["I"], [340], "200")
    _orders(c["J"], [500], "400")
    _orders(c["J"], [2], "70")
    refunded = c["J"].orders.order_by("-ordered_at").first()
    assert refunded is not None
    order_refund(order=refunded, by=None)
    return c


@dataclass
class Usage:
    heavy: list[Customer]
    quiet: list[Customer]
    new: list[Customer]
    idle: Customer


def build_usage(as_of: date = AS_OF) -> Usage:
    """The three usage groups above (rollups through the activity app, MRR through billing);
    another ``as_of`` moves the 90 days with it."""
    first = as_of - timedelta(days=89)
    days = [first + timedelta(days=i) for i in range(90)]
    counts: dict[tuple[int, date, str], int] = {}
    since = datetime.combine(first - timedelta(days=31), time(9), tzinfo=UTC)
    heavy, quiet, new = [], [], []
    for i in range(5):
        h = make_customer(f"Heavy {i}")
        for day in days[i:]:
            for n in range(8):
                counts[(h.pk, day, f"feature_{n}")] = 5
        make_subscription(h, make_plan(f"h{i}", "10"), at=since)
        heavy.append(h)

        q = make_customer(f"Quiet {i}")
        for day in days[::15]:
            counts[(q.pk, day, "login")] = 1
            counts[(q.pk, day, "report")] = 1
        make_subscription(q, make_plan(f"q{i}", str(500 + 10 * i)), at=since)
        quiet.append(q)

        c = make_customer(f"New {i}")
        for day in days[-(20 - i) :]:
            for n, k in zip(range(4), (3, 3, 2, 2), strict=True):
                counts[(c.pk, day, f"feature_{n}")] = k
        make_subscription(c, make_plan(f"n{i}", "50"), at=since)
        new.append(c)
    idle = make_customer("Idle")
    rollups_increment(counts)
    return Usage(heavy=heavy, quiet=quiet, new=new, idle=idle)
