"""/predict/lifetime/: everyone signed in reads the projection, the two CLVs and the Cox
table; the "not enough data" state says why; owners refit (audited), others get 403 and
change nothing; the page's query count does not grow with customers or cohorts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tend.accounts.models import AuditEntry
from tend.predict.lifetime_views import param_text
from tend.predict.models import RetentionFit
from tend.predict.retention import lifetime_fit
from tend.predict.tests.lifetime_data import plant_lives

pytestmark = pytest.mark.django_db
URL = "/predict/lifetime/"


def test_before_any_fit_the_page_says_so(viewer_client: Any) -> None:
    response = viewer_client.get(URL)
    assert response.status_code == 200
    assert b"No retention projection yet" in response.content
    assert b"lifetime-refit" not in response.content  # viewers cannot refit


def test_the_page_shows_alpha_beta_lifetime_clv_and_cox(member_client: Any) -> None:
    plant_lives(2000, now=timezone.now(), months=18)
    lifetime_fit()
    response = member_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    pooled = RetentionFit.objects.get(kind="sbg", cohort="all")
    assert f"{param_text(pooled.params['alpha'])}, {param_text(pooled.params['beta'])}" in html
    assert 'id="fig-lifetime-all"' in html and 'id="fig-lifetime-cohorts"' in html
    assert "CLV (simple formula)" in html and "CLV (retention projection, sBG)" in html
    assert "Σ S(t) ÷ (1 + d)^t" in html  # the formula in the tooltip
    assert "Concordance" in html and 'id="cox-table"' in html
    assert "leave at" in html and "the rate of “Monthly”" in html
    assert "lengthens lifetime" in html and 'id="cox-findings"' in html
    assert "lifetime-refit" not in html  # members read only


def test_not_enough_data_is_shown_with_the_reason(owner_client: Any) -> None:
    plant_lives(8, now=timezone.now(), months=6)
    lifetime_fit()
    html = owner_client.get(URL).content.decode()
    assert "not enough data to fit: 8 customers, need 20" in html
    assert 'id="cox-not-enough"' in html
    assert "not enough data to fit:" in html and "churned customers, need 20" in html


def test_an_owner_refits_and_the_run_is_audited(owner_client: Any, owner: Any) -> None:
    plant_lives(300, now=timezone.now(), months=6)
    response = owner_client.post(URL + "refit/")
    assert response.status_code == 302 and response["Location"] == URL
    assert RetentionFit.objects.filter(kind="sbg", cohort="all").count() == 1
    entry = AuditEntry.objects.get(action="lifetime.fit")
    assert entry.actor == owner


@pytest.mark.parametrize("who", ["member_client", "viewer_client"])
def test_others_cannot_refit_and_nothing_changes(who: str, request: Any) -> None:
    client = request.getfixturevalue(who)
    plant_lives(300, now=timezone.now(), months=6)
    response = client.post(URL + "refit/")
    assert response.status_code == 403
    assert (
        not RetentionFit.objects.exists()
        and not AuditEntry.objects.filter(action="lifetime.fit").exists()
    )


def test_a_get_on_refit_is_refused(owner_client: Any) -> None:
    assert owner_client.get(URL + "refit/").status_code == 405
    assert not RetentionFit.objects.exists()


def test_signed_out_visitors_are_sent_to_the_login(outsider_client: Any) -> None:
    assert outsider_client.get(URL).status_code == 302
    assert outsider_client.post(URL + "refit/").status_code in (302, 403)
    assert not RetentionFit.objects.exists()


def _queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == 200
    return len(captured)


def test_the_page_reads_in_the_same_number_of_queries_for_more_cohorts(owner_client: Any) -> None:
    now = datetime.now(UTC)
    plant_lives(300, now=now, months=4, seed=1)
    lifetime_fit(now=now)
    few = _queries(owner_client)
    plant_lives(2000, now=now, months=30, seed=2)
    lifetime_fit(now=now + timedelta(seconds=1))
    many = _queries(owner_client)
    assert many == few, (few, many)


def test_a_post_to_the_page_itself_is_refused(viewer_client: Any, owner_client: Any) -> None:
    assert viewer_client.post(URL, {"name": "x"}).status_code == 405
    assert owner_client.post(URL).status_code == 405
    assert not RetentionFit.objects.exists()
