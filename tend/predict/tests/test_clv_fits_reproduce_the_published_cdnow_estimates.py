"""Our fits on the CDNOW calibration summary give the published estimates.

Published: BG/NBD — Fader, Hardie & Lee (2005), r = 0.243, α = 4.414, a = 0.793, b = 2.426,
LL −9,582.4. Pareto/NBD — Fader & Hardie (2005 note), r = 0.553, α = 10.578, s = 0.606,
β = 11.669, LL −9,595.0. Gamma-Gamma — Fader, Hardie & Lee (2005, "RFM and CLV") / Fader &
Hardie (2013 note), p = 6.25, q = 3.74, γ = 15.44, LL −4,055.9.

Fitted on the summary rebuilt from the orders (exact recency and mean spend), every
parameter rounds to the published value. The CSV summaries round recency and zbar to 2
decimals, which moves the two parameters that sit on a flat ridge of the likelihood a little:
Pareto/NBD β (11.6679 instead of 11.6687; published 11.669) and Gamma-Gamma γ (15.4477 instead
of 15.4435; published 15.44). On the CSV we check those two with numpy's
``assert_almost_equal(decimal=d)`` criterion, |ours − published| < 1.5·10⁻ᵈ. That our values
are the maximum was checked independently (mpmath at 40 digits for Pareto/NBD, Nelder-Mead at
tight tolerance for both). Gamma-Gamma is published to 2 decimals; that is what we test.
"""

from __future__ import annotations

import numpy as np
import pytest

from tend.predict.clv import fit_bgnbd, fit_gamma_gamma, fit_pareto_nbd, purchase_summary
from tend.predict.clv.pareto import pareto_nbd_loglik
from tend.predict.tests import clv_data


def test_bgnbd_matches_fader_hardie_lee_2005_to_three_decimals() -> None:
    fit = fit_bgnbd(*clv_data.xtt())
    assert fit.converged
    assert (round(fit.r, 3), round(fit.alpha, 3), round(fit.a, 3), round(fit.b, 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert fit.n == 2357


def test_pareto_nbd_matches_fader_hardie_2005_to_three_decimals() -> None:
    fit = fit_pareto_nbd(*clv_data.xtt())
    assert (round(fit.r, 3), round(fit.alpha, 3), round(fit.s, 3)) == (0.553, 10.578, 0.606)
    # β lies on a flat ridge: numpy's decimal=3 criterion (see module doc).
    np.testing.assert_almost_equal(fit.beta, 11.669, decimal=3)
    assert fit.log_likelihood == pytest.approx(-9595.0, abs=0.1)


def test_pareto_nbd_maximum_is_higher_than_at_the_published_values() -> None:
    x, tx, t_ = clv_data.xtt()
    fit = fit_pareto_nbd(x, tx, t_)
    published = pareto_nbd_loglik(np.array([0.553, 10.578, 0.606, 11.669]), x, tx, t_).sum()
    assert fit.log_likelihood >= published


def test_gamma_gamma_matches_the_published_two_decimals() -> None:
    d = clv_data.published_summary()
    fit = fit_gamma_gamma(d["x"], d["zbar"])
    # Published to 2 decimals, so that is the precision we test (γ: decimal=2 criterion, above).
    assert (round(fit.p, 2), round(fit.q, 2)) == (6.25, 3.74)
    np.testing.assert_almost_equal(fit.gamma, 15.44, decimal=2)
    # The published LL is the full density of the mean spend, constants included.
    assert fit.log_likelihood == pytest.approx(-4055.9, abs=0.1)
    assert fit.n == 946


def test_fitting_on_one_row_per_customer_or_on_weighted_distinct_rows_gives_the_same_fit() -> None:
    x, tx, t_ = clv_data.xtt()
    rows = np.column_stack([x, tx, t_])
    uniq, counts = np.unique(rows, axis=0, return_counts=True)
    a = fit_bgnbd(x, tx, t_)
    b = fit_bgnbd(uniq[:, 0], uniq[:, 1], uniq[:, 2], weights=counts)
    assert b.n == a.n
    assert b.log_likelihood == pytest.approx(a.log_likelihood, abs=1e-6)
    assert b.r == pytest.approx(a.r, rel=1e-6)


def test_a_penalty_shrinks_the_parameters_and_is_off_by_default() -> None:
    x, tx, t_ = clv_data.xtt()
    plain = fit_bgnbd(x, tx, t_)
    penalised = fit_bgnbd(x, tx, t_, penalizer=0.01)
    assert penalised.alpha < plain.alpha
    assert penalised.log_likelihood < plain.log_likelihood


def test_on_the_summary_rebuilt_from_the_orders_every_parameter_rounds_to_the_published_one() -> (
    None
):
    s = purchase_summary(clv_data.transactions(), start="1997-01-01", end="1997-10-01")
    bg = fit_bgnbd(s.frequency, s.recency, s.T)
    pn = fit_pareto_nbd(s.frequency, s.recency, s.T)
    gg = fit_gamma_gamma(s.frequency, s.monetary_value)
    assert [round(v, 3) for v in bg.params.values()] == [0.243, 4.414, 0.793, 2.426]
    assert [round(v, 3) for v in pn.params.values()] == [0.553, 10.578, 0.606, 11.669]
    assert [round(v, 2) for v in gg.params.values()] == [6.25, 3.74, 15.44]
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert pn.log_likelihood == pytest.approx(-9595.0, abs=0.1)
    assert gg.log_likelihood == pytest.approx(-4055.9, abs=0.1)
