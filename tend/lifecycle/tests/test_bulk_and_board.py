"""The daily run's statements do not grow with the customers moved; the board's counts, MRR
and query count; moving a card by hand (with and without JavaScript) and who may."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tend.customers.models import Customer, Stage
from tend.factories import make_customer
from tend.lifecycle.engine import lifecycle_evaluate
from tend.lifecycle.models import StageOverride
from tend.lifecycle.tests.helpers import health, now, paying
from tend.segments.models import Segment

pytestmark = pytest.mark.django_db


def queries_to_move(n: int) -> tuple[int, int]:
    t = now()
    for i in range(n):
        paying(f"C{n}-{i}", days=10, at=t)
    with CaptureQueriesContext(connection) as ctx:
        evaluation = lifecycle_evaluate(now=t)
    return evaluation.moved, len(ctx.captured_queries)


def test_the_statements_of_a_run_do_not_grow_with_the_customers_moved() -> None:
    moved_few, few = queries_to_move(2)
    Customer.objects.all().delete()
    moved_many, many = queries_to_move(12)
    assert (moved_few, moved_many) == (2, 12)
    assert few == many


def board_customers() -> None:
    t = now()
    a = paying("Alpha", days=100, at=t)  # 50.00 MRR
    b = paying("Beta", days=100, at=t)
    paying("Gamma", days=10, at=t)
    make_customer("Lead", stage=Stage.PROSPECT)
    lifecycle_evaluate(now=t)
    health(a, "green", since=t.date())
    health(b, "red", since=t.date())


def test_the_board_shows_each_stage_with_count_and_mrr(viewer_client: Client) -> None:
    board_customers()
    response = viewer_client.get("/lifecycle/")
    assert response.status_code == 200
    columns = {c.stage: c for c in response.context["columns"]}
    assert list(columns) == list(Stage.values)  # lifecycle order
    assert (columns["established"].count, columns["established"].mrr) == (2, Decimal("100.00"))
    assert (columns["onboarding"].count, columns["onboarding"].mrr) == (1, Decimal("50.00"))
    assert (columns["prospect"].count, columns["prospect"].mrr) == (1, Decimal("0.00"))
    html = response.content.decode()
    assert "Column MRR = sum of the MRR of the customers in that stage" in html
    assert "health-dot health-red" in html and "health-dot health-green" in html
    assert "Move…" not in html  # viewers cannot move cards


def test_the_board_query_count_does_not_grow_with_customers(owner_client: Client) -> None:
    board_customers()
    owner_client.get("/lifecycle/")  # warm caches (session, user)
    with CaptureQueriesContext(connection) as small:
        owner_client.get("/lifecycle/")
    t = now()
    for i in range(15):
        paying(f"More {i}", days=100 + i, at=t)
    lifecycle_evaluate(now=t)
    with CaptureQueriesContext(connection) as big:
        response = owner_client.get("/lifecycle/")
    assert response.status_code == 200
    assert len(big.captured_queries) == len(small.captured_queries) <= 12


def test_columns_show_the_top_cards_by_mrr_and_link_to_the_rest(owner_client: Client) -> None:
    t = now()
    for i in range(23):
        paying(f"Cust {i:02}", days=100, at=t)
    lifecycle_evaluate(now=t)
    response = owner_client.get("/lifecycle/")
    column = next(c for c in response.context["columns"] if c.stage == "established")
    assert len(column.cards) == 20 and column.more == 3
    assert "/customers/?stage=established" in response.content.decode()


def test_the_board_filters_by_segment(owner_client: Client) -> None:
    board_customers()
    segment = Segment.objects.create(
        name="Big", condition={"field": "mrr", "op": "gte", "value": 50}
    )
    response = owner_client.get(f"/lifecycle/?segment={segment.pk}")
    assert response.status_code == 200
    columns = {c.stage: c.count for c in response.context["columns"]}
    assert columns["prospect"] == 0 and columns["established"] == 2
    assert owner_client.get("/lifecycle/?segment=999999").status_code == 404
    assert owner_client.get("/lifecycle/?segment=abc").status_code == 404
    assert owner_client.get("/lifecycle/?segment=%00").status_code == 400  # NUL: refused early


def test_moving_a_card_without_javascript_is_a_manual_override(member_client: Client) -> None:
    customer = paying("Mover", days=100, at=now())
    response = member_client.post(
        f"/lifecycle/move/{customer.pk}/", {"stage": "at_risk", "next": "/lifecycle/"}
    )
    assert response.status_code == 302 and response["Location"] == "/lifecycle/"
    customer.refresh_from_db()
    assert customer.stage == Stage.AT_RISK
    override = StageOverride.objects.get(customer=customer)
    assert override.by.username == "mike" and override.active
    lifecycle_evaluate()
    customer.refresh_from_db()
    assert customer.stage == Stage.AT_RISK


def test_a_dropped_card_posts_json_and_a_bad_stage_changes_nothing(owner_client: Client) -> None:
    customer = paying("Dragged", days=100, at=now())
    before = customer.stage
    bad = owner_client.post(
        f"/lifecycle/move/{customer.pk}/", {"stage": "nowhere"}, HTTP_ACCEPT="application/json"
    )
    assert bad.status_code == 422 and "stage" in bad.json()["errors"]
    assert Customer.objects.get(pk=customer.pk).stage == before
    good = owner_client.post(
        f"/lifecycle/move/{customer.pk}/", {"stage": "expansion"}, HTTP_ACCEPT="application/json"
    )
    assert good.status_code == 200 and good.json() == {"id": customer.pk, "stage": "expansion"}
    off_site = owner_client.post(
        f"/lifecycle/move/{customer.pk}/", {"stage": "trial", "next": "https://evil.example/"}
    )
    assert off_site["Location"] == "/lifecycle/"


def test_viewers_and_outsiders_cannot_move_cards(
    viewer_client: Client, outsider_client: Client
) -> None:
    customer = paying("Stay", days=100, at=now())
    stage = customer.stage
    assert (
        viewer_client.post(f"/lifecycle/move/{customer.pk}/", {"stage": "churned"}).status_code
        == 403
    )
    assert (
        outsider_client.post(f"/lifecycle/move/{customer.pk}/", {"stage": "churned"}).status_code
        == 302
    )
    assert outsider_client.get("/lifecycle/").status_code == 302
    assert Customer.objects.get(pk=customer.pk).stage == stage
    assert not StageOverride.objects.exists()


def test_the_customer_page_shows_the_override_and_clears_it(
    member_client: Client, viewer_client: Client
) -> None:
    customer = paying("Paused", days=100, at=now())
    member_client.post(f"/lifecycle/move/{customer.pk}/", {"stage": "expansion"})
    page = member_client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Stage set by hand by mike on" in page and "Clear override" in page
    assert "Clear override" not in viewer_client.get(f"/customers/{customer.pk}/").content.decode()
    assert viewer_client.post(f"/lifecycle/override/{customer.pk}/clear/").status_code == 403
    assert StageOverride.objects.active().count() == 1
    response = member_client.post(f"/lifecycle/override/{customer.pk}/clear/")
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.stage == Stage.ESTABLISHED
    assert (
        "Stage set by hand" not in member_client.get(f"/customers/{customer.pk}/").content.decode()
    )
