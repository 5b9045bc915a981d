"""Founders manage exchange rates on the command line, on the rates page and over the API."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from tend.accounts.actions import apikey_create
from tend.accounts.models import AuditEntry
from tend.billing.actions import exchange_rate_set, subscription_create
from tend.billing.models import ExchangeRate, Subscription
from tend.factories import make_customer

pytestmark = pytest.mark.django_db
D = Decimal


def rates() -> list[tuple[str, str, date]]:
    return [
        (r.currency, r.rate_text, r.valid_from)
        for r in ExchangeRate.objects.order_by("currency", "valid_from")
    ]


# --- CLI -------------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("rates", *args, stdout=out)
    return out.getvalue()


def test_the_cli_sets_lists_and_deletes_rates(owner):
    assert "No exchange rates" in run("list")
    assert run("set", "EUR", "1.08", "--from", "2026-01-01") == (
        "1 EUR = 1.08 USD from 2026-01-01.\n"
    )
    run("set", "eur", "1.1", "--from", "2026-03-01", "--user", owner.username)
    assert rates() == [("EUR", "1.08", date(2026, 1, 1)), ("EUR", "1.1", date(2026, 3, 1))]
    listing = run("list")
    assert "Exchange rates into USD" in listing
    assert "2026-02-28" in listing  # the first rate holds until the day before the next
    assert "olivia" in listing and "cli" in listing
    labels = set(
        AuditEntry.objects.filter(object_type="billing.exchangerate").values_list(
            "actor_label", flat=True
        )
    )
    assert labels == {"cli", "olivia"}
    assert "Deleted the EUR rate from 2026-01-01." in run("delete", "EUR", "--from", "2026-01-01")
    assert rates() == [("EUR", "1.1", date(2026, 3, 1))]


def test_set_without_a_day_starts_today():
    run("set", "GBP", "1.27")
    assert ExchangeRate.objects.get().valid_from == date.today()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "EUR", "0", "--from", "2026-01-01"), "rate: A rate must be more than zero"),
        (("set", "EUR", "-2", "--from", "2026-01-01"), "rate: A rate must be more than zero"),
        (("set", "EURO", "1.08", "--from", "2026-01-01"), "currency: “EURO” is not a three-letter"),
        (("set", "EUR", "1.08", "--from", "2026-13-01"), "--from: “2026-13-01” is not a date"),
        (("set", "USD", "1", "--from", "2026-01-01"), "currency: USD is the reporting currency"),
        (("delete", "EUR", "--from", "2026-01-01"), "No EUR rate starts on 2026-01-01"),
        (("set", "EUR", "1.08", "--user", "nobody"), "--user: no active user called 'nobody'"),
    ],
)
def test_the_cli_refuses_bad_input_naming_the_argument(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not ExchangeRate.objects.exists()


# --- the rates page ----------------------------------------------------------------------------

URL = "/billing/rates/"


def test_the_page_is_in_the_navigation_for_every_role(viewer_client):
    assert reverse("billing:rates") == URL
    page = viewer_client.get(reverse("goals:list")).content.decode()
    assert f'href="{URL}"' in page and "Exchange rates" in page


def test_a_member_sets_a_rate_with_the_form(member_client, member):
    page = member_client.get(URL)
    assert page.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    response = member_client.post(
        URL, {"currency": "eur", "rate": "1.08", "valid_from": "2026-01-01"}
    )
    assert response.status_code == 302 and response["Location"] == URL
    rate = ExchangeRate.objects.get()
    assert (rate.currency, rate.rate, rate.created_by) == ("EUR", D("1.08"), member)
    listing = member_client.get(URL).content.decode()
    assert "1 EUR = 1.08 USD from 2026-01-01." in listing  # the confirmation
    assert f'id="rate-{rate.pk}"' in listing and "<code>EUR</code>" in listing


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"currency": "EUR", "rate": "0", "valid_from": "2026-01-01"}, "rate", "more than zero"),
        ({"currency": "EUR", "rate": "-1", "valid_from": "2026-01-01"}, "rate", "more than zero"),
        ({"currency": "EUR", "rate": "abc", "valid_from": "2026-01-01"}, "rate", "Enter a number"),
        (
            {"currency": "EURO", "rate": "1.08", "valid_from": "2026-01-01"},
            "currency",
            "is not a three-letter ISO 4217 currency code",
        ),
        (
            {"currency": "EUR", "rate": "1.08", "valid_from": "2026-13-01"},
            "valid_from",
            "Enter a valid date",
        ),
        ({"currency": "EUR", "rate": "1.08", "valid_from": ""}, "valid_from", "required"),
    ],
)
def test_bad_input_gets_an_error_under_its_field(owner_client, data, field, message):
    response = owner_client.post(URL, data)
    assert response.status_code == 422
    form = response.context["form"]
    assert message in " ".join(form.errors[field]), form.errors
    page = response.content.decode()
    assert f'id="id_{field}-error"' in page and 'aria-invalid="true"' in page
    assert not ExchangeRate.objects.exists()


def test_a_viewer_reads_the_rates_but_gets_no_form_and_cannot_write(viewer_client, owner):
    rate = exchange_rate_set(currency="EUR", rate="1.08", valid_from=date(2026, 1, 1), by=owner)
    page = viewer_client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<code>EUR</code>" in html and "1.08" in html
    assert 'name="rate"' not in html and "Delete" not in html
    denied = viewer_client.post(
        URL, {"currency": "GBP", "rate": "1.27", "valid_from": "2026-01-01"}
    )
    assert denied.status_code == 403
    assert viewer_client.post(reverse("billing:rate_delete", args=[rate.pk])).status_code == 403
    assert rates() == [("EUR", "1.08", date(2026, 1, 1))]


def test_a_post_without_the_csrf_token_is_refused(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    response = client.post(URL, {"currency": "EUR", "rate": "1.08", "valid_from": "2026-01-01"})
    assert response.status_code == 403
    assert not ExchangeRate.objects.exists()


def test_an_owner_deletes_a_rate(owner_client, owner):
    rate = exchange_rate_set(currency="EUR", rate="1.08", valid_from=date(2026, 1, 1), by=owner)
    response = owner_client.post(reverse("billing:rate_delete", args=[rate.pk]))
    assert response.status_code == 302
    assert not ExchangeRate.objects.exists()
    assert "Deleted the EUR rate from 2026-01-01." in owner_client.get(URL).content.decode()


def test_currencies_in_use_without_a_rate_today_are_pointed_out(owner_client):
    exchange_rate_set(currency="GBP", rate="1.27", valid_from=date(2020, 1, 1), by=None)
    customer = make_customer()
    subscription_create(customer=customer, by=None, mrr=D("10"), currency="GBP")
    subscription_create(customer=customer, by=None, mrr=D("10"), currency="EUR", status="trialing")
    Subscription.objects.filter(currency="EUR").update(status="active")  # stored before rates
    html = owner_client.get(URL).content.decode()
    in_use = html[html.index('id="currencies-in-use"') :]
    assert "<code>EUR</code> · 1 live subscription" in in_use
    assert "no rate today" in in_use and "has a rate today" in in_use


def test_the_page_runs_a_constant_number_of_queries(owner_client, django_assert_max_num_queries):
    for i, code in enumerate(["EUR", "GBP", "JPY", "CHF"]):
        exchange_rate_set(currency=code, rate="1.5", valid_from=date(2026, 1, 1 + i), by=None)
        exchange_rate_set(currency=code, rate="1.6", valid_from=date(2026, 2, 1 + i), by=None)
    with django_assert_max_num_queries(8):
        assert owner_client.get(URL).status_code == 200


# --- REST API ----------------------------------------------------------------------------------


def client_with(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def rw(owner: Any) -> Client:
    return client_with(apikey_create(name="books", kind="read_write", by=owner)[1])


@pytest.fixture
def ro(owner: Any) -> Client:
    return client_with(apikey_create(name="reader", kind="read", by=owner)[1])


def put(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.put(f"/api/v1{path}", body, content_type="application/json")


def test_the_api_sets_lists_and_deletes_rates(rw, owner):
    response = put(rw, "/exchange-rates/eur/2026-01-01", {"rate": "1.08"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {k: body[k] for k in ("currency", "rate", "reporting_currency", "valid_from")} == {
        "currency": "EUR",
        "rate": "1.08",
        "reporting_currency": "USD",
        "valid_from": "2026-01-01",
    }
    assert body["created_by"] == owner.username
    assert AuditEntry.objects.get(action="exchange_rate.set").actor_label == "api:books"
    put(rw, "/exchange-rates/EUR/2026-03-01", {"rate": "1.10"})
    put(rw, "/exchange-rates/GBP/2026-01-01", {"rate": "1.27"})
    page = rw.get("/api/v1/exchange-rates").json()
    assert [(i["currency"], i["valid_from"]) for i in page["items"]] == [
        ("EUR", "2026-03-01"),
        ("EUR", "2026-01-01"),
        ("GBP", "2026-01-01"),
    ]
    assert rw.get("/api/v1/exchange-rates?currency=gbp").json()["count"] == 1
    assert rw.delete("/api/v1/exchange-rates/EUR/2026-01-01").status_code == 204
    assert rw.delete("/api/v1/exchange-rates/EUR/2026-01-01").status_code == 404
    assert rates() == [("EUR", "1.1", date(2026, 3, 1)), ("GBP", "1.27", date(2026, 1, 1))]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/exchange-rates/EUR/2026-01-01", {"rate": "0"}, "rate"),
        ("/exchange-rates/EUR/2026-01-01", {"rate": "-1.08"}, "rate"),
        ("/exchange-rates/EUR/2026-01-01", {"rate": "abc"}, "rate"),
        ("/exchange-rates/EURO/2026-01-01", {"rate": "1.08"}, "currency"),
        ("/exchange-rates/USD/2026-01-01", {"rate": "1"}, "currency"),
        ("/exchange-rates/EUR/2026-13-01", {"rate": "1.08"}, "valid_from"),
        ("/exchange-rates/EUR/2026-01-01", {"rate": "1.08", "note": "x"}, "note"),
    ],
)
def test_the_api_answers_422_naming_the_field(rw, path, body, field):
    response = put(rw, path, body)
    assert response.status_code == 422, response.json()
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert not ExchangeRate.objects.exists()


def test_a_read_key_lists_but_cannot_set(ro):
    assert ro.get("/api/v1/exchange-rates").status_code == 200
    assert put(ro, "/exchange-rates/EUR/2026-01-01", {"rate": "1.08"}).status_code == 403
    assert not ExchangeRate.objects.exists()
