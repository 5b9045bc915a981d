"""Trait values Tend changes or cannot use are never changed silently: converted by a documented
rule (country names to ISO codes) or kept in ``traits``, flagged in the answer and counted on the
data-quality page."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.accounts.models import User
from tend.customers.models import Contact, Customer
from tend.ingest.tracking.tests.conftest import stats

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(owner: User) -> Any:
    """Send ``/v1/group`` for customer ``acme`` with these traits; return the JSON answer."""
    raw = apikey_create(name="web app", kind="write", by=owner)[1]
    auth = "Basic " + base64.b64encode(f"{raw}:".encode()).decode()

    def _group(traits: dict[str, Any], path: str = "group", **message: Any) -> Any:
        body = {"userId": "u1", "groupId": "acme", "traits": traits, **message}
        response = Client().post(
            f"/v1/{path}", data=body, content_type="application/json", HTTP_AUTHORIZATION=auth
        )
        assert response.status_code == 200, response.content
        return response.json()

    return _group


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("Germany", "DE"),
        ("germany", "DE"),
        ("DEU", "DE"),
        ("de", "DE"),
        ("德国", "DE"),
        ("美國", "US"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("South Korea", "KR"),
    ],
)
def test_a_country_name_or_code_is_stored_as_its_iso_code(
    group: Any, sent: str, stored: str
) -> None:
    answer = group({"name": "Acme", "country": sent})
    assert answer == {"success": True}
    acme = Customer.objects.get(external_id="acme")
    assert (acme.country, acme.traits) == (stored, {})
    assert stats() == {("accepted", ""): 1}


def test_an_unknown_country_is_kept_in_traits_and_flagged(group: Any) -> None:
    answer = group({"name": "Acme", "country": "Atlantis"})
    assert answer["flagged"] == [
        {
            "index": 0,
            "code": "unknown_country",
            "field": "traits.country",
            "reason": "traits.country 'Atlantis' is not an ISO 3166 country code or name; "
            "kept in traits, country left unchanged",
        }
    ]
    acme = Customer.objects.get(external_id="acme")
    assert (acme.country, acme.traits) == ("", {"country": "Atlantis"})
    assert stats() == {("flagged", "unknown_country"): 1}


@pytest.mark.parametrize("employees", [-5, 2.5, 10**12])
def test_a_head_count_that_is_not_a_whole_number_in_range_is_kept_in_traits_and_flagged(
    group: Any, employees: Any
) -> None:
    answer = group({"name": "Acme", "employees": employees})
    assert [f["code"] for f in answer["flagged"]] == ["bad_employees"]
    acme = Customer.objects.get(external_id="acme")
    assert (acme.size, acme.traits) == (None, {"employees": employees})
    assert stats() == {("flagged", "bad_employees"): 1}


def test_a_head_count_as_text_is_read_as_a_number(group: Any) -> None:
    assert group({"name": "Acme", "employees": " 40 "}) == {"success": True}
    assert Customer.objects.get(external_id="acme").size == 40


def test_a_name_over_200_characters_is_stored_cut_and_flagged(group: Any) -> None:
    answer = group({"name": "A" * 250})
    assert answer["flagged"] == [
        {
            "index": 0,
            "code": "truncated",
            "field": "traits.name",
            "reason": "traits.name was 250 characters; stored cut to 200",
        }
    ]
    assert Customer.objects.get(external_id="acme").name == "A" * 200
    assert stats() == {("flagged", "truncated"): 1}


def test_a_contact_title_over_120_characters_is_stored_cut_and_flagged(group: Any) -> None:
    group({"name": "Acme"})
    answer = group({"title": "T" * 130}, path="identify", type="identify")
    assert answer["flagged"][0]["field"] == "traits.title"
    assert Contact.objects.get(external_id="u1").title == "T" * 120


def test_an_event_name_over_200_characters_is_stored_cut_and_flagged(owner: User) -> None:
    raw = apikey_create(name="web app", kind="write", by=owner)[1]
    response = Client().post(
        "/v1/track",
        data={"userId": "u1", "event": "E" * 201},
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{raw}:".encode()).decode(),
    )
    assert response.json()["flagged"][0]["field"] == "event"
    assert stats() == {("flagged", "truncated"): 1}


def test_flagged_changes_are_counted_on_the_data_quality_page(
    group: Any, owner_client: Client
) -> None:
    group({"name": "Acme", "country": "Atlantis"})
    group({"name": "B" * 300})
    page = owner_client.get("/data-quality/").content.decode()
    assert "unknown_country" in page and "truncated" in page
