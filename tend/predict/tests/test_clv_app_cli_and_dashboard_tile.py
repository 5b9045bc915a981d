"""``tend clv fit`` and ``tend clv show``; the dashboard's CLV tile for a business that sells
mainly by order (order revenue ≥ subscription revenue over the range) is the mean predicted
CLV, labelled with its formula, and a subscription business keeps its subscription CLV."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tend.factories import make_customer
from tend.predict.clv_actions import clv_fit_run
from tend.predict.models import ClvFit, CustomerClv
from tend.predict.tests.clv_app_data import AS_OF, build_shop

pytestmark = pytest.mark.django_db


def test_clv_fit_prints_the_fit_and_json_prints_it_whole():
    build_shop(80)
    out = StringIO()
    call_command("clv", "fit", stdout=out)
    text = out.getvalue()
    assert "BG/NBD fitted on" in text and "log-likelihood" in text and "holdout:" in text
    out = StringIO()
    call_command("clv", "fit", "--json", "--model", "bgnbd", stdout=out)
    body = json.loads(out.getvalue())
    assert body["status"] == "trained" and body["model"] == "bgnbd"
    assert body["id"] == ClvFit.objects.order_by("-id").first().pk


def test_clv_show_prints_a_customers_figures_with_their_formulas():
    customers = build_shop(40)
    clv_fit_run(by=None, as_of=AS_OF)
    row = CustomerClv.objects.get(customer=customers[2])
    out = StringIO()
    call_command("clv", "show", str(customers[2].pk), stdout=out)
    text = out.getvalue()
    assert customers[2].name in text and f"CLV: {row.clv} USD" in text
    assert "P(alive) = probability" in text
    out = StringIO()
    call_command("clv", "show", str(customers[2].pk), "--json", stdout=out)
    assert json.loads(out.getvalue())["clv"] == str(row.clv)


@pytest.mark.parametrize("bad", ["abc", "-1", "1e3", "١٢", "99999999999999999999"])
def test_clv_show_refuses_what_is_not_an_id(bad):
    with pytest.raises(CommandError, match=r"is not a customer id|No customer"):
        call_command("clv", "show", bad)


def test_clv_show_says_why_a_customer_has_no_clv():
    build_shop(40)
    clv_fit_run(by=None, as_of=AS_OF)
    nobody = make_customer()
    with pytest.raises(CommandError, match="no paid order when the models were fitted"):
        call_command("clv", "show", str(nobody.pk))
    with pytest.raises(CommandError, match="No customer 999999"):
        call_command("clv", "show", "999999")


def test_a_bad_model_is_refused_by_the_parser():
    with pytest.raises(CommandError):
        call_command("clv", "fit", "--model", "lifetimes")
    assert not ClvFit.objects.exists()


def test_an_order_based_business_gets_the_predicted_clv_on_its_dashboard(owner_client):
    from datetime import UTC, datetime, timedelta

    from django.core.cache import cache
    from django.utils import timezone

    from tend.factories import make_plan, make_subscription
    from tend.metrics.formulas import FORMULAS
    from tend.metrics.snapshots import snapshots_refresh

    cache.clear()  # the order revenue of a range is remembered for a few minutes
    today = timezone.now().astimezone(UTC).date()
    customers = build_shop(80, as_of=today)
    # A small coffee-box subscription beside the orders, so the dashboard has billing data.
    make_subscription(
        customers[0],
        make_plan("box", price="10"),
        at=datetime.now(UTC) - timedelta(days=200),
    )
    snapshots_refresh()
    fit = clv_fit_run(by=None, as_of=today)
    response = owner_client.get("/metrics/")
    tiles = {t["key"]: t for g in response.context["tile_groups"] for t in g["tiles"]}
    assert "clv_simple" not in tiles
    tile = tiles["clv_probabilistic"]
    assert tile["label"] == str(FORMULAS["clv_probabilistic"].label)
    assert tile["formula"] == str(FORMULAS["clv_probabilistic"].formula)
    assert tile["text"] == f"${fit.diagnostics['clv_mean']:,.0f}"
    assert tile["note"] == "Mean of 80 customers' CLV, from orders"
    page = response.content.decode()
    assert tile["text"] in page and str(FORMULAS["clv_probabilistic"].label) in page


def test_lifetime_value_uses_it_only_without_subscription_revenue():
    from datetime import date
    from decimal import Decimal

    from django.core.cache import cache

    from tend.metrics.kpis import PeriodKpis
    from tend.metrics.value import lifetime_value

    cache.clear()
    build_shop(80)
    fit = clv_fit_run(by=None, as_of=AS_OF)
    shop = [PeriodKpis(start=date(2026, 3, 1), end=date(2026, 3, 31))]
    value = lifetime_value(shop)
    assert value["clv_probabilistic"] == Decimal(str(fit.diagnostics["clv_mean"]))
    saas = [
        PeriodKpis(
            start=date(2026, 3, 1),
            end=date(2026, 3, 31),
            customers_end=1000,
            mrr_end=Decimal("500000"),
        )
    ]
    assert "clv_probabilistic" not in lifetime_value(saas)
