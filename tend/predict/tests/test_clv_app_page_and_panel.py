"""The CLV page and the customer page's CLV panel: what they show, each figure's formula in
a tooltip, money in the app's format, and a number of queries that does not grow with the
customers (no N+1)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tend.billing.actions import order_create
from tend.factories import make_customer
from tend.predict.clv_actions import clv_fit_run
from tend.predict.clv_views import FORMULAS
from tend.predict.models import ClvFit, CustomerClv
from tend.predict.tests.clv_app_data import AS_OF, build_shop

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_page_shows_the_fit_the_holdout_check_the_distributions_and_the_top_customers(
    owner_client,
):
    build_shop(80)
    fit = clv_fit_run(by=None, as_of=AS_OF)
    _n, page = _queries(owner_client, "/predict/clv/")
    for part in ("clv-params", "clv-ll", "clv-holdout-table", "clv-figure", "alive-figure"):
        assert f'id="{part}"' in page, part
    assert "BG/NBD" in page
    assert f"{fit.log_likelihood:.2f}" in page
    assert str(FORMULAS["holdout"]) in page  # the holdout check states its formula
    assert "E[X(t) | x, tₓ, T]" in page
    top = CustomerClv.objects.order_by("-clv", "customer_id").select_related("customer")[0]
    assert top.customer.name in page
    assert f"${top.clv:,.2f}" in page  # tend.lib.money: "$1,234.50"
    assert 'id="clv-refit"' in page  # owners refit


def test_the_page_runs_the_same_queries_for_40_or_120_customers(owner_client):
    build_shop(40, seed=1)
    clv_fit_run(by=None, as_of=AS_OF)
    few, _ = _queries(owner_client, "/predict/clv/")
    build_shop(80, seed=2)
    clv_fit_run(by=None, as_of=AS_OF)
    many, _ = _queries(owner_client, "/predict/clv/")
    assert few == many <= 8


def test_a_member_and_a_viewer_read_the_page_without_the_refit_form(member_client, viewer_client):
    build_shop(40)
    clv_fit_run(by=None, as_of=AS_OF)
    for client in (member_client, viewer_client):
        page = client.get("/predict/clv/").content.decode()
        assert 'id="clv-params"' in page and 'id="clv-refit"' not in page


def test_before_any_fit_the_page_says_so():
    from django.test import Client

    from tend.accounts.actions import user_create

    user = user_create(username="v", password="x" * 12, role="viewer")
    client = Client()
    client.force_login(user)
    page = client.get("/predict/clv/").content.decode()
    assert 'id="clv-empty"' in page and "An owner can fit it now" in page


def test_the_panel_shows_the_four_figures_with_their_formulas_for_a_customer_with_orders(
    owner_client,
):
    customers = build_shop(40)
    clv_fit_run(by=None, as_of=AS_OF)
    row = CustomerClv.objects.get(customer=customers[0])
    page = owner_client.get(f"/customers/{customers[0].pk}/").content.decode()
    assert 'id="clv-panel"' in page
    for key in ("expected_purchases", "p_alive", "expected_spend", "clv"):
        assert str(FORMULAS[key]).replace("'", "&#x27;") in page, key
    assert f"{row.expected_purchases:.2f}" in page
    assert f"${row.clv:,.2f}" in page and f"${row.expected_spend:,.2f}" in page
    assert "Purchases, next 52 weeks" in page


def test_the_panel_is_left_out_for_a_customer_without_orders(owner_client):
    build_shop(40)
    clv_fit_run(by=None, as_of=AS_OF)
    nobody = make_customer(name="No orders")
    page = owner_client.get(f"/customers/{nobody.pk}/").content.decode()
    assert 'id="clv-panel"' not in page


def test_the_panel_adds_one_query_to_the_customer_page(owner_client):
    customers = build_shop(40)
    with_orders = customers[0]
    other = customers[1]
    before, _ = _queries(owner_client, f"/customers/{with_orders.pk}/")
    clv_fit_run(by=None, as_of=AS_OF)
    after, page = _queries(owner_client, f"/customers/{other.pk}/")
    assert 'id="clv-panel"' in page
    assert after == before  # the panel's one query runs either way (it found nothing before)


def test_a_refit_by_an_owner_on_the_page_uses_the_chosen_model(owner_client, owner):
    build_shop(40)
    response = owner_client.post("/predict/clv/refit/", {"model": "bgnbd"})
    assert response.status_code == 302 and response["Location"] == "/predict/clv/"
    fit = ClvFit.objects.get()
    assert fit.kind == "bgnbd" and fit.status == "trained"
    bad = owner_client.post("/predict/clv/refit/", {"model": "lifetimes"})
    assert bad.status_code == 302 and ClvFit.objects.count() == 1


def test_orders_after_the_fit_do_not_break_the_panel(owner_client):
    customers = build_shop(40)
    clv_fit_run(by=None, as_of=AS_OF)
    order_create(
        customer=customers[0],
        by=None,
        amount=Decimal("10"),
        at=datetime(2026, 4, 2, tzinfo=UTC),
    )
    assert owner_client.get(f"/customers/{customers[0].pk}/").status_code == 200
