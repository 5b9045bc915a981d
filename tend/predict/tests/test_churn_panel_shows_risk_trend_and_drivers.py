"""The customer page's churn panel: risk as a percentage with its rank, the 90-day trend, the
drivers raising and lowering it in plain words, the model version; "no score yet" otherwise.
Its context is one query whatever the history's length."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from tend.factories import make_customer
from tend.predict.panels import churn_panel_context
from tend.predict.tests.factories import make_churn_model, make_history

pytestmark = pytest.mark.django_db


def test_the_panel_shows_risk_rank_trend_and_drivers(viewer_client: Client) -> None:
    customer = make_customer(name="Acme")
    model = make_churn_model(version=3)
    make_history(customer, model=model, days=90, start=0.12, end=0.42, percentile=0.95)
    html = viewer_client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="churn-risk"' in html
    assert 'id="churn-risk-value">42%' in html
    assert "top 5%" in html
    assert 'id="churn-trend"' in html and "+30 points" in html
    up = html.split('id="churn-drivers-up"')[1].split("</ul>")[0]
    down = html.split('id="churn-drivers-down"')[1].split("</ul>")[0]
    assert "+11" in up and "−" not in up
    assert "-4" in down
    assert "Model v3" in html
    figure = html.split('id="churn-figure" type="application/json">')[1].split("</script>")[0]
    assert len(json.loads(figure)["data"][0]["y"]) == 90


def test_a_customer_without_a_score_says_so(member_client: Client) -> None:
    customer = make_customer()
    html = member_client.get(f"/customers/{customer.pk}/").content.decode()
    # True whether or not a model is in use: only customers paying for a subscription get one.
    assert 'id="churn-none"' in html and "No score:" in html
    assert "for each customer paying for a subscription" in html


def test_the_panel_context_is_one_query(owner) -> None:  # type: ignore[no-untyped-def]
    customer = make_customer()
    model = make_churn_model()
    request = RequestFactory().get("/")
    request.user = owner
    make_history(customer, model=model, days=3)
    with CaptureQueriesContext(connection) as few:
        churn_panel_context(request, customer)
    customer2 = make_customer()
    make_history(customer2, model=model, days=200)
    with CaptureQueriesContext(connection) as many:
        context = churn_panel_context(request, customer2)
    assert len(few) == len(many) == 1
    assert context is not None and context["trend_figure"] is not None
