"""Properties of the snapshot rows built from any ledger (hypothesis, no database needed)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tend.billing.ledger import classify
from tend.metrics import formulas
from tend.metrics.snapshots import customer_months

START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 15, tzinfo=UTC)

# A customer's MRR path: (days after the previous change, new MRR in whole units).
paths = st.lists(
    st.lists(
        st.tuples(st.integers(1, 120), st.sampled_from([0, 0, 10, 25, 40, 99, 250])),
        min_size=1,
        max_size=8,
    ),
    min_size=1,
    max_size=12,
)


def ledger(path: list[tuple[int, int]]) -> list[tuple[datetime, str, Decimal, Decimal]]:
    moves, level, paid, at = [], Decimal(0), False, START
    for gap, value in path:
        at = at + timedelta(days=gap)
        if at > NOW:
            break
        after = Decimal(value)
        kind = classify(before=level, after=after, had_mrr_before=paid)
        if kind is None:
            continue
        moves.append((at, kind, after - level, after))
        paid = paid or after > 0
        level = after
    return moves


@settings(max_examples=150, deadline=None)
@given(paths)
def test_movements_sum_to_the_change_in_mrr_and_grr_never_exceeds_100(
    customers: list[list[tuple[int, int]]],
) -> None:
    totals: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for i, path in enumerate(customers):
        moves = ledger(path)
        _life, rows = customer_months(i, moves, [], now=NOW, this_month=date(2026, 6, 1))
        previous_end: dict[date, Decimal] = {}
        for row in rows:
            moved = row.new + row.expansion + row.contraction + row.churn + row.reactivation
            assert row.mrr_start + moved == row.mrr_end
            previous_end[row.month] = row.mrr_end
            t = totals[row.month]
            t["start"] += row.mrr_start
            t["end"] += row.mrr_end
            t["moved"] += moved
            if row.mrr_start > 0:
                delta = row.mrr_end - row.mrr_start
                t["base"] += row.mrr_start
                if row.mrr_end == 0:
                    t["churned"] += row.mrr_start
                elif delta < 0:
                    t["contraction"] += -delta
                else:
                    t["expansion"] += delta
        # A month's end is the next month's start, and months without a row are at zero.
        for row in rows:
            nxt = date(row.month.year + row.month.month // 12, row.month.month % 12 + 1, 1)
            if nxt in previous_end:
                start_next = next(r.mrr_start for r in rows if r.month == nxt)
                assert start_next == row.mrr_end
            elif nxt <= date(2026, 6, 1):
                assert row.mrr_end == 0
    for t in totals.values():
        assert t["start"] + t["moved"] == t["end"]
        if t["base"] > 0:
            grr = formulas.grr(
                start_mrr=t["base"], contraction=t["contraction"], churned_mrr=t["churned"]
            )
            nrr = formulas.nrr(
                start_mrr=t["base"],
                expansion=t["expansion"],
                contraction=t["contraction"],
                churned_mrr=t["churned"],
            )
            assert grr is not None and nrr is not None
            assert 0 <= grr <= 100
            assert nrr >= grr


def test_kaplan_meier_curve_against_a_hand_computed_example() -> None:
    from tend.metrics.survival import curve

    # Months paid: 1, 2, 2 (still paying), 3, 4 (still paying), 5 (still paying).
    # S(1) = 5/6; S(2) = 5/6 × 4/5 = 4/6 (one of the two at 2 churned, one is censored);
    # S(3) = 4/6 × 2/3 = 4/9; nobody else churns.
    out = curve([1, 2, 2, 3, 4, 5], [True, True, False, True, False, False])
    assert out["months"] == [0, 1, 2, 3, 4, 5]
    assert out["survival"] == [100.0, 83.33, 66.67, 44.44, 44.44, 44.44]
    assert out["at_risk"] == [6, 6, 5, 3, 2, 1]
    assert out["customers"] == 6 and out["churned"] == 3
    assert all(
        lo <= s <= hi for lo, s, hi in zip(out["lower"], out["survival"], out["upper"], strict=True)
    )
    assert out["lower"][3] < 44.44 < out["upper"][3]  # a real band once customers churn
    assert out["median_months"] == 3.0
