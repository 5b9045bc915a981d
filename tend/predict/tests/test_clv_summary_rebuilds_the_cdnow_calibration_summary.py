"""purchase_summary on the raw CDNOW orders rebuilds the published summary exactly."""

from __future__ import annotations

import numpy as np

from tend.predict.clv import purchase_summary
from tend.predict.tests import clv_data


def _summary():  # type: ignore[no-untyped-def]
    return purchase_summary(
        clv_data.transactions(),
        customer="customer",
        when="when",
        amount="amount",
        start="1997-01-01",
        end="1997-10-01",  # half-open: the 39 weeks 1997-01-01 … 1997-09-30
        holdout_end="1998-07-01",  # weeks 40–78
    )


def test_frequency_recency_and_t_equal_the_published_csv() -> None:
    s = _summary()
    ref = clv_data.published_rft()
    assert len(s) == 2357
    assert (s.customers == ref["ID"].to_numpy()).all()
    assert (s.frequency == ref["frequency"].to_numpy()).all()
    # The CSV has 2 decimals; ours are exact (days / 7).
    assert (np.round(s.recency, 2) == ref["recency"].to_numpy()).all()
    assert (np.round(s.T, 2) == ref["T"].to_numpy()).all()


def test_mean_repeat_value_equals_the_published_zbar_to_the_cent() -> None:
    s = _summary()
    zbar = clv_data.published_summary()["zbar"].to_numpy()
    # zbar is rounded to cents (half a cent either way, depending on how the .5 was rounded).
    assert np.abs(s.monetary_value - zbar).max() <= 0.005 + 1e-9


def test_the_holdout_weeks_40_to_78_have_1882_repeat_purchase_days() -> None:
    s = _summary()
    assert s.holdout_frequency is not None
    assert s.holdout_frequency.sum() == 1882
    assert s.holdout_length == 39.0


def test_units_scale_times_and_leave_counts_alone() -> None:
    weeks = _summary()
    days = purchase_summary(
        clv_data.transactions(),
        customer="customer",
        start="1997-01-01",
        end="1997-10-01",
        unit="day",
    )
    assert (days.frequency == weeks.frequency).all()
    assert np.allclose(days.T, weeks.T * 7)
    assert days.T.max() == 272  # 1997-01-01 to 1997-09-30


def test_a_small_hand_made_history() -> None:
    import datetime as dt

    utc = dt.UTC
    rows = [
        ("ann", dt.datetime(2024, 1, 1, 9, tzinfo=utc), 10.0),
        ("ann", dt.datetime(2024, 1, 1, 18, tzinfo=utc), 5.0),  # same day: one purchase day
        ("ann", dt.datetime(2024, 1, 8, 12, tzinfo=utc), 20.0),
        ("ann", dt.datetime(2024, 1, 15, 12, tzinfo=utc), 40.0),
        ("bob", dt.datetime(2024, 1, 29, 12, tzinfo=utc), 7.0),
        ("bob", dt.datetime(2024, 2, 2, 12, tzinfo=utc), 9.0),  # after the range: holdout
        ("cat", dt.datetime(2023, 12, 30, 12, tzinfo=utc), 3.0),  # before start: ignored
    ]
    s = purchase_summary(
        rows, start="2024-01-01", end="2024-02-01", unit="day", holdout_end="2024-03-01"
    )
    assert list(s.customers) == ["ann", "bob"]
    assert list(s.frequency) == [2.0, 0.0]
    assert list(s.recency) == [14.0, 0.0]
    assert list(s.T) == [30.0, 2.0]  # to 2024-01-31, the last day of the range
    assert list(s.monetary_value) == [30.0, 0.0]  # (20 + 40) / 2; the first day is left out
    assert s.holdout_frequency is not None and list(s.holdout_frequency) == [0.0, 1.0]
    assert s.n_repeaters == 1
    frame = s.to_frame()
    assert frame.loc["ann", "frequency"] == 2.0
