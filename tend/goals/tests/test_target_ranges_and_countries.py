"""A goal's target must be a value its metric can take, and its country an ISO 3166-1 code:
refused on the form, in the API (every error of a request at once) and by the action,
with the field and the value named, and nothing saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tend.accounts.actions import apikey_create
from tend.goals.actions import goal_create, goal_update
from tend.goals.models import Goal, target_error, target_range

pytestmark = pytest.mark.django_db

CHURN = {"metric": "logo_churn", "target": "2", "period": "month", "comparator": ""}


def errors_of(**kwargs: Any) -> dict[str, list[str]]:
    try:
        goal_create(by=None, **{"metric": "logo_churn", "target": Decimal(2), **kwargs})
    except ValidationError as exc:
        return exc.message_dict
    return {}


@pytest.mark.parametrize(
    ("metric", "low", "high"),
    [
        ("logo_churn", "0", "100"),  # a share of the customers at start
        ("revenue_churn", "0", "100"),
        ("crr", "0", "100"),
        ("grr", "0", "100"),  # never above 100 % by its formula
        ("cer", "0", "100"),
        ("renewal_rate", "0", "100"),
        ("nrr", "0", "1000"),  # can pass 100 %; 1000 % is the practical ceiling
        ("mrr", "0", "1000000000000"),
        ("cac", "0", "1000000000000"),
        ("net_new_mrr", "-1000000000000", "1000000000000"),  # a shrinking month is negative
    ],
)
def test_each_metric_has_the_range_its_values_can_take(metric: str, low: str, high: str) -> None:
    assert target_range(metric) == (Decimal(low), Decimal(high))


@pytest.mark.parametrize(
    ("metric", "target", "message"),
    [
        ("logo_churn", "-5", "The target of Logo churn rate must be between 0% and 100%; got −5%."),
        ("logo_churn", "100.01", "between 0% and 100%; got 100.01%"),
        ("grr", "101", "The target of Gross revenue retention (GRR) must be between 0% and 100%"),
        ("renewal_rate", "-0.5", "got −0.5%"),
        ("nrr", "-1", "between 0% and 1000%; got −1%"),
        ("mrr", "-1", "between 0 and 1000000000000; got −1"),
        ("arpa", "-0.01", "got −0.01"),
    ],
)
def test_a_target_outside_its_metric_range_is_refused_naming_the_value(
    metric: str, target: str, message: str
) -> None:
    errors = errors_of(metric=metric, target=Decimal(target))
    assert list(errors) == ["target"]
    assert message in errors["target"][0]
    assert not Goal.objects.exists()


@pytest.mark.parametrize(
    ("metric", "target"),
    [("logo_churn", "0"), ("logo_churn", "100"), ("nrr", "150"), ("net_new_mrr", "-500")],
)
def test_targets_at_and_inside_the_bounds_are_accepted(metric: str, target: str) -> None:
    goal = goal_create(by=None, metric=metric, target=Decimal(target))
    assert goal.target == Decimal(target)


def test_a_change_of_metric_checks_the_kept_target_against_the_new_range(owner: Any) -> None:
    goal = goal_create(by=owner, metric="nrr", target=Decimal(110))
    with pytest.raises(ValidationError) as caught:
        goal_update(goal=goal, by=owner, metric="grr")
    assert "got 110%" in caught.value.message_dict["target"][0]
    goal.refresh_from_db()
    assert (goal.metric, goal.revision) == ("nrr", 1)


@pytest.mark.parametrize(
    ("country", "code"),
    [("XX", "unknown"), ("ZZ", "unknown"), ("Germany", "invalid"), ("1X", "invalid")],
)
def test_a_country_that_iso_3166_does_not_assign_is_refused_by_the_action(
    country: str, code: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        goal_create(by=None, metric="mrr", target=Decimal(1), filters={"country": [country]})
    errors = caught.value.error_dict["filters.country"]
    assert errors[0].code == code
    assert f"“{country}” is not an ISO 3166-1 alpha-2 country code" in errors[0].messages[0]
    assert not Goal.objects.exists()


# --- the web form ---------------------------------------------------------------------------


def test_the_form_shows_a_bad_target_and_a_bad_country_together(owner_client: Any) -> None:
    response = owner_client.post(reverse("goals:new"), {**CHURN, "target": "-5", "country": "XX"})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {"target", "country"}
    assert "must be between 0% and 100%; got −5%" in errors["target"][0]
    assert "“XX” is not an ISO 3166-1 alpha-2 country code" in errors["country"][0]
    html = response.content.decode()
    assert 'id="id_target-error"' in html and 'id="id_country-error"' in html
    assert not Goal.objects.exists()


def test_the_form_takes_a_code_in_any_case_and_names_the_country_it_means(
    owner_client: Any,
) -> None:
    # "Ge" is a real code — Georgia's — so it is accepted; the goal then reads "Georgia (GE)",
    # which shows the slip to anyone who meant Germany (DE).
    response = owner_client.post(reverse("goals:new"), {**CHURN, "country": "Ge"})
    assert response.status_code == 302
    assert Goal.objects.get().filters == {"country": ["GE"]}
    page = owner_client.get(reverse("goals:list")).content.decode()
    assert "Country: Georgia (GE)" in page


def test_the_country_name_is_in_the_readers_language(owner_client: Any) -> None:
    goal_create(by=None, metric="mrr", target=Decimal(1), filters={"country": ["DE"]})
    owner_client.cookies.load({"django_language": "zh-hans"})
    page = owner_client.get(reverse("goals:list")).content.decode()
    assert "德国" in page and "DE" in page  # pycountry's Chinese name, beside the code


# --- the REST API -----------------------------------------------------------------------------


@pytest.fixture
def rw(owner: Any) -> Client:
    key = apikey_create(name="zapier", kind="read_write", by=owner)[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _post(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/goals", body, content_type="application/json")


def test_the_api_reports_a_bad_target_and_a_bad_country_in_one_response(rw: Client) -> None:
    response = _post(
        rw, {"metric": "logo_churn", "target": "-5", "filters": {"country": ["Ge", "XX"]}}
    )
    assert response.status_code == 422
    errors = {(e["field"], e["code"]): e["message"] for e in response.json()["errors"]}
    assert set(errors) == {
        ("target", "range"),
        ("filters.country.0", "country"),
        ("filters.country.1", "unknown"),
    }
    assert "between 0% and 100%; got −5%" in errors[("target", "range")]
    country = errors[("filters.country.0", "country")]
    assert "“Ge” is not an ISO 3166-1 alpha-2 country code" in country
    assert "“XX”" in errors[("filters.country.1", "unknown")]
    assert not Goal.objects.exists()


def test_the_api_reports_a_range_error_beside_other_schema_errors(rw: Client) -> None:
    response = _post(rw, {"metric": "grr", "target": "120", "period": "week", "colour": "red"})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"target", "period", "colour"}
    assert not Goal.objects.exists()


def test_the_api_checks_a_changed_target_against_the_metric(rw: Client, owner: Any) -> None:
    goal = goal_create(by=owner, metric="logo_churn", target=Decimal(2))
    response = rw.patch(
        f"/api/v1/goals/{goal.pk}", {"target": "-5"}, content_type="application/json"
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("target", "range")
    response = rw.patch(
        f"/api/v1/goals/{goal.pk}",
        {"metric": "nrr", "target": "-1", "filters": {"country": ["de"]}},
        content_type="application/json",
    )
    assert {e["field"] for e in response.json()["errors"]} == {"target", "filters.country.0"}
    goal.refresh_from_db()
    assert (goal.metric, goal.target, goal.revision) == ("logo_churn", Decimal(2), 1)


def test_the_api_accepts_a_valid_code_in_capitals(rw: Client) -> None:
    response = _post(rw, {"metric": "mrr", "target": "1000", "filters": {"country": ["DE"]}})
    assert response.status_code == 201, response.json()
    assert response.json()["filters"] == {"country": ["DE"]}


def test_a_count_target_is_a_whole_number_from_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    # No goal metric is a count yet; the rule is there for the first that is.
    from tend.metrics.formulas import FORMULAS, Formula

    monkeypatch.setitem(
        FORMULAS, "paying", Formula("paying", "Paying customers", "paying = …", "count", True)
    )
    assert target_error("paying", Decimal(3)) is None
    assert target_error("paying", Decimal(0)) is None
    half = target_error("paying", Decimal("2.5"))
    assert half is not None and "enter a whole number; got 2.5" in half.messages[0]
    below = target_error("paying", Decimal(-1))
    assert below is not None and "between 0 and 1000000000000; got −1" in below.messages[0]
