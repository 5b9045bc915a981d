"""The scorecard pages and the customer-page panel, through HTTP: owners edit, members and
viewers only look (403 and nothing changed), bad input re-shows the form naming the field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.health.engine import health_compute, today_utc
from tend.health.models import HealthScore, Scorecard, ScorecardMeasure
from tend.health.tests.helpers import customer, touch, use_days

pytestmark = pytest.mark.django_db


def form(**over: Any) -> dict[str, Any]:
    data = {
        "rows": "2",
        "name": "Default",
        "red_below": "35",
        "green_from": "75",
        "m0-measure": "active_days",
        "m0-days": "14",
        "m0-weight": "2",
        "m0-mapping": "thresholds",
        "m0-direction": "higher",
        "m0-thresholds": "1:20, 5:60, 10:100",
        "m0-order": "2",
        "m1-measure": "days_since_touch",
        "m1-weight": "1",
        "m1-mapping": "thresholds",
        "m1-direction": "lower",
        "m1-thresholds": "7:100, 30:50",
        "m1-order": "1",
    }
    data.update(over)
    return data


def snapshot() -> list[Any]:
    return [
        list(Scorecard.objects.values_list("name", "red_below", "green_from")),
        list(ScorecardMeasure.objects.values_list("measure", "weight", "thresholds")),
    ]


def test_everyone_sees_the_list_only_owners_the_buttons(
    owner_client: Client, member_client: Client, viewer_client: Client
) -> None:
    for client, buttons in ((owner_client, True), (member_client, False), (viewer_client, False)):
        page = client.get("/health/scorecards/")
        assert page.status_code == 200
        html = page.content.decode()
        assert "Default" in html and "weighted average" in html
        assert ('id="health-recompute"' in html) is buttons
        assert ('id="scorecard-new"' in html) is buttons


def test_owner_edits_the_default_scorecard(owner_client: Client) -> None:
    card = Scorecard.objects.get(is_default=True)
    page = owner_client.get(f"/health/scorecards/{card.pk}/")
    assert page.status_code == 200 and "1:15, 3:35" in page.content.decode()
    saved = owner_client.post(f"/health/scorecards/{card.pk}/", form())
    assert saved.status_code == 302
    card.refresh_from_db()
    assert (card.red_below, card.green_from) == (35, 75)
    lines = list(card.measures.all())
    assert [line.measure for line in lines] == ["days_since_touch", "active_days"]  # by order
    assert lines[1].params == {"days": 14} and lines[1].thresholds == [[1, 20], [5, 60], [10, 100]]


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({"m0-weight": "0", "m1-weight": "0"}, "weights must not sum to 0"),
        ({"m0-thresholds": "5:10, 1:50"}, "Measure line 1"),
        ({"m0-thresholds": "1:x"}, "Enter a number"),
        ({"m0-thresholds": "nonsense"}, "value:points"),
        ({"m1-measure": "nope"}, "Unknown measure"),
        ({"m0-days": "-3"}, "params.days"),
        ({"red_below": "90"}, "Green from"),
        ({"name": "a\x00"}, "Name"),
        ({"m0-weight": "NaN"}, "finite"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    owner_client: Client, over: dict[str, Any], words: str
) -> None:
    card = Scorecard.objects.get(is_default=True)
    before = snapshot()
    page = owner_client.post(f"/health/scorecards/{card.pk}/", form(**over))
    assert page.status_code == 400
    assert words in page.content.decode()
    assert snapshot() == before


def test_members_and_viewers_cannot_write(member_client: Client, viewer_client: Client) -> None:
    card = Scorecard.objects.get(is_default=True)
    before = snapshot()
    for client in (member_client, viewer_client):
        assert client.post(f"/health/scorecards/{card.pk}/", form()).status_code == 403
        assert client.post("/health/scorecards/new/", form(name="X")).status_code == 403
        assert client.get("/health/scorecards/new/").status_code == 403
        assert client.post(f"/health/scorecards/{card.pk}/delete/").status_code == 403
        assert client.post("/health/recompute/").status_code == 403
    assert snapshot() == before
    assert not HealthScore.objects.exists()


def test_owner_creates_previews_and_deletes_a_segment_scorecard(owner_client: Client) -> None:
    from tend.segments.models import Segment

    seg = Segment.objects.create(name="Enterprise", condition={"all": []})
    c = customer()
    use_days(c, range(1, 20), end=today_utc())
    data = form(name="Enterprise", segment=str(seg.pk), position="1")
    before = snapshot()
    preview = owner_client.post("/health/scorecards/new/", {**data, "preview": "1"})
    assert preview.status_code == 200
    assert 'id="scorecard-preview"' in preview.content.decode()
    assert snapshot() == before  # a preview saves nothing
    created = owner_client.post("/health/scorecards/new/", data)
    assert created.status_code == 302
    card = Scorecard.objects.get(name="Enterprise")
    assert card.segment_id == seg.pk and not card.is_default
    assert owner_client.post(f"/health/scorecards/{card.pk}/delete/").status_code == 302
    assert not Scorecard.objects.filter(name="Enterprise").exists()
    default = Scorecard.objects.get(is_default=True)
    owner_client.post(f"/health/scorecards/{default.pk}/delete/")
    assert Scorecard.objects.filter(pk=default.pk).exists()


def test_recompute_now_scores_today(owner_client: Client) -> None:
    c = customer()
    use_days(c, range(1, 20), end=today_utc())
    response = owner_client.post("/health/recompute/")
    assert response.status_code == 302
    assert HealthScore.objects.filter(customer=c, day=today_utc()).exists()


def test_customer_panel_shows_score_trend_and_what_pulled_it_down(owner_client: Client) -> None:
    c = customer()
    today = today_utc()
    use_days(c, range(40, 60), end=today)  # active long ago, then quiet
    touch(c, today - timedelta(days=100))
    for k in range(35, -1, -1):
        health_compute(today - timedelta(days=k))
    page = owner_client.get(f"/customers/{c.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="health-score"' in html and 'id="health-colour"' in html
    assert "health-figure" in html
    assert "weighted average" in html and "left out" in html
    assert "What pulled it down" in html
    assert "active 0 of the last 30 days" in html


def test_customer_panel_query_count_is_fixed(owner_client: Client) -> None:
    from tend.health.panel import health_panel_context

    c = customer()
    use_days(c, range(1, 30), end=today_utc())
    for k in range(5, -1, -1):
        health_compute(today_utc() - timedelta(days=k))
    request = owner_client.get("/").wsgi_request
    with CaptureQueriesContext(connection) as few:
        health_panel_context(request, c)
    for k in range(90, 5, -1):
        health_compute(today_utc() - timedelta(days=k))
    with CaptureQueriesContext(connection) as many:
        context = health_panel_context(request, c)
    assert len(few) == len(many) == 1
    assert context is not None and context["latest"].score is not None


def test_customer_panel_without_a_score(owner_client: Client) -> None:
    c = customer()
    html = owner_client.get(f"/customers/{c.pk}/").content.decode()
    assert "Not scored yet" in html


@pytest.mark.parametrize(
    "over",
    [
        {"rows": "99999999"},
        {"rows": "-1"},
        {"condition": "[" * 5000 + "]" * 5000, "segment": ""},
        {"condition": '{"field": "mrr", "op": "gt", "value": NaN}'},
        {"condition": '{"not": ' * 50 + '{"field": "mrr", "op": "gt", "value": 1}' + "}" * 50},
        {"m0-thresholds": "1e400:50"},
        {"m0-weight": "1e400"},
        {"m0-days": "9" * 400},
        {"m0-order": "nan"},
        {"segment": "9" * 40},
        {"red_below": "\x00"},
    ],
)
def test_hostile_editor_input_is_a_400_or_ignored_never_a_500(
    owner_client: Client, over: dict[str, Any]
) -> None:
    before = snapshot()
    response = owner_client.post("/health/scorecards/new/", form(name="Hostile", **over))
    assert response.status_code in {302, 400}
    if response.status_code == 400:
        assert snapshot() == before


def test_the_pipeline_runs_the_health_step() -> None:
    from tend.jobs.pipeline import pipeline_run

    c = customer()
    use_days(c, range(1, 10), end=today_utc())
    [result] = pipeline_run(as_of=today_utc(), only=["health"])
    assert result.error == "" and result.counts["scored"] == 1
    assert HealthScore.objects.filter(customer=c, day=today_utc()).exists()
