"""``clv_fit_run`` fits the models on the paid orders and stores the fit and one row per
customer who ordered, with an audit row; a refit replaces the rows; the pipeline step refits
only when there are orders."""

from __future__ import annotations

import math

import pytest

from tend.accounts.models import AuditEntry
from tend.jobs.pipeline import pipeline_run, step_names
from tend.predict.clv_actions import clv_fit_run
from tend.predict.models import ClvFit, CustomerClv, TrainingStatus
from tend.predict.tests.clv_app_data import AS_OF, build_shop

pytestmark = pytest.mark.django_db


def test_a_fit_stores_the_parameters_the_holdout_check_and_every_customers_clv(owner):
    customers = build_shop(80)
    fit = clv_fit_run(by=owner, as_of=AS_OF)
    assert fit.status == TrainingStatus.TRAINED, fit.message
    assert fit.kind == "bgnbd"
    assert fit.customers == 80 == CustomerClv.objects.count()
    assert fit.repeaters >= 20
    assert set(fit.params) >= {"r", "alpha", "a", "b"}
    assert fit.log_likelihood is not None and fit.log_likelihood < 0
    assert fit.spend_log_likelihood is not None
    assert fit.calibration_end.isoformat() == "2026-04-01"  # half-open: the day after as_of
    holdout = fit.diagnostics["holdout"]
    assert holdout["status"] == TrainingStatus.TRAINED
    assert holdout["cutoff"] < holdout["end"] == "2026-04-01"
    assert holdout["expected"] > 0 and holdout["actual"] >= 0
    assert sum(row["customers"] for row in holdout["by_x"]) == holdout["customers"]
    rows = list(CustomerClv.objects.filter(customer__in=customers))
    assert len(rows) == 80
    for row in rows:
        assert 0 <= row.p_alive <= 1
        assert row.expected_purchases >= 0 and math.isfinite(row.expected_purchases)
        assert row.clv is not None and row.clv >= 0
        assert row.expected_spend is not None and row.expected_spend > 0
    one_timers = [r for r in rows if r.frequency == 0]
    assert one_timers and all(r.p_alive == 1 for r in one_timers)  # BG/NBD: x = 0 → alive
    audit = AuditEntry.objects.get(action="clv.fit")
    assert audit.actor == owner and audit.object_id == str(fit.pk)
    assert audit.changes["status"] == "trained"


def test_a_refit_replaces_every_customers_row():
    build_shop(60)
    first = clv_fit_run(by=None, as_of=AS_OF)
    second = clv_fit_run(by=None, as_of=AS_OF)
    assert CustomerClv.objects.count() == 60
    assert set(CustomerClv.objects.values_list("fit_id", flat=True)) == {second.pk}
    assert ClvFit.objects.filter(pk=first.pk).exists()  # kept as history


def test_the_pipeline_refits_clv_after_rfm_and_skips_a_business_without_orders():
    names = step_names()
    assert names.index("clv") == names.index("rfm") + 1
    [result] = pipeline_run(as_of=AS_OF, only=["clv"])
    assert result.counts == {"customers": 0}
    assert not ClvFit.objects.exists()
    build_shop(60)
    [result] = pipeline_run(as_of=AS_OF, only=["clv"])
    assert result.counts["trained"] == 1 and result.counts["customers"] == 60
    assert AuditEntry.objects.get(action="clv.fit").actor_label == "schedule"
