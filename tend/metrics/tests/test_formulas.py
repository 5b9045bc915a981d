"""The metric formulas against hand-computed numbers, their edge cases, and their invariants."""

import inspect
from collections import defaultdict
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tend.billing.ledger import classify
from tend.billing.models import MovementKind
from tend.metrics import formulas as f

D = Decimal

# Pure arithmetic is cheap, but CI shares two CPUs: keep the example counts moderate and
# never fail on a slow example.
quick = settings(max_examples=150, deadline=None)

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: D(c) / 100)
positive_cents = st.integers(min_value=1, max_value=10_000_000).map(lambda c: D(c) / 100)


# --- MRR ----------------------------------------------------------------------------------


def test_arr_is_twelve_times_mrr():
    # 1,234.56 × 12 = 14,814.72
    assert f.mrr_to_arr(mrr=D("1234.56")) == D("14814.72")


def test_net_new_mrr_adds_gains_and_subtracts_losses_given_as_positive_amounts():
    # 500 new + 120 expansion + 80 reactivation − 45.50 contraction − 300 churn = 354.50
    assert f.net_new_mrr(
        new=D("500"),
        expansion=D("120"),
        contraction=D("45.50"),
        churn=D("300"),
        reactivation=D("80"),
    ) == D("354.50")


def test_net_new_mrr_can_be_negative_when_losses_win():
    # 100 new − 400 churn = −300
    assert f.net_new_mrr(
        new=D(100), expansion=D(0), contraction=D(0), churn=D(400), reactivation=D(0)
    ) == D(-300)


def test_a_negative_loss_is_refused_rather_than_counted_twice():
    with pytest.raises(ValueError, match="contraction"):
        f.net_new_mrr(new=D(0), expansion=D(0), contraction=D(-10), churn=D(0), reactivation=D(0))
    with pytest.raises(ValueError, match="mrr"):
        f.mrr_to_arr(mrr=D(-1))


def test_arpa_divides_mrr_by_paying_customers_and_rounds_half_up_to_the_cent():
    # 1,000 ÷ 3 = 333.333… → 333.33
    assert f.arpa(mrr=D(1000), customers=3) == D("333.33")
    # 100.01 ÷ 2 = 50.005 → 50.01 (half up, not banker's 50.00)
    assert f.arpa(mrr=D("100.01"), customers=2) == D("50.01")


def test_arpa_without_customers_is_undefined():
    assert f.arpa(mrr=D(0), customers=0) is None
    with pytest.raises(ValueError, match="customers"):
        f.arpa(mrr=D(0), customers=-1)


def test_money_given_as_a_float_is_refused():
    with pytest.raises(ValueError, match="mrr"):
        f.mrr_to_arr(mrr=0.1)  # type: ignore[arg-type]


# --- retention and churn ------------------------------------------------------------------


def test_crr_counts_retained_customers_among_those_active_at_start():
    # 180 of 200 still active at end → 90 %
    assert f.crr(active_at_start=200, retained=180) == 90.0
    # 1 of 3 → 33.33… %
    assert f.crr(active_at_start=3, retained=1) == pytest.approx(33.333333333333)


def test_logo_churn_counts_churned_customers_among_those_active_at_start():
    # 20 of 200 churned → 10 %
    assert f.logo_churn_rate(active_at_start=200, churned=20) == 10.0


def test_revenue_churn_is_the_start_mrr_of_churned_customers_over_start_mrr():
    # 250 of 10,000 MRR churned → 2.5 %
    assert f.revenue_churn_rate(start_mrr=D(10000), churned_mrr=D(250)) == 2.5


def test_rates_over_nobody_at_start_are_undefined_not_zero():
    assert f.crr(active_at_start=0, retained=0) is None
    assert f.logo_churn_rate(active_at_start=0, churned=0) is None
    assert f.cer(active_at_start=0, expanded=0) is None
    assert f.revenue_churn_rate(start_mrr=D(0), churned_mrr=D(0)) is None
    assert f.grr(start_mrr=D(0), contraction=D(0), churned_mrr=D(0)) is None
    assert f.nrr(start_mrr=D(0), expansion=D(0), contraction=D(0), churned_mrr=D(0)) is None
    assert f.renewal_rate(due=0, renewed=0) is None
    assert f.referral_rate(referrers=0, customers=0) is None


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: f.crr(active_at_start=10, retained=11), "retained"),
        (lambda: f.crr(active_at_start=-1, retained=0), "active_at_start"),
        (lambda: f.crr(active_at_start=10, retained=2.5), "retained"),
        (lambda: f.crr(active_at_start=True, retained=0), "active_at_start"),
        (lambda: f.logo_churn_rate(active_at_start=10, churned=11), "churned"),
        (lambda: f.revenue_churn_rate(start_mrr=D(10), churned_mrr=D(11)), "churned_mrr"),
        (lambda: f.cer(active_at_start=10, expanded=11), "expanded"),
        (lambda: f.renewal_rate(due=4, renewed=5), "renewed"),
        (lambda: f.referral_rate(referrers=5, customers=4), "referrers"),
        (lambda: f.referral_rate(referrers=-1, customers=4), "referrers"),
    ],
)
def test_impossible_counts_are_refused_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()


def test_grr_subtracts_contraction_and_churn_from_start_mrr():
    # (10,000 − 300 − 500) ÷ 10,000 = 92 %
    assert f.grr(start_mrr=D(10000), contraction=D(300), churned_mrr=D(500)) == 92.0


def test_nrr_adds_expansion_and_passes_100_when_it_outweighs_losses():
    # (10,000 + 1,500 − 300 − 500) ÷ 10,000 = 107 %
    assert (
        f.nrr(start_mrr=D(10000), expansion=D(1500), contraction=D(300), churned_mrr=D(500))
        == 107.0
    )


def test_grr_stays_at_100_when_nothing_was_lost_however_large_the_expansion():
    # No losses: GRR = 10,000 ÷ 10,000 = 100 %, while NRR = 30,000 ÷ 10,000 = 300 %
    assert f.grr(start_mrr=D(10000), contraction=D(0), churned_mrr=D(0)) == 100.0
    assert (
        f.nrr(start_mrr=D(10000), expansion=D(20000), contraction=D(0), churned_mrr=D(0)) == 300.0
    )


def test_grr_and_nrr_refuse_losses_larger_than_start_mrr():
    with pytest.raises(ValueError, match="start_mrr"):
        f.grr(start_mrr=D(100), contraction=D(60), churned_mrr=D(50))
    with pytest.raises(ValueError, match="contraction"):
        f.nrr(start_mrr=D(100), expansion=D(500), contraction=D(60), churned_mrr=D(50))


def test_cer_counts_expanded_customers_among_those_active_at_start():
    # 7 of 50 expanded → 14 %
    assert f.cer(active_at_start=50, expanded=7) == 14.0


def test_renewal_rate_counts_renewals_among_contracts_due():
    # 6 of 8 due renewed → 75 %
    assert f.renewal_rate(due=8, renewed=6) == 75.0


def test_referral_rate_counts_customers_who_referred_among_all_customers():
    # 18 of 400 → 4.5 %
    assert f.referral_rate(referrers=18, customers=400) == 4.5


# --- surveys and success plans ------------------------------------------------------------

# Three 5s, two 4s, three 3s, one 2, one 1.
TEN_ANSWERS = [5, 5, 4, 3, 3, 2, 1, 4, 5, 3]


def test_csat_counts_4_and_5_as_satisfied():
    # 3 fives + 2 fours = 5 of 10 → 50 %
    assert f.csat(answers=TEN_ANSWERS) == 50.0


def test_csi_also_counts_neutral_so_it_reads_higher_than_csat_on_the_same_answers():
    # 3 fives + 2 fours + 3 threes = 8 of 10 → 80 % (CSAT: 50 %)
    assert f.csi(answers=TEN_ANSWERS) == 80.0
    assert f.csi(answers=iter(TEN_ANSWERS)) == 80.0


def test_seed_000_csi_example_is_100_percent_not_the_seeds_80():
    # 30 very satisfied + 40 satisfied + 30 neutral of 100 → (30 + 40 + 30) ÷ 100 = 100 %
    answers = [5] * 30 + [4] * 40 + [3] * 30
    assert f.csi(answers=answers) == 100.0
    # CSAT on the same answers: (30 + 40) ÷ 100 = 70 %
    assert f.csat(answers=answers) == 70.0


@pytest.mark.parametrize("bad", [0, 6, 4.5])
def test_satisfaction_answers_off_the_1_to_5_scale_are_refused(bad):
    with pytest.raises(ValueError, match="answers"):
        f.csat(answers=[5, bad])
    with pytest.raises(ValueError, match="answers"):
        f.csi(answers=[5, bad])


def test_nps_extremes_are_100_and_minus_100():
    assert f.nps(scores=[10, 9, 10]) == 100.0
    assert f.nps(scores=[0, 6, 3]) == -100.0


def test_nps_is_percent_promoters_minus_percent_detractors():
    # promoters 10, 10, 9, 9, 9, 10 = 60 %; passives 7, 8, 8; detractor 6 = 10 % → 50
    assert f.nps(scores=[10, 10, 9, 9, 9, 10, 7, 8, 8, 6]) == 50.0
    # promoters 10, 9, 9, 10 = 40 %; detractors 6, 5, 0, 3 = 40 % → 0
    assert f.nps(scores=[10, 9, 9, 8, 7, 6, 5, 0, 10, 3]) == 0.0
    # 1 promoter, 2 detractors of 3 → 33.33 − 66.67 = −33.33
    assert f.nps(scores=[9, 0, 6]) == pytest.approx(-33.333333333333)


@pytest.mark.parametrize("bad", [-1, 11])
def test_nps_scores_off_the_0_to_10_scale_are_refused(bad):
    with pytest.raises(ValueError, match="scores"):
        f.nps(scores=[bad])


def test_ces_is_the_mean_effort_answer():
    # (7 + 6 + 5 + 7) ÷ 4 = 6.25
    assert f.ces(scores=[7, 6, 5, 7]) == 6.25


@pytest.mark.parametrize("bad", [0, 8])
def test_ces_scores_off_the_1_to_7_scale_are_refused(bad):
    with pytest.raises(ValueError, match="scores"):
        f.ces(scores=[4, bad])


def test_surveys_without_answers_are_undefined():
    assert f.csat(answers=[]) is None
    assert f.csi(answers=[]) is None
    assert f.nps(scores=[]) is None
    assert f.ces(scores=[]) is None


def test_satisfaction_ratio_is_a_ratio_of_sums_over_objectives_recording_both():
    objectives = [(D(1000), D(800)), (D(10), D(20)), (None, D(5)), (D(100), None)]
    # Only the first two count: (800 + 20) ÷ (1,000 + 10) = 81.188… %
    # (a mean of ratios would give (80 % + 200 %) ÷ 2 = 140 %)
    assert f.satisfaction_ratio(objectives=objectives) == pytest.approx(81.188118811881)


def test_satisfaction_ratio_without_expected_value_is_undefined():
    assert f.satisfaction_ratio(objectives=[]) is None
    assert f.satisfaction_ratio(objectives=[(D(0), D(5)), (None, D(3))]) is None


def test_satisfaction_ratio_refuses_negative_values():
    with pytest.raises(ValueError, match="objectives"):
        f.satisfaction_ratio(objectives=[(D(-10), D(5))])


# --- lifetime value and acquisition -------------------------------------------------------


def test_clv_discounted_when_growth_equals_the_discount_rate():
    # R₁ = 100, g = r = 10 %, n = 3:
    # 100 ÷ 1.1 + 110 ÷ 1.21 + 121 ÷ 1.331 = 90.909… × 3 = 272.727… → 272.73
    assert f.clv_discounted(
        first_period_revenue=D(100), growth=D("0.10"), discount_rate=D("0.10"), periods=3
    ) == D("272.73")


def test_clv_discounted_with_growth_below_the_discount_rate():
    # R₁ = 1,000, g = 5 %, r = 10 %, n = 3:
    # 1,000 ÷ 1.1 = 909.0909…; 1,050 ÷ 1.21 = 867.7686…; 1,102.5 ÷ 1.331 = 828.3246…
    # total 2,605.1841 → 2,605.18
    assert f.clv_discounted(
        first_period_revenue=D(1000), growth=D("0.05"), discount_rate=D("0.10"), periods=3
    ) == D("2605.18")
    # rates given as floats mean the same
    assert f.clv_discounted(
        first_period_revenue=D(1000), growth=0.05, discount_rate=0.1, periods=3
    ) == D("2605.18")


def test_clv_discounted_on_seed_002_case_follows_the_formula_not_the_seed():
    # R₁ = 2,000,000 a year, g = 10 %, r = 5 %, n = 5:
    # 2,000,000 ÷ 1.05          = 1,904,761.9048
    # 2,200,000 ÷ 1.1025        = 1,995,464.8526
    # 2,420,000 ÷ 1.157625      = 2,090,486.9884
    # 2,662,000 ÷ 1.21550625    = 2,190,033.9879
    # 2,928,200 ÷ 1.2762815625  = 2,294,321.3207
    # total 10,475,069.0544 (the seed prints 833,333.33 and 788,062.70)
    assert f.clv_discounted(
        first_period_revenue=D(2_000_000), growth=D("0.10"), discount_rate=D("0.05"), periods=5
    ) == D("10475069.05")


def test_clv_discounted_without_growth_or_discount_is_plain_revenue():
    # r = 0: 100 + 110 + 121 = 331
    assert f.clv_discounted(
        first_period_revenue=D(100), growth=D("0.1"), discount_rate=D(0), periods=3
    ) == D("331.00")
    # g = r = 0: 12 × 100 = 1,200
    assert f.clv_discounted(
        first_period_revenue=D(100), growth=D(0), discount_rate=D(0), periods=12
    ) == D("1200.00")
    # g = −100 %: only the first period earns: 100 ÷ 1.1 = 90.909… → 90.91
    assert f.clv_discounted(
        first_period_revenue=D(100), growth=D(-1), discount_rate=D("0.1"), periods=5
    ) == D("90.91")


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"discount_rate": D(-1)}, "discount_rate"),
        ({"discount_rate": D("-1.5")}, "discount_rate"),
        ({"growth": D("-1.01")}, "growth"),
        ({"periods": 0}, "periods"),
        ({"first_period_revenue": D(-5)}, "first_period_revenue"),
    ],
)
def test_clv_discounted_refuses_impossible_inputs(kwargs, argument):
    arguments = {
        "first_period_revenue": D(100),
        "growth": D(0),
        "discount_rate": D("0.1"),
        "periods": 3,
    } | kwargs
    with pytest.raises(ValueError, match=argument):
        f.clv_discounted(**arguments)


@quick
@given(
    revenue=positive_cents,
    rate=st.integers(min_value=0, max_value=50).map(lambda p: D(p) / 100),
    periods=st.integers(min_value=1, max_value=60),
)
def test_clv_discounted_with_equal_growth_and_discount_is_n_times_the_first_term(
    revenue, rate, periods
):
    # g = r makes every term R₁(1+r)ᵗ⁻¹ ÷ (1+r)ᵗ = R₁ ÷ (1+r)
    expected = (periods * revenue / (1 + rate)).quantize(D("0.01"))
    result = f.clv_discounted(
        first_period_revenue=revenue, growth=rate, discount_rate=rate, periods=periods
    )
    assert abs(result - expected) <= D("0.01")


def test_clv_simple_is_margin_per_month_over_monthly_churn():
    # 50 × 0.8 ÷ 2.5 % = 40 ÷ 0.025 = 1,600
    assert f.clv_simple(arpa=D(50), gross_margin=D("0.8"), monthly_churn_rate=2.5) == D("1600.00")
    # 20 × 1 ÷ 3 % = 666.666… → 666.67
    assert f.clv_simple(arpa=D(20), gross_margin=1, monthly_churn_rate=D(3)) == D("666.67")


def test_clv_simple_is_undefined_without_churn_or_arpa():
    assert f.clv_simple(arpa=D(50), gross_margin=D("0.8"), monthly_churn_rate=0) is None
    assert f.clv_simple(arpa=D(50), gross_margin=D("0.8"), monthly_churn_rate=None) is None
    assert f.clv_simple(arpa=None, gross_margin=D("0.8"), monthly_churn_rate=2.5) is None


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"gross_margin": D(0)}, "gross_margin"),
        ({"gross_margin": D("1.2")}, "gross_margin"),
        ({"gross_margin": 80}, "gross_margin"),
        ({"monthly_churn_rate": -1}, "monthly_churn_rate"),
        ({"monthly_churn_rate": 101}, "monthly_churn_rate"),
        ({"arpa": D(-1)}, "arpa"),
    ],
)
def test_clv_simple_refuses_impossible_inputs(kwargs, argument):
    arguments = {"arpa": D(50), "gross_margin": D("0.8"), "monthly_churn_rate": 2.5} | kwargs
    with pytest.raises(ValueError, match=argument):
        f.clv_simple(**arguments)


def test_cac_divides_cost_by_customers_acquired_rounded_to_the_cent():
    # 1,500 ÷ 7 = 214.2857… → 214.29
    assert f.cac(acquisition_cost=D(1500), customers_acquired=7) == D("214.29")
    assert f.cac(acquisition_cost=D(1500), customers_acquired=0) is None
    with pytest.raises(ValueError, match="acquisition_cost"):
        f.cac(acquisition_cost=D(-1), customers_acquired=1)


def test_ltv_to_cac_is_a_multiple():
    # 1,600 ÷ 400 = 4×
    assert f.ltv_to_cac(ltv=D(1600), cac=D(400)) == 4.0
    assert f.ltv_to_cac(ltv=D(1600), cac=D(0)) is None
    assert f.ltv_to_cac(ltv=None, cac=D(400)) is None
    assert f.ltv_to_cac(ltv=D(1600), cac=None) is None


def test_cac_payback_is_months_of_gross_margin_to_earn_back_cac():
    # 400 ÷ (50 × 0.8) = 400 ÷ 40 = 10 months
    assert f.cac_payback_months(cac=D(400), arpa=D(50), gross_margin=D("0.8")) == 10.0
    # 100 ÷ (30 × 1) = 3.33… months
    assert f.cac_payback_months(cac=D(100), arpa=D(30), gross_margin=1) == pytest.approx(
        3.333333333333
    )
    assert f.cac_payback_months(cac=D(400), arpa=D(0), gross_margin=D("0.8")) is None
    assert f.cac_payback_months(cac=None, arpa=D(50), gross_margin=D("0.8")) is None
    with pytest.raises(ValueError, match="gross_margin"):
        f.cac_payback_months(cac=D(400), arpa=D(50), gross_margin=D("1.5"))


# --- change against the previous period ---------------------------------------------------


def test_percent_change_is_relative_to_the_previous_value():
    # (110 − 100) ÷ 100 = +10 %
    assert f.percent_change(current=110, previous=100) == 10.0
    # (1,050 − 1,000) ÷ 1,000 = +5 %
    assert f.percent_change(current=D("1050.00"), previous=D("1000.00")) == 5.0
    # (−50 − −100) ÷ |−100| = +50 %: less negative is better
    assert f.percent_change(current=-50, previous=-100) == 50.0


def test_percent_change_from_zero_or_nothing_is_undefined():
    assert f.percent_change(current=10, previous=0) is None
    assert f.percent_change(current=10, previous=None) is None
    assert f.percent_change(current=None, previous=10) is None


def test_point_change_is_a_difference_in_percentage_points():
    # 93 % − 90 % = +3 points
    assert f.point_change(current=93.0, previous=90.0) == 3.0
    # 95.5 − 94.2 = 1.3, exactly as written
    assert f.point_change(current=95.5, previous=94.2) == 1.3
    assert f.point_change(current=95.5, previous=None) is None


# --- invariants ---------------------------------------------------------------------------


@quick
@given(data=st.data(), start=positive_cents)
def test_grr_never_exceeds_100_percent(data, start):
    contraction = data.draw(st.integers(0, int(start * 100)).map(lambda c: D(c) / 100))
    churned = data.draw(st.integers(0, int((start - contraction) * 100)).map(lambda c: D(c) / 100))
    result = f.grr(start_mrr=start, contraction=contraction, churned_mrr=churned)
    assert result is not None
    assert 0 <= result <= 100


@quick
@given(
    customers=st.lists(
        st.tuples(positive_cents, st.one_of(st.just(D(0)), cents)), min_size=1, max_size=30
    )
)
def test_nrr_is_end_over_start_mrr_of_the_start_cohort_and_never_below_grr(customers):
    # Each customer active at start goes from start MRR s to end MRR e (0 = churned).
    churned = sum((s for s, e in customers if e == 0), D(0))
    contraction = sum((s - e for s, e in customers if 0 < e < s), D(0))
    expansion = sum((e - s for s, e in customers if e > s), D(0))
    start = sum((s for s, _ in customers), D(0))
    end = sum((e for _, e in customers), D(0))

    gross = f.grr(start_mrr=start, contraction=contraction, churned_mrr=churned)
    net = f.nrr(start_mrr=start, expansion=expansion, contraction=contraction, churned_mrr=churned)

    assert gross is not None and net is not None
    assert gross <= 100
    assert net >= gross
    assert net == float(end * 100 / start)


mrr_values = st.one_of(st.just(D(0)), st.integers(1, 50_000).map(lambda c: D(c) / 100))


@settings(max_examples=100, deadline=None)
@given(
    paths=st.lists(
        st.tuples(st.booleans(), st.lists(mrr_values, min_size=1, max_size=8)),
        min_size=1,
        max_size=20,
    )
)
def test_mrr_movements_always_sum_to_the_change_in_mrr(paths):
    # Each customer: whether they paid before the period, then their MRR at the start and
    # after each change in the period; every change is classified as the ledger does.
    totals: dict[str, Decimal] = defaultdict(lambda: D(0))
    for paid_before, path in paths:
        had_mrr = paid_before or path[0] > 0
        for before, after in pairwise(path):
            kind = classify(before=before, after=after, had_mrr_before=had_mrr)
            if kind is not None:
                totals[kind] += abs(after - before)
            had_mrr = had_mrr or after > 0

    net = f.net_new_mrr(
        new=totals[MovementKind.NEW],
        expansion=totals[MovementKind.EXPANSION],
        contraction=totals[MovementKind.CONTRACTION],
        churn=totals[MovementKind.CHURN],
        reactivation=totals[MovementKind.REACTIVATION],
    )
    assert net == sum((path[-1] for _, path in paths), D(0)) - sum(
        (path[0] for _, path in paths), D(0)
    )


@quick
@given(data=st.data(), active_at_start=st.integers(min_value=1, max_value=1_000_000))
def test_crr_and_logo_churn_add_up_to_100_when_everyone_stayed_or_left(data, active_at_start):
    retained = data.draw(st.integers(min_value=0, max_value=active_at_start))
    churned = active_at_start - retained
    retention = f.crr(active_at_start=active_at_start, retained=retained)
    churn = f.logo_churn_rate(active_at_start=active_at_start, churned=churned)
    assert retention is not None and churn is not None
    assert retention + churn == pytest.approx(100.0, abs=1e-9)


# --- registry -----------------------------------------------------------------------------

FUNCTION_OF_KEY = {
    "arr": f.mrr_to_arr,
    "net_new_mrr": f.net_new_mrr,
    "logo_churn": f.logo_churn_rate,
    "revenue_churn": f.revenue_churn_rate,
    "crr": f.crr,
    "grr": f.grr,
    "nrr": f.nrr,
    "cer": f.cer,
    "renewal_rate": f.renewal_rate,
    "arpa": f.arpa,
    "clv_discounted": f.clv_discounted,
    "clv_simple": f.clv_simple,
    "cac": f.cac,
    "ltv_cac": f.ltv_to_cac,
    "cac_payback": f.cac_payback_months,
    "referral_rate": f.referral_rate,
    "satisfaction_ratio": f.satisfaction_ratio,
    "csat": f.csat,
    "csi": f.csi,
    "nps": f.nps,
    "ces": f.ces,
}


def test_the_registry_holds_every_metric_of_the_spec():
    assert set(f.FORMULAS) == {
        *("mrr", "arr", "net_new_mrr", "new_mrr", "expansion_mrr", "contraction_mrr"),
        *("churned_mrr", "reactivation_mrr", "logo_churn", "revenue_churn", "crr", "grr"),
        *("nrr", "cer", "renewal_rate", "arpa", "clv_discounted", "clv_simple"),
        *("clv_probabilistic", "cac", "ltv_cac", "cac_payback", "referral_rate"),
        *("satisfaction_ratio", "csat", "csi", "nps", "ces"),
    }
    for key, formula in f.FORMULAS.items():
        assert formula.key == key
        assert formula.unit in {"percent", "money", "months", "ratio", "score", "count"}
        assert str(formula.label) and str(formula.formula)


@pytest.mark.parametrize("key", sorted(FUNCTION_OF_KEY))
def test_each_docstring_states_the_formula_the_tooltip_shows(key):
    def words(text: str) -> str:
        return " ".join(text.split())

    docstring = inspect.getdoc(FUNCTION_OF_KEY[key])
    assert docstring is not None
    assert words(str(f.FORMULAS[key].formula)) in words(docstring)


def test_every_function_takes_keyword_arguments_only():
    functions = [*FUNCTION_OF_KEY.values(), f.percent_change, f.point_change]
    for function in functions:
        for parameter in inspect.signature(function).parameters.values():
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, function.__name__


def test_the_metrics_reference_quotes_every_formula_word_for_word():
    reference = (Path(__file__).resolve().parents[3] / "docs" / "metrics.md").read_text()
    quoted = {line.removeprefix("> ") for line in reference.splitlines() if line.startswith("> ")}
    missing = [key for key, item in f.FORMULAS.items() if str(item.formula) not in quoted]
    assert missing == []
