"""Segment pages: the list (constant queries), the builder saving its JSON, errors shown at
the condition's path with nothing saved, the live count, the detail page with history and
members, refresh and delete; viewers read but every POST is a 403 that changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tend.accounts.models import AuditEntry, User
from tend.segments.actions import segment_create
from tend.segments.membership import segments_refresh, today_utc
from tend.segments.models import Segment
from tend.segments.tests.segment_helpers import BIG, customers, resize

pytestmark = pytest.mark.django_db


def post_rule(client: Client, url: str, **fields: Any) -> Any:
    data = {"name": "Big", "description": "", **fields}
    if not isinstance(data.get("condition"), str):
        data["condition"] = json.dumps(data.get("condition", BIG))
    return client.post(url, data)


def test_the_list_shows_members_and_the_30_day_change(owner_client: Client) -> None:
    a, _b, small = customers(100, 200, 5)
    segment = segment_create(
        by=None, name="Big", condition=BIG, description="Over 100 people", refresh=False
    )
    segments_refresh(today_utc() - timedelta(days=3))  # the first refresh: 2 members
    resize(a, 1)
    resize(small, 500)
    segments_refresh()

    html = owner_client.get(reverse("segments:list")).content.decode()

    assert "Big" in html and "Over 100 people" in html
    assert "Change = customers who entered − customers who left in the last 30 days" in html
    assert "1 in, 1 out" in html  # the first refresh's members are not counted as moves
    segment.refresh_from_db()
    assert segment.member_count == 2
    assert ">Segments<" in html  # the navigation entry


def test_the_list_runs_a_constant_number_of_queries(owner_client: Client) -> None:
    customers(100, 200)
    segment_create(by=None, name="S0", condition=BIG)
    owner_client.get(reverse("segments:list"))
    with CaptureQueriesContext(connection) as few:
        owner_client.get(reverse("segments:list"))
    for n in range(1, 12):
        segment_create(by=None, name=f"S{n}", condition=BIG)
    with CaptureQueriesContext(connection) as many:
        response = owner_client.get(reverse("segments:list"))
    assert response.content.decode().count("data-segment=") == 12
    assert len(many) == len(few)


def test_the_builder_saves_the_json_of_its_hidden_field(member_client: Client) -> None:
    big, _small = customers(150, 3)
    page = member_client.get(reverse("segments:new"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="condition-catalog"' in html and 'id="builder-texts"' in html
    assert "segments/builder.js" in html
    assert "<script>" not in html.replace('<script src="', "")  # nothing inline

    rule = {"all": [BIG, {"any": [{"field": "stage", "op": "in", "value": ["prospect"]}]}]}
    response = post_rule(member_client, reverse("segments:new"), condition=rule)

    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("segments:detail", args=[segment.pk])
    assert segment.condition == rule
    assert list(segment.members.values_list("customer_id", flat=True)) == [big.pk]


def test_a_bad_rule_is_shown_at_its_path_and_nothing_is_saved(owner_client: Client) -> None:
    rule = {"all": [BIG, {"any": [{"field": "mrr", "op": "gt", "value": "lots"}]}]}
    response = post_rule(owner_client, reverse("segments:new"), condition=rule)

    assert response.status_code == 422
    html = response.content.decode()
    assert "all[1].any[0].value" in html
    problem = html.split('id="condition-problem" type="application/json">')[1].split("<")[0]
    assert json.loads(problem)["path"] == "all[1].any[0].value"
    assert not Segment.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="segment").exists()


@pytest.mark.parametrize(
    "text", ["{not json", '{"field": "size", "op": "gt", "value": NaN}', "[" * 5000, "x" * 300_000]
)
def test_text_that_is_not_a_condition_is_a_form_error(owner_client: Client, text: str) -> None:
    response = post_rule(owner_client, reverse("segments:new"), condition=text)
    assert response.status_code == 422
    assert not Segment.objects.exists()


def test_a_taken_name_and_a_nul_byte_are_form_errors(owner_client: Client) -> None:
    segment_create(by=None, name="Big", condition=BIG)
    response = post_rule(owner_client, reverse("segments:new"), name="big")
    assert response.status_code == 422
    assert "exists already" in response.content.decode()
    response = post_rule(owner_client, reverse("segments:new"), name="a\x00b")
    assert response.status_code == 422
    assert Segment.objects.count() == 1


def test_the_live_count_counts_describes_and_names_the_path_of_errors(
    member_client: Client,
) -> None:
    customers(100, 200, 5)
    url = reverse("segments:count")

    html = member_client.post(url, {"condition": json.dumps(BIG)}).content.decode()
    assert 'id="preview-count">2<' in html
    assert "customers match now" in html
    assert 'id="preview-sentence"' in html

    bad = {"any": [BIG, {"field": "size", "op": "between", "value": [1]}]}
    response = member_client.post(url, {"condition": json.dumps(bad)})
    assert response.status_code == 200
    assert 'data-error-path="any[1].value"' in response.content.decode()

    garbage = member_client.post(url, {"condition": '{"all": ["\\ud800"]}'})
    assert garbage.status_code == 200 and "data-error-path" in garbage.content.decode()
    assert member_client.get(url).status_code == 200  # no condition: everyone


def test_the_live_count_runs_a_constant_number_of_queries(member_client: Client) -> None:
    url = reverse("segments:count")
    customers(100)
    with CaptureQueriesContext(connection) as few:
        member_client.post(url, {"condition": json.dumps(BIG)})
    customers(*range(100, 140))
    with CaptureQueriesContext(connection) as many:
        member_client.post(url, {"condition": json.dumps(BIG)})
    assert len(many) == len(few)


def test_the_detail_page_shows_rule_history_and_paged_members(viewer_client: Client) -> None:
    people = customers(*[100 + n for n in range(60)], 1)
    segment = segment_create(
        by=None, name="Big", condition=BIG, description="Large teams", refresh=False
    )
    segments_refresh(today_utc() - timedelta(days=3))
    resize(people[0], 2)
    segments_refresh()

    response = viewer_client.get(reverse("segments:detail", args=[segment.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Large teams" in html
    assert 'id="segment-sentence"' in html
    assert 'id="moves-figure"' in html and 'id="members-figure"' in html
    assert f'href="/customers/?segment={segment.pk}"' in html
    assert "Page 1 of 2" in html
    assert html.count("data-customer=") == 50
    second = viewer_client.get(reverse("segments:detail", args=[segment.pk]) + "?page=2")
    assert second.content.decode().count("data-customer=") == 9
    assert people[-1].name not in html
    assert 'id="segment-edit"' not in html  # viewers get no write buttons


def test_editing_changes_the_rule_and_its_members(owner_client: Client) -> None:
    _big, small = customers(100, 5)
    segment = segment_create(by=None, name="Big", condition=BIG)
    url = reverse("segments:edit", args=[segment.pk])
    assert "Big" in owner_client.get(url).content.decode()

    small_rule = {"field": "size", "op": "lt", "value": 50}
    response = post_rule(owner_client, url, name="Small", condition=small_rule)

    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.condition) == ("Small", small_rule)
    assert list(segment.members.values_list("customer_id", flat=True)) == [small.pk]


def test_refresh_now_and_delete(owner_client: Client) -> None:
    _big, small = customers(100, 5)
    segment = segment_create(by=None, name="Big", condition=BIG)
    resize(small, 500)

    response = owner_client.post(reverse("segments:refresh", args=[segment.pk]), follow=True)
    assert "Refreshed: 1 entered, 0 left, 2 members." in response.content.decode()

    response = owner_client.post(reverse("segments:delete", args=[segment.pk]))
    assert response["Location"] == reverse("segments:list")
    assert not Segment.objects.exists()


@pytest.mark.parametrize("name", ["new", "edit", "refresh", "delete"])
def test_viewers_may_not_post_and_nothing_changes(
    viewer_client: Client, viewer: User, name: str
) -> None:
    customers(100)
    segment = segment_create(by=None, name="Big", condition=BIG)
    args = [] if name == "new" else [segment.pk]
    before = list(Segment.objects.values())
    response = post_rule(
        viewer_client, reverse(f"segments:{name}", args=args), name="Changed", condition={"all": []}
    )
    assert response.status_code == 403
    assert list(Segment.objects.values()) == before
    assert not AuditEntry.objects.filter(actor=viewer).exists()
    if name in ("new", "edit"):
        assert viewer_client.get(reverse(f"segments:{name}", args=args)).status_code == 403


def test_every_page_needs_a_login(outsider_client: Client) -> None:
    segment = segment_create(by=None, name="Big", condition=BIG)
    for url in [
        reverse("segments:list"),
        reverse("segments:new"),
        reverse("segments:detail", args=[segment.pk]),
        reverse("segments:count"),
    ]:
        response = outsider_client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_missing_segment_is_a_404(owner_client: Client) -> None:
    assert owner_client.get(reverse("segments:detail", args=[999])).status_code == 404
    assert owner_client.post(reverse("segments:delete", args=[999])).status_code == 404


def test_the_detail_page_runs_a_constant_number_of_queries(owner_client: Client) -> None:
    customers(*range(100, 105))
    segment = segment_create(by=None, name="Big", condition=BIG)
    url = reverse("segments:detail", args=[segment.pk])
    owner_client.get(url)
    with CaptureQueriesContext(connection) as few:
        owner_client.get(url)
    customers(*range(200, 260))
    segments_refresh(segments=[segment])
    with CaptureQueriesContext(connection) as many:
        response = owner_client.get(url)
    assert response.content.decode().count("data-customer=") == 50
    assert len(many) == len(few)
