"""A goal limited to a saved segment: set with the form and the API, read from the segment's
live condition, refused with an error naming the field when the segment does not exist."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tend.accounts.actions import apikey_create
from tend.goals.actions import goal_create, goals_evaluate
from tend.goals.models import Goal
from tend.goals.queries import goal_statuses
from tend.goals.tests.helpers import TODAY, build_ledger
from tend.segments.models import Segment

pytestmark = pytest.mark.django_db

CHURN = {"metric": "logo_churn", "target": "2", "period": "month", "comparator": ""}


@pytest.fixture
def organic() -> Segment:
    return Segment.objects.create(
        name="Organic", condition={"field": "channel", "op": "eq", "value": "organic"}
    )


@pytest.fixture
def rw(owner: Any) -> Client:
    raw = apikey_create(name="zapier", kind="read_write", by=owner)[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/goals", body, content_type="application/json")


def test_the_form_limits_a_goal_to_a_segment(owner_client: Any, organic: Segment) -> None:
    form = owner_client.get(reverse("goals:new")).content.decode()
    assert f'<option value="{organic.pk}">Organic</option>' in form
    response = owner_client.post(reverse("goals:new"), {**CHURN, "segment": str(organic.pk)})
    assert response.status_code == 302
    goal = Goal.objects.get()
    assert goal.filters == {"segment": [str(organic.pk)]}
    page = owner_client.get(reverse("goals:list")).content.decode()
    assert "Segment: Organic" in page
    edit = owner_client.get(reverse("goals:edit", args=[goal.pk])).content.decode()
    assert f'<option value="{organic.pk}" selected>Organic</option>' in edit


def test_the_form_refuses_a_segment_that_does_not_exist(
    owner_client: Any, organic: Segment
) -> None:
    response = owner_client.post(reverse("goals:new"), {**CHURN, "segment": "987654"})
    assert response.status_code == 422
    assert 'id="id_segment-error"' in response.content.decode()
    assert not Goal.objects.exists()


def test_a_segment_goal_reads_the_figures_of_the_segment(owner: Any, organic: Segment) -> None:
    ledger = build_ledger(20)
    ledger.churn(5)  # the first customer: paid search (even index), not in the segment
    ledger.churn(6)  # the second: organic
    by_segment = goal_create(
        by=owner, metric="logo_churn", target=Decimal(2), filters={"segment": [organic.pk]}
    )
    by_channel = goal_create(
        by=owner, metric="logo_churn", target=Decimal(2), filters={"channel": ["organic"]}
    )
    everyone = goal_create(by=owner, metric="logo_churn", target=Decimal(2))
    segment_status, channel_status, all_status = goal_statuses(
        [by_segment, by_channel, everyone], today=TODAY
    )
    assert segment_status.error == ""
    assert segment_status.current is not None and channel_status.current is not None
    assert segment_status.current.value == channel_status.current.value == Decimal("10.0000")
    assert all_status.current is not None and all_status.current.value == Decimal("10.0000")
    assert segment_status.current.met is False


def test_the_api_sets_a_segment_and_refuses_a_bad_one_naming_the_field(
    rw: Client, organic: Segment
) -> None:
    created = post(rw, {"metric": "nrr", "target": "100", "filters": {"segment": [organic.pk]}})
    assert created.status_code == 201, created.json()
    assert created.json()["filters"] == {"segment": [str(organic.pk)]}
    goal_id = created.json()["id"]
    for bad, code in (
        ({"segment": [987654]}, "unknown"),
        ({"segment": [organic.pk, organic.pk + 1]}, None),
        ({"segment": ["x"]}, None),
        ({"segment": 3}, None),
    ):
        response = post(rw, {"metric": "nrr", "target": "100", "filters": bad})
        assert response.status_code == 422, (bad, response.json())
        errors = response.json()["errors"]
        assert any(e["field"].startswith("filters") for e in errors), errors
        if code is not None:
            assert errors[0]["code"] == code and "Segment" in errors[0]["message"]
    assert list(Goal.objects.values_list("pk", flat=True)) == [goal_id]
    # Changing only the segment is a new definition: a new revision.
    other = Segment.objects.create(name="Everyone", condition={"all": []})
    patched = rw.patch(
        f"/api/v1/goals/{goal_id}",
        {"filters": {"segment": [other.pk]}},
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["revision"] == 2


def test_a_goal_whose_segment_was_deleted_says_so(owner: Any, owner_client: Any) -> None:
    doomed = Segment.objects.create(name="Doomed", condition={"all": []})
    goal_create(by=owner, metric="mrr", target=Decimal(100), filters={"segment": [doomed.pk]})
    doomed_id = doomed.pk
    doomed.delete()
    html = owner_client.get(reverse("goals:list")).content.decode()
    assert "This goal cannot be read: Segment: no segment with id" in html
    assert f"deleted segment #{doomed_id}" in html
    assert owner_client.get(reverse("goals:panel")).status_code == 200
    result = goals_evaluate(today=TODAY)
    assert next(iter(result.errors.values())).startswith("Segment:")


def test_the_dashboard_panel_puts_goals_for_the_shown_segment_first(
    owner: Any, owner_client: Any, organic: Segment
) -> None:
    goal_create(by=owner, metric="nrr", target=Decimal(100), name="For all")
    goal_create(
        by=owner,
        metric="nrr",
        target=Decimal(100),
        name="For organic",
        filters={"segment": [organic.pk]},
    )
    html = owner_client.get(reverse("goals:panel"), {"segment": organic.pk}).content.decode()
    assert html.index("For organic") < html.index("For all")


def test_a_goal_cannot_be_limited_to_a_segment_whose_condition_is_broken(rw: Client) -> None:
    inner = Segment.objects.create(name="Inner", condition={"all": []})
    outer = Segment.objects.create(
        name="Outer", condition={"field": "segment", "op": "eq", "value": inner.pk}
    )
    inner.delete()
    response = post(rw, {"metric": "nrr", "target": "100", "filters": {"segment": [outer.pk]}})
    assert response.status_code == 422
    assert "Segment" in response.json()["errors"][0]["message"]
    assert not Goal.objects.exists()
