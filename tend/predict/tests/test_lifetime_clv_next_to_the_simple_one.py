"""The subscription CLV from the sBG projection sits next to the simple one: in
``lifetime_value`` (API and tiles read it) with its inputs, and as a dashboard tile whose
tooltip states the formula. Without a fit it is None and the tile is not shown."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from tend.metrics.filters import Filters
from tend.metrics.kpis import PeriodKpis
from tend.metrics.tile_view import tile_groups
from tend.metrics.tiles import comparison
from tend.metrics.value import lifetime_value
from tend.predict import sbg
from tend.predict.models import RetentionFit, TrainingStatus
from tend.predict.retention import monthly_discount

pytestmark = pytest.mark.django_db


def series() -> list[PeriodKpis]:
    return [
        PeriodKpis(
            start=date(2026, m, 1),
            end=date(2026, m, 28),
            customers_start=100,
            customers_end=100,
            churned=4,
            mrr_start=Decimal("5000"),
            mrr_end=Decimal("5000"),
        )
        for m in (1, 2, 3)
    ]


def fitted(alpha: float = 0.7, beta: float = 3.0) -> RetentionFit:
    return RetentionFit.objects.create(
        kind="sbg",
        cohort="all",
        status=TrainingStatus.TRAINED,
        params={"alpha": alpha, "beta": beta},
        fitted_at=timezone.now(),
    )


def test_without_a_fit_the_sbg_clv_is_none() -> None:
    value = lifetime_value(series())
    assert value["clv_sbg"] is None and value["clv_sbg_status"] == ""
    assert value["clv_simple"] is not None  # the simple one is untouched
    assert value["clv_sbg_months"] == 120


def test_the_sbg_clv_is_arpa_times_margin_times_the_discounted_survival_sum(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TEND_GROSS_MARGIN = "0.8"
    settings.TEND_CLV_DISCOUNT_RATE = Decimal("0.10")
    fitted(0.7, 3.0)
    value = lifetime_value(series())
    d = 1.10 ** (1 / 12) - 1
    assert monthly_discount() == pytest.approx(d)
    expected = 50 * 0.8 * sum(sbg.survival(0.7, 3.0, t) / (1 + d) ** t for t in range(120))
    assert float(value["clv_sbg"]) == pytest.approx(expected, abs=0.01)
    assert value["clv_sbg_alpha"] == 0.7 and value["clv_sbg_beta"] == 3.0
    assert value["clv_sbg_status"] == "trained"
    assert value["clv_simple"] == Decimal("1000.00")  # 50 × 0.8 ÷ 4 %


def test_the_dashboard_tile_shows_both_with_the_formula() -> None:
    fitted()
    kpis = series()
    groups = tile_groups(kpis, Filters(), comparison(kpis, Filters(), today=date(2026, 3, 28)))
    tiles = {t["key"]: t for g in groups for t in g["tiles"]}
    assert "clv_simple" in tiles and "clv_sbg" in tiles
    assert tiles["clv_sbg"]["label"] == "CLV (sBG)"
    assert "Σ S(t) ÷ (1 + d)^t" in tiles["clv_sbg"]["formula"]
    assert "α 0.700, β 3.000" in tiles["clv_sbg"]["note"]


def test_a_fit_without_enough_data_gives_no_sbg_clv() -> None:
    RetentionFit.objects.create(
        kind="sbg", cohort="all", status=TrainingStatus.NOT_ENOUGH_DATA, fitted_at=timezone.now()
    )
    value = lifetime_value(series())
    assert value["clv_sbg"] is None and value["clv_sbg_status"] == "not_enough_data"
