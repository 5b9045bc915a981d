"""Too few repeat buyers: a stored ``not_enough_data`` fit with its message, shown on the page,
by the CLI (exit status 1) and by the REST API (409, code ``not_enough_data``); never a crash
and never numbers."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.predict.clv_actions import clv_fit_run
from tend.predict.models import ClvFit, CustomerClv, TrainingStatus
from tend.predict.tests.clv_app_data import AS_OF, one_time_buyers

pytestmark = pytest.mark.django_db

MESSAGE = "not enough data to fit CLV: 0 customers bought more than once, need 20"


def test_the_action_stores_the_refusal_with_its_message():
    one_time_buyers(12)
    fit = clv_fit_run(by=None, as_of=AS_OF)
    assert fit.status == TrainingStatus.NOT_ENOUGH_DATA
    assert fit.message == MESSAGE
    assert fit.message_params["have"] == 0 and fit.message_params["need"] == 20
    assert fit.params == {} and fit.log_likelihood is None
    assert not CustomerClv.objects.exists()


def test_the_page_says_why_and_shows_no_numbers(owner_client):
    one_time_buyers(12)
    clv_fit_run(by=None, as_of=AS_OF)
    page = owner_client.get("/predict/clv/").content.decode()
    assert 'id="clv-not-enough"' in page
    assert MESSAGE in page
    assert 'id="clv-params"' not in page and 'id="clv-top-table"' not in page


def test_the_cli_exits_with_the_reason_and_its_json_has_the_status():
    one_time_buyers(12)
    with pytest.raises(CommandError, match="CLV not fitted: " + MESSAGE):
        call_command("clv", "fit")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("clv", "fit", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["status"] == "not_enough_data" and body["message"] == MESSAGE
    assert ClvFit.objects.filter(status="not_enough_data").count() == 2


def test_the_cli_run_as_tend_exits_non_zero(capsys):
    from tend.cli import main

    one_time_buyers(3)
    with pytest.raises(SystemExit) as exit_:
        main(["tend", "clv", "fit"])
    assert exit_.value.code == 1
    assert "CLV not fitted: not enough data to fit CLV" in capsys.readouterr().err


def test_the_api_answers_409_with_the_reason(owner):
    one_time_buyers(12)
    _key, raw = apikey_create(name="k", kind="read_write", by=owner)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    refit = api.post("/api/v1/predict/clv/fit", {}, content_type="application/json")
    assert refit.status_code == 409
    error = refit.json()["errors"][0]
    assert error == {"field": "orders", "message": MESSAGE, "code": "not_enough_data"}
    latest = api.get("/api/v1/predict/clv")
    assert latest.status_code == 200
    assert latest.json()["status"] == "not_enough_data"
    assert latest.json()["message"] == MESSAGE
    assert latest.json()["clv_mean"] is None
    from tend.customers.models import Customer

    someone = Customer.objects.first()
    assert someone is not None
    mine = api.get(f"/api/v1/customers/{someone.pk}/clv")
    assert mine.status_code == 409
    assert mine.json()["errors"][0]["code"] == "not_enough_data"
