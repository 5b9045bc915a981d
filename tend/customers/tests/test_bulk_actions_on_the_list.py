"""Select customers on the list and act on them at once: add or remove a tag, set or clear the
owner, move the stage. Owners and members may; a viewer gets 403 and nothing changes. Every
changed customer gets a timeline entry and an audit row, in a fixed number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from tend.accounts.models import AuditEntry
from tend.customers.actions import (
    BULK_LIMIT,
    BulkTooLarge,
    customer_set_tags,
    customers_bulk_change_stage,
    customers_bulk_set_owner,
    customers_bulk_tag,
)
from tend.customers.models import Customer, Stage, StageChange, TimelineEntry
from tend.customers.timeline import describe
from tend.factories import make_customer

pytestmark = pytest.mark.django_db
LIST = reverse("customers:list")
BULK = reverse("customers:bulk")


def _state() -> list[Any]:
    """Everything a bulk action could change."""
    return [
        sorted(Customer.objects.values_list("pk", "stage", "owner_id", "churned_at", "updated_at")),
        sorted(Customer.tags.through.objects.values_list("customer_id", "tag_id")),
        StageChange.objects.count(),
        TimelineEntry.objects.count(),
        AuditEntry.objects.count(),
    ]


@pytest.fixture
def book(member):
    shops = [make_customer(f"Shop {i}", stage=Stage.TRIAL) for i in range(4)]
    other = make_customer("Other Ltd", stage=Stage.ESTABLISHED, owner=member)
    customer_set_tags(customer=shops[0], tags=["vip"], by=None)
    return shops, other


def _post(client, *, ids=(), query="", **fields):
    data = {"query": query, "bulk-ids": [str(i) for i in ids]}
    data.update({f"bulk-{k}": v for k, v in fields.items()})
    return client.post(BULK, data)


@pytest.mark.parametrize("who", ["owner_client", "member_client"])
def test_owners_and_members_tag_the_selected_customers(request, who, book):
    client = request.getfixturevalue(who)
    shops, _other = book
    response = _post(
        client, ids=[s.pk for s in shops[:3]], action="add_tag", tag="eu", query="q=shop"
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?q=shop"
    tagged = set(Customer.objects.filter(tags__name="eu").values_list("name", flat=True))
    assert tagged == {"Shop 0", "Shop 1", "Shop 2"}
    page = client.get(response["Location"]).content.decode()
    assert "Added the tag “eu” to 3 customers." in page


def test_a_viewer_is_refused_every_bulk_action_and_nothing_changes(viewer_client, book, member):
    shops, _other = book
    before = _state()
    for fields in (
        {"action": "add_tag", "tag": "hacked"},
        {"action": "remove_tag", "tag": "vip"},
        {"action": "set_owner", "owner": str(member.pk)},
        {"action": "set_owner", "owner": "none"},
        {"action": "set_stage", "stage": "churned", "reason": "x"},
    ):
        assert _post(viewer_client, ids=[s.pk for s in shops], **fields).status_code == 403
        assert _post(viewer_client, all_matching="on", **fields).status_code == 403
    assert _state() == before
    # …and a viewer's list offers no selection at all.
    html = viewer_client.get(LIST).content.decode()
    assert 'id="bulk-form"' not in html and "bulk-ids" not in html


def test_remove_tag_and_set_and_clear_owner(owner_client, book, member, owner):
    shops, other = book
    ids = [s.pk for s in shops] + [other.pk]
    assert _post(owner_client, ids=ids, action="remove_tag", tag="vip").status_code == 302
    assert not Customer.objects.filter(tags__name="vip").exists()
    assert _post(owner_client, ids=ids, action="set_owner", owner=str(owner.pk)).status_code == 302
    assert set(Customer.objects.values_list("owner_id", flat=True)) == {owner.pk}
    assert _post(owner_client, ids=ids[:2], action="set_owner", owner="none").status_code == 302
    assert Customer.objects.filter(owner__isnull=True).count() == 2
    entry = TimelineEntry.objects.filter(customer=shops[0], data__msg="owner_set").latest("pk")
    assert describe(entry) == "Owner removed"


def test_select_all_matching_acts_on_every_filtered_customer_not_just_the_page(
    owner_client, settings
):
    settings.TEND_PAGE_SIZE = 5
    for i in range(12):
        make_customer(f"Shop {i:02d}", stage=Stage.TRIAL)
    make_customer("Elsewhere", stage=Stage.TRIAL)
    page = owner_client.get(LIST, {"q": "shop"}).content.decode()
    assert "Select all 12 customers matching the filters" in page
    response = _post(
        owner_client,
        all_matching="on",
        query="q=shop&sort=-name",
        action="set_stage",
        stage="adopting",
        reason="Kick-off call held",
    )
    assert response.status_code == 302
    assert Customer.objects.filter(stage=Stage.ADOPTING).count() == 12
    assert Customer.objects.get(name="Elsewhere").stage == Stage.TRIAL


def test_the_stage_change_writes_history_timeline_and_audit_for_each_customer(owner, book):
    shops, _other = book
    Customer.objects.filter(pk=shops[3].pk).update(stage=Stage.CHURNED)
    changed = customers_bulk_change_stage(
        customers=Customer.objects.all(), stage=Stage.AT_RISK, reason="Usage dropped", by=owner
    )
    assert len(changed) == 5
    for customer in Customer.objects.all():
        change = customer.stage_changes.latest("at")
        assert (change.to_stage, change.reason, change.by) == (
            Stage.AT_RISK,
            "Usage dropped",
            owner,
        )
        entry = TimelineEntry.objects.filter(customer=customer, kind="stage").latest("pk")
        assert entry.body == "Usage dropped" and entry.author == owner
        audit = AuditEntry.objects.get(action="customer.stage", object_id=str(customer.pk))
        assert audit.changes["stage"][1] == Stage.AT_RISK
    old = TimelineEntry.objects.filter(customer=shops[3], kind="stage").latest("pk")
    assert old.data == {"msg": "stage_changed", "from": "churned", "to": "at_risk"}
    assert Customer.objects.get(pk=shops[3].pk).churned_at is None
    # A second run changes nobody: no history, no entries, no audit rows.
    before = _state()
    assert (
        customers_bulk_change_stage(customers=Customer.objects.all(), stage="at_risk", by=owner)
        == []
    )
    assert _state() == before
    with translation.override("zh-hans"):
        assert "有风险" in describe(old) or "风险" in describe(old)


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_bulk_actions_run_the_same_queries_for_5_or_40_customers(owner, member):
    def run(n: int, round_: int) -> list[int]:
        Customer.objects.all().delete()
        for i in range(n):
            make_customer(f"C{round_}-{i}", stage=Stage.TRIAL)
        qs = Customer.objects.all()
        return [
            _queries(lambda: customers_bulk_tag(customers=qs, add=["a", "b"], by=owner)),
            _queries(lambda: customers_bulk_tag(customers=qs, remove=["a"], by=owner)),
            _queries(lambda: customers_bulk_set_owner(customers=qs, owner=member, by=owner)),
            _queries(lambda: customers_bulk_change_stage(customers=qs, stage="churned", by=owner)),
        ]

    small = run(5, 1)
    assert run(40, 2) == small
    assert max(small) <= 12


def test_the_page_view_runs_a_fixed_number_of_queries(owner_client, owner):
    def post(n: int) -> int:
        for _i in range(n):
            make_customer(stage=Stage.TRIAL)
        ids = list(Customer.objects.values_list("pk", flat=True))
        return _queries(
            lambda: _post(owner_client, ids=ids, action="set_stage", stage="onboarding")
        )

    small = post(3)
    Customer.objects.update(stage=Stage.TRIAL)
    assert post(30) == small


def test_nothing_selected_or_missing_values_are_all_reported_at_once(owner_client, book):
    before = _state()
    response = _post(owner_client, action="add_tag", tag="")
    assert response.status_code == 422
    html = response.content.decode()
    assert "Select customers first" in html
    assert "Type the tag to add or remove." in html
    response = _post(owner_client, ids=[book[0][0].pk], action="set_stage")
    assert response.status_code == 422 and "Choose the new stage." in response.content.decode()
    response = _post(owner_client, ids=["x1"], action="")
    assert response.status_code == 422
    assert "Choose what to do with the selected customers." in response.content.decode()
    assert _state() == before


def test_more_than_the_limit_is_refused_with_the_limit_stated(owner, monkeypatch, owner_client):
    import tend.customers.actions as actions
    import tend.customers.list_views as list_views

    monkeypatch.setattr(actions, "BULK_LIMIT", 3)
    monkeypatch.setattr(list_views, "BULK_LIMIT", 3)
    for _ in range(4):
        make_customer()
    with pytest.raises(BulkTooLarge):
        customers_bulk_tag(customers=Customer.objects.all(), add=["x"], by=owner)
    before = _state()
    response = _post(owner_client, all_matching="on", action="add_tag", tag="x")
    assert response.status_code == 422
    assert "at most 3 customers at once; 4 are selected" in response.content.decode()
    assert _state() == before
    assert BULK_LIMIT == 10_000
    assert "One action changes at most 10,000 customers" in owner_client.get(LIST).content.decode()


def test_bulk_timeline_entries_read_in_the_readers_language(owner, book):
    shops, _other = book
    customers_bulk_tag(customers=[shops[1]], add=["eu"], remove=["vip"], by=owner)
    entry = TimelineEntry.objects.filter(customer=shops[1], data__msg="tags_bulk").get()
    assert describe(entry) == "Tags added: eu"
    customers_bulk_tag(customers=[shops[0]], add=["eu"], remove=["vip"], by=owner)
    entry = TimelineEntry.objects.filter(customer=shops[0], data__msg="tags_bulk").get()
    assert describe(entry) == "Tags added: eu; Tags removed: vip"


@pytest.mark.parametrize("bad", ["x1", "99999999999999999999999", "-3", "1e9", "\x00"])
def test_hostile_ids_are_a_422_not_a_500_and_change_nothing(owner_client, book, bad):
    before = _state()
    response = _post(owner_client, ids=[bad], action="add_tag", tag="x")
    assert response.status_code == 422
    assert 'id="bulk-errors"' in response.content.decode()
    assert _state() == before


def test_ids_of_nobody_change_nothing(owner_client, book):
    before = _state()
    response = _post(owner_client, ids=[987654], action="set_stage", stage="churned")
    assert response.status_code == 302
    assert _state() == before
