"""Bad input raises ValueError naming the field; too few repeat buyers raises NotEnoughData."""

from __future__ import annotations

import math

import pytest

from tend.predict.clv import (
    clv_discounted,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
    purchase_summary,
)
from tend.predict.clv.bgnbd import BGNBDFit
from tend.predict.errors import NotEnoughData

FITS = [fit_bgnbd, fit_pareto_nbd]
MODEL = BGNBDFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, n=1)


@pytest.mark.parametrize("fit", FITS)
@pytest.mark.parametrize(
    ("x", "tx", "t", "field"),
    [
        ([1, -1], [1, 0], [2, 2], "frequency"),
        ([1, 0], [-1, 0], [2, 2], "recency"),
        ([1, 0], [1, 0], [2, -2], "T"),
        ([1, 0], [3, 0], [2, 2], "recency"),  # recency > T
        ([1, 0], [1, 1], [2, 2], "recency"),  # frequency 0 with recency > 0
        ([1, math.nan], [1, 0], [2, 2], "frequency"),
        ([1, 0], [math.nan, 0], [2, 2], "recency"),
        ([1, 0], [1, 0], [2, math.inf], "T"),
        ([1.5, 0], [1, 0], [2, 2], "frequency"),
        ([], [], [], "frequency"),
        ([1, 0], [1], [2, 2], "frequency, recency, T"),
    ],
)
def test_purchase_models_name_the_bad_field(fit, x, tx, t, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=rf"^{field}:"):
        fit(x, tx, t)


@pytest.mark.parametrize(
    ("x", "m", "field"),
    [
        ([1, 2], [10, -1], "monetary_value"),
        ([1, 2], [10, 0], "monetary_value"),
        ([1, 2], [10, math.nan], "monetary_value"),
        ([1, -2], [10, 3], "frequency"),
        ([], [], "frequency"),
    ],
)
def test_the_spend_model_names_the_bad_field(x, m, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=rf"^{field}:"):
        fit_gamma_gamma(x, m)


@pytest.mark.parametrize("fit", FITS)
def test_too_few_repeat_buyers_is_not_enough_data(fit) -> None:  # type: ignore[no-untyped-def]
    x = [0] * 50 + [1] * 3
    tx = [0] * 50 + [2] * 3
    t = [10] * 53
    with pytest.raises(NotEnoughData) as info:
        fit(x, tx, t)
    assert info.value.params == {"have": 3, "need": 10}
    assert str(info.value) == "not enough data to fit: 3 repeat buyers, need 10"
    assert info.value.message_id == "not enough data to fit: {have} repeat buyers, need {need}"


def test_the_spend_model_also_needs_repeat_buyers() -> None:
    with pytest.raises(NotEnoughData, match="2 repeat buyers, need 5"):
        fit_gamma_gamma([0, 1, 2], [0, 5, 6], min_repeaters=5)


def test_predictions_name_the_bad_field() -> None:
    with pytest.raises(ValueError, match=r"^t:"):
        MODEL.expected_purchases(-1, [1], [1], [2])
    with pytest.raises(ValueError, match=r"^recency:"):
        MODEL.p_alive([1], [3], [2])
    with pytest.raises(ValueError, match=r"^spend:"):
        clv_discounted(MODEL, [1], [1], [2], [math.nan])
    with pytest.raises(ValueError, match=r"^months:"):
        clv_discounted(MODEL, [1], [1], [2], [10.0], months=0)
    with pytest.raises(ValueError, match=r"^unit:"):
        clv_discounted(MODEL, [1], [1], [2], [10.0], unit="fortnight")


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([("a", "2024-01-01", math.nan)], "amount"),
        ([("a", "2024-01-01", -5.0)], "amount"),
        ([("a", None, 5.0)], "when"),
        ([("a", "not a date", 5.0)], "when"),
        ([(None, "2024-01-01", 5.0)], "customer"),
    ],
)
def test_the_summary_names_the_bad_field(rows, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=rf"^{field}:"):
        purchase_summary(rows, end="2024-02-01")


def test_the_summary_refuses_an_empty_range_and_unknown_units() -> None:
    with pytest.raises(ValueError, match=r"^start:"):
        purchase_summary([], start="2024-02-01", end="2024-02-01")
    with pytest.raises(ValueError, match=r"^unit:"):
        purchase_summary([], end="2024-02-01", unit="year")  # type: ignore[arg-type]


def test_a_summary_without_purchases_is_empty_and_fitting_it_names_the_field() -> None:
    s = purchase_summary([], end="2024-02-01")
    assert len(s) == 0
    with pytest.raises(ValueError, match=r"^frequency: empty"):
        fit_bgnbd(s.frequency, s.recency, s.T)
