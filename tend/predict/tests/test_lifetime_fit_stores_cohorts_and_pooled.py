"""``lifetime_fit`` fits sBG for all customers and each monthly cohort with enough data, and
Cox; it stores one row per fit with the same time, audits the run, and says why a fit is
missing ("not enough data to fit: 3 churned customers, need 10")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tend.accounts.models import AuditEntry
from tend.predict.models import RetentionFit, TrainingStatus
from tend.predict.retention import latest_run, lifetime_fit
from tend.predict.tests.lifetime_data import plant_lives

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)


def test_pooled_and_cohort_fits_are_stored_with_projection_and_actuals() -> None:
    plant_lives(3000, now=NOW, months=12, alpha=0.8, beta=2.5)
    summary = lifetime_fit(label="test", now=NOW)
    assert summary["customers"] == 3000
    pooled = RetentionFit.objects.get(kind="sbg", cohort="all")
    assert pooled.status == TrainingStatus.TRAINED
    assert pooled.customers == 3000 and pooled.events > 100
    # The planted mix (θ halved for 30 %) is close to the planted Beta(0.8, 2.5).
    assert 0.4 < pooled.params["alpha"] < 1.3 and 1.2 < pooled.params["beta"] < 5
    results = pooled.results
    assert len(results["projected"]) == 37 and results["projected"][0] == 100
    assert results["actual"][0] == 100 and len(results["actual"]) >= 12
    assert results["fit_gap_points"] < 5
    assert 0 < results["expected_lifetime_months"] <= 120
    assert [r["after"] for r in results["remaining"]] == [0, 3, 6, 12, 24]
    cohorts = RetentionFit.objects.filter(kind="sbg").exclude(cohort="all")
    assert {c.cohort for c in cohorts} >= {"2025-07", "2026-05"}
    assert all(len(c.cohort) == 7 for c in cohorts)
    assert RetentionFit.objects.filter(fitted_at=NOW).count() == cohorts.count() + 2
    cox = RetentionFit.objects.get(kind="cox")
    assert cox.status == TrainingStatus.TRAINED
    entry = AuditEntry.objects.get(action="lifetime.fit")
    assert entry.actor_label == "test" and entry.changes["customers"] == 3000


def test_the_newest_cohort_has_not_enough_data_and_says_so() -> None:
    plant_lives(3000, now=NOW, months=12)
    lifetime_fit(now=NOW)
    newest = RetentionFit.objects.get(kind="sbg", cohort="2026-06")  # two weeks old
    assert newest.status == TrainingStatus.NOT_ENOUGH_DATA
    assert "not enough data to fit" in newest.message
    assert newest.message_params["need"] == 10


def test_too_few_customers_store_not_enough_data_everywhere() -> None:
    plant_lives(12, now=NOW, months=6)
    lifetime_fit(now=NOW)
    rows = latest_run()
    assert rows and all(r.status == TrainingStatus.NOT_ENOUGH_DATA for r in rows)
    pooled = rows[0]
    assert pooled.cohort == "all"
    assert pooled.message == "not enough data to fit: 12 customers, need 20"
    assert rows[-1].kind == "cox" and "churned customers, need 20" in rows[-1].message


def test_latest_run_reads_only_the_newest_fits() -> None:
    plant_lives(500, now=NOW, months=6)
    lifetime_fit(now=datetime(2026, 6, 1, tzinfo=UTC))
    lifetime_fit(now=NOW)
    rows = latest_run()
    assert {r.fitted_at for r in rows} == {NOW}
    assert rows[0].cohort == "all" and rows[-1].kind == "cox"
    cohorts = [r.cohort for r in rows[1:-1]]
    assert cohorts == sorted(cohorts, reverse=True)
