"""``tend predict``: the riskiest customers with their drivers, one customer in detail, JSON,
and the not-enough-data message (exit status 1) when no model could be trained."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tend.factories import make_customer
from tend.predict.tests.factories import (
    make_churn_model,
    make_day_of_scores,
    make_history,
    make_not_enough_data_model,
)

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("predict", *args, stdout=out)
    return out.getvalue()


def test_the_riskiest_customers_come_first_with_drivers() -> None:
    model = make_churn_model()
    customers = [make_customer(name=f"Shop {i}") for i in range(12)]
    make_day_of_scores(customers, model=model)
    text = _run("--top", "5")
    assert "riskiest 5" in text and "↑" in text
    data = json.loads(_run("--top", "3", "--json"))
    risks = [row["risk"] for row in data["items"]]
    assert len(risks) == 3 and risks == sorted(risks, reverse=True)
    assert data["items"][0]["drivers"][0]["text"]


def test_one_customer_by_id_or_name() -> None:
    customer = make_customer(name="Acme")
    make_history(customer, model=make_churn_model(version=2), days=40, end=0.42)
    text = _run("Acme")
    assert "churn risk 0.42" in text and "top 5%" in text and "model v2" in text
    assert "raises 11 pts" in text and "lowers 4 pts" in text
    data = json.loads(_run(str(customer.pk), "--json"))
    assert data["risk"] == 0.42 and data["change"] > 0.2


def test_without_a_model_it_says_why() -> None:
    make_not_enough_data_model(have=12, need=20)
    with pytest.raises(CommandError, match="not enough data to train: 12 churned, need 20"):
        _run()


@pytest.mark.parametrize("args", [("--top", "0"), ("--top", "100000"), ("nobody",)])
def test_bad_arguments_are_refused(args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError):
        _run(*args)
