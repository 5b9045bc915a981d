"""The trait-only mode: a customer table with a churned flag and traits but no history (a CSV
from a CRM) becomes a training set; bad rows are named by row and column, never dropped."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tend.factories import make_customer
from tend.predict.training import (
    TraitsTableError,
    customers_traits_training_set,
    traits_training_set,
)

ROWS = [
    {"id": "a1", "churned": "yes", "seats": "5", "plan": "gold", "notes": "x", "status": "lost"},
    {"id": "a2", "churned": "否", "seats": "12", "plan": "silver", "notes": "y", "status": "ok"},
    {"id": "a3", "churned": "TRUE", "seats": "", "plan": "gold", "notes": "z", "status": "lost"},
    {"id": "a4", "churned": "0", "seats": "1,200", "plan": "", "notes": "w", "status": "ok"},
]


def test_a_customer_table_becomes_a_training_set() -> None:
    result = traits_training_set(ROWS, label="churned", id_column="id")
    assert list(result.y) == [1, 0, 1, 0]
    assert list(result.customer_id) == ["a1", "a2", "a3", "a4"]
    assert result.kinds == {"seats": "numeric", "plan": "categorical", "notes": "categorical"}
    assert result.X["seats"].dtype == np.float64
    assert list(result.X["seats"].fillna(-1)) == [5.0, 12.0, -1.0, 1200.0]
    assert list(result.X["plan"].fillna("—")) == ["gold", "silver", "gold", "—"]
    assert np.isnat(result.day).all()


def test_a_column_that_looks_like_the_outcome_is_left_out() -> None:
    result = traits_training_set(ROWS, label="churned", id_column="id")
    assert "status" not in result.X.columns


def test_free_text_is_left_out() -> None:
    rows = [
        {"churned": str(i % 2), "comment": f"said something else, number {i}"} for i in range(60)
    ]
    assert "comment" not in traits_training_set(rows, label="churned").kinds


def test_without_an_id_column_rows_are_numbered_from_one() -> None:
    result = traits_training_set(ROWS, label="churned")
    assert list(result.customer_id) == [1, 2, 3, 4]


def test_bad_rows_are_named_by_row_and_column() -> None:
    rows = [
        *ROWS,
        {"id": "a5", "churned": "maybe", "seats": "3"},
        {"id": "a1", "churned": "1", "seats": "3"},
        {"id": "", "churned": "1", "seats": "3"},
        {"id": "a8", "seats": "3"},
        {"id": "a9", "churned": "1", "seats": "3\x00"},
        {"id": "a10", "churned": "1", None: ["extra"]},
    ]
    with pytest.raises(TraitsTableError) as caught:
        traits_training_set(rows, label="churned", id_column="id")
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(5, "churned"), (6, "id"), (7, "id"), (8, "churned"), (9, "seats"), (10, "")}
    assert "row 5, column “churned”" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_the_customers_whose_traits_carry_a_churned_flag(db) -> None:  # type: ignore[no-untyped-def]
    a = make_customer(traits={"churned": True, "seats": 4}, industry="retail")
    b = make_customer(traits={"churned": False, "seats": 9}, industry="retail")
    make_customer(traits={"seats": 1})  # no flag: not in the table
    result = customers_traits_training_set(label="churned")
    assert list(result.customer_id) == [a.pk, b.pk]
    assert list(result.y) == [1, 0]
    assert list(result.X["seats"]) == [4.0, 9.0]
    assert list(result.X["industry"]) == ["retail", "retail"]


_cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["NaN", "inf", "-inf", "1e999", "9" * 400, "\x00", "\ud800", "是", "否"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.none(),
    st.booleans(),
)
_row = st.dictionaries(
    st.one_of(st.sampled_from(["churned", "id", "seats", "plan"]), st.text(max_size=8)),
    _cell,
    max_size=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(_row, max_size=12), with_id=st.booleans())
def test_any_table_gives_a_clean_error_or_a_clean_frame(rows, with_id) -> None:  # type: ignore[no-untyped-def]
    try:
        result = traits_training_set(rows, label="churned", id_column="id" if with_id else None)
    except TraitsTableError as error:
        assert error.problems
        for problem in error.problems:
            assert 1 <= problem.row <= len(rows)
            str(problem).encode("utf-8")
        return
    assert len(result.X) == len(result.y) == len(result.customer_id) == len(rows)
    assert set(result.y) <= {0, 1}
    for name, kind in result.kinds.items():
        column = result.X[name]
        if kind == "numeric":
            assert column.dtype == np.float64
            assert all(math.isnan(v) or math.isfinite(v) for v in column)
        else:
            assert all(v is None or isinstance(v, str) or math.isnan(v) for v in column)
            assert all("\x00" not in v for v in column if isinstance(v, str))
