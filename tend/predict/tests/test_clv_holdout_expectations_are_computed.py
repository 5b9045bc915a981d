"""The CDNOW holdout (weeks 40–78): the actual count, and our expectations, computed finitely.

We do not test closeness: BG/NBD expects about 1,653 repeat purchase days (Pareto/NBD 1,666)
against 1,882 observed; docs/clv.md reports the comparison.
"""

from __future__ import annotations

import numpy as np

from tend.predict.clv import fit_bgnbd, fit_pareto_nbd, purchase_summary
from tend.predict.tests import clv_data


def test_expected_and_actual_holdout_purchases() -> None:
    s = purchase_summary(
        clv_data.transactions(), start="1997-01-01", end="1997-10-01", holdout_end="1998-07-01"
    )
    assert s.holdout_frequency is not None and s.holdout_length == 39.0
    assert s.holdout_frequency.sum() == 1882
    for fit in (fit_bgnbd, fit_pareto_nbd):
        model = fit(s.frequency, s.recency, s.T)
        conditional = model.expected_purchases(s.holdout_length, s.frequency, s.recency, s.T)
        tracking = model.expected_purchases_new(
            s.T + s.holdout_length
        ) - model.expected_purchases_new(s.T)
        for expected in (conditional, tracking):
            assert np.isfinite(expected).all() and (expected >= 0).all()
            assert 0 < expected.sum() < 10 * 1882
