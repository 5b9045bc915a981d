"""RFM on ten hand-checked customers (tend/segments/tests/behaviour_data.py explains every
number), the quintile rule, the group map, and the empty case."""

from __future__ import annotations

from decimal import Decimal
from itertools import product

import pytest

from tend.billing.actions import order_create
from tend.customers.models import Customer
from tend.factories import make_customer
from tend.segments.behaviour import rfm_summary
from tend.segments.behaviour_models import CustomerRfm, RfmRun
from tend.segments.conditions import customers_matching
from tend.segments.rfm import (
    RFM_GROUP_RULES,
    RfmError,
    fm_score,
    quintile_scores,
    rfm_group,
    rfm_refresh,
)
from tend.segments.tests.behaviour_data import AS_OF, EXPECTED_RFM, ago, build_shop

pytestmark = pytest.mark.django_db


def test_ten_customers_get_the_scores_and_groups_worked_out_by_hand() -> None:
    shop = build_shop()
    run = rfm_refresh(AS_OF)
    assert (run.customers, run.orders, run.unconverted) == (10, 51, 0)
    got = {
        name: (row.recency_days, row.frequency, row.monetary, row.score, row.group)
        for name, customer in shop.items()
        for row in [CustomerRfm.objects.get(customer=customer)]
    }
    assert got == EXPECTED_RFM
    for name, customer in shop.items():
        row = CustomerRfm.objects.get(customer=customer)
        assert (row.r, row.f, row.m) == tuple(int(ch) for ch in EXPECTED_RFM[name][3])
        assert row.as_of == AS_OF and row.run_id == run.pk


def test_recomputing_gives_the_same_rows_and_replaces_the_old_ones() -> None:
    build_shop()
    rfm_refresh(AS_OF)
    first = sorted(CustomerRfm.objects.values_list("customer_id", "score", "group"))
    rfm_refresh(AS_OF)
    assert sorted(CustomerRfm.objects.values_list("customer_id", "score", "group")) == first
    assert CustomerRfm.objects.count() == 10
    assert set(CustomerRfm.objects.values_list("run_id", flat=True)) == {
        RfmRun.objects.order_by("-pk").first().pk  # type: ignore[union-attr]
    }


def test_summary_counts_customers_and_revenue_per_group() -> None:
    build_shop()
    rfm_refresh(AS_OF)
    groups = {g.key: g for g in rfm_summary().groups}
    assert groups["loyal"].customers == 2 and groups["loyal"].revenue == Decimal("1250")
    assert groups["hibernating"].customers == 2 and groups["hibernating"].revenue == 100
    assert groups["champions"].rule == "R 5, FM 4–5"
    assert sum(g.customers for g in groups.values()) == 10
    assert groups["champions"].share == pytest.approx(1200 / 4220)


def test_rfm_fields_select_customers_in_conditions() -> None:
    shop = build_shop()
    rfm_refresh(AS_OF)
    loyal = customers_matching({"field": "rfm_group", "op": "eq", "value": "loyal"})
    assert set(loyal) == {shop["D"], shop["F"]}
    recent = customers_matching({"field": "rfm_r", "op": "gte", "value": 5})
    assert set(recent) == {shop["A"], shop["B"]}
    # A customer without orders has no RFM row: empty.
    nobody = make_customer("No orders")
    empty = customers_matching({"field": "rfm_group", "op": "is_empty"})
    assert list(empty) == [nobody]


def test_an_order_with_no_exchange_rate_counts_in_r_and_f_but_not_m() -> None:
    customer = make_customer("Yen buyer")
    order_create(customer=customer, by=None, amount=Decimal("1000"), at=ago(3), currency="JPY")
    order_create(customer=customer, by=None, amount=Decimal("10"), at=ago(4))
    run = rfm_refresh(AS_OF)
    assert run.unconverted == 1 and run.orders == 2
    row = CustomerRfm.objects.get(customer=customer)
    assert (row.recency_days, row.frequency, row.monetary) == (3, 2, Decimal("10"))


def test_no_orders_gives_an_empty_run_not_an_error() -> None:
    make_customer("Subscriber only")
    run = rfm_refresh(AS_OF)
    assert (run.customers, run.orders) == (0, 0)
    assert not CustomerRfm.objects.exists()
    summary = rfm_summary()
    assert summary.run == run and summary.customers == 0


@pytest.mark.parametrize("bad", [0, 6, 3651, -1, "365", 365.0, True, None])
def test_a_window_out_of_range_is_refused_naming_it(bad: object) -> None:
    with pytest.raises(RfmError) as caught:
        rfm_refresh(AS_OF, window_days=bad)  # type: ignore[arg-type]
    assert caught.value.field == "window_days"
    assert not RfmRun.objects.exists()


def test_quintiles_split_distinct_values_in_fifths_and_ties_share_the_lowest_score() -> None:
    assert quintile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_scores(list(range(10)), higher_is_better=False) == [
        5, 5, 4, 4, 3, 3, 2, 2, 1, 1,
    ]  # fmt: skip
    # Seven customers with one order: they all share score 1, whatever their id.
    assert quintile_scores([1] * 7 + [2, 3, 9]) == [1] * 7 + [4, 5, 5]
    assert quintile_scores([5]) == [1]
    # The order the values come in does not change anyone's score.
    values = [3, 1, 4, 1, 5, 9, 2, 6]
    scores = dict(zip(values, quintile_scores(values), strict=False))
    assert dict(zip(values[::-1], quintile_scores(values[::-1]), strict=False)) == scores


def test_every_r_and_fm_pair_is_in_exactly_one_group() -> None:
    for r, fm in product(range(1, 6), repeat=2):
        hits = [g for g, r0, r1, f0, f1 in RFM_GROUP_RULES if r0 <= r <= r1 and f0 <= fm <= f1]
        assert len(hits) == 1, (r, fm, hits)
    assert fm_score(4, 5) == 5 and fm_score(3, 4) == 4 and fm_score(1, 2) == 2
    assert rfm_group(5, 5, 4) == "champions" and rfm_group(1, 5, 5) == "cant_lose"
    with pytest.raises(ValueError, match="r, f, m"):
        rfm_group(0, 1, 1)


def test_the_customer_row_goes_when_the_customer_is_deleted() -> None:
    shop = build_shop()
    rfm_refresh(AS_OF)
    Customer.objects.filter(pk=shop["A"].pk).delete()
    assert CustomerRfm.objects.count() == 9
