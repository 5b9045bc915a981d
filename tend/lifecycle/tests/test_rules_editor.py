"""The owners' rules editor: list, create, edit with a dry run, enable/disable, reorder,
delete; bad input names the field (and the condition's path) and saves nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tend.customers.models import Customer, Stage
from tend.lifecycle.models import LifecycleRule
from tend.lifecycle.tests.helpers import now, paying

pytestmark = pytest.mark.django_db

CONDITION = json.dumps({"all": [{"field": "mrr", "op": "gte", "value": 50}]})


def form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Big spenders",
        "condition": CONDITION,
        "stage": "expansion",
        "enabled": "on",
        "action": "save",
    }
    data.update(overrides)
    return data


def test_everyone_reads_the_rules_only_owners_see_the_buttons(
    owner_client: Client, viewer_client: Client
) -> None:
    page = viewer_client.get("/lifecycle/rules/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "First payment in the last 30 days" in html and "first rule that matches" in html
    assert "New rule" not in html and "Only owners change the rules." in html
    assert "New rule" in owner_client.get("/lifecycle/rules/").content.decode()


def test_members_and_viewers_cannot_change_rules(
    member_client: Client, viewer_client: Client
) -> None:
    before = list(LifecycleRule.objects.values_list("pk", "enabled", "position"))
    rule = LifecycleRule.objects.first()
    assert rule is not None
    for client in (member_client, viewer_client):
        assert client.get("/lifecycle/rules/new/").status_code == 403
        assert client.post("/lifecycle/rules/new/", form()).status_code == 403
        assert client.post(f"/lifecycle/rules/{rule.pk}/toggle/").status_code == 403
        assert client.post(f"/lifecycle/rules/{rule.pk}/delete/").status_code == 403
        assert (
            client.post(f"/lifecycle/rules/{rule.pk}/reorder/", {"direction": "down"}).status_code
            == 403
        )
    assert list(LifecycleRule.objects.values_list("pk", "enabled", "position")) == before


def test_an_owner_adds_a_rule_that_goes_last(owner_client: Client) -> None:
    response = owner_client.post("/lifecycle/rules/new/", form())
    assert response.status_code == 302
    rule = LifecycleRule.objects.in_order().last()
    assert rule is not None and rule.name == "Big spenders" and rule.stage == "expansion"
    assert rule.condition == json.loads(CONDITION) and rule.enabled


def test_the_dry_run_lists_who_would_move_and_saves_nothing(owner_client: Client) -> None:
    t = now()
    paying("Would move", days=100, at=t)
    count = LifecycleRule.objects.count()
    # First in order, so it decides before the tenure rules.
    response = owner_client.post("/lifecycle/rules/new/", form(action="preview"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "customer would move to this rule&#x27;s stage now" in html or "would move" in html
    mine = response.context["mine"]
    assert mine is not None
    assert LifecycleRule.objects.count() == count
    assert Customer.objects.get(name="Would move").stage == Stage.TRIAL


def test_editing_a_rule_previews_it_in_its_place(owner_client: Client) -> None:
    paying("Early", days=10, at=now())
    rule = LifecycleRule.objects.get(key="onboarding")
    page = owner_client.get(f"/lifecycle/rules/{rule.pk}/edit/")
    assert page.status_code == 200
    data = {
        "name": rule.label,
        "condition": json.dumps(rule.condition),
        "stage": "adopting",
        "enabled": "on",
        "action": "preview",
    }
    preview = owner_client.post(f"/lifecycle/rules/{rule.pk}/edit/", data)
    assert preview.status_code == 200
    assert [c.name for c in preview.context["mine"].moved] == ["Early"]
    rule.refresh_from_db()
    assert rule.stage == "onboarding"
    saved = owner_client.post(f"/lifecycle/rules/{rule.pk}/edit/", {**data, "action": "save"})
    assert saved.status_code == 302
    rule.refresh_from_db()
    assert rule.stage == "adopting" and rule.name == "First payment in the last 30 days"


@pytest.mark.parametrize(
    ("condition", "field", "needle"),
    [
        ('{"all": [', "condition", "Not valid JSON"),
        ('{"all": [{"field": "mrr", "op": "gte", "value": NaN}]}', "condition", "NaN"),
        ('{"all": [{"field": "nope", "op": "eq", "value": 1}]}', "condition", "all[0]"),
        ('{"all": [{"field": "mrr", "op": "contains", "value": 1}]}', "condition", "all[0]"),
        ('"just text"', "condition", ""),
        ("[" * 5000 + "]" * 5000, "condition", ""),
    ],
)
def test_a_bad_condition_is_an_error_naming_the_path_and_nothing_is_saved(
    owner_client: Client, condition: str, field: str, needle: str
) -> None:
    count = LifecycleRule.objects.count()
    response = owner_client.post("/lifecycle/rules/new/", form(condition=condition))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert field in errors and needle in " ".join(errors[field])
    assert LifecycleRule.objects.count() == count


def test_bad_names_and_stages_are_refused(owner_client: Client) -> None:
    count = LifecycleRule.objects.count()
    for bad in (
        form(name=""),
        form(name="a\x00b"),
        form(name="x" * 121),
        form(stage="limbo"),
        form(from_stages=["limbo"]),
    ):
        response = owner_client.post("/lifecycle/rules/new/", bad)
        assert response.status_code in (400, 422)
    assert LifecycleRule.objects.count() == count


def test_the_live_check_names_the_path_or_says_valid(owner_client: Client) -> None:
    bad = owner_client.post(
        "/lifecycle/rules/check/",
        {"condition": '{"any": [{"field": "mrr", "op": "between", "value": "x"}]}'},
    )
    assert bad.status_code == 200 and "any[0]" in bad.content.decode()
    good = owner_client.post("/lifecycle/rules/check/", {"condition": CONDITION})
    assert "Valid." in good.content.decode()


def test_toggle_reorder_and_delete(owner_client: Client) -> None:
    first, second = list(LifecycleRule.objects.in_order())[:2]
    owner_client.post(f"/lifecycle/rules/{first.pk}/toggle/")
    first.refresh_from_db()
    assert not first.enabled
    owner_client.post(f"/lifecycle/rules/{first.pk}/reorder/", {"direction": "down"})
    order = list(LifecycleRule.objects.in_order().values_list("pk", flat=True))
    assert order[:2] == [second.pk, first.pk]
    owner_client.post(f"/lifecycle/rules/{first.pk}/reorder/", {"direction": "sideways"})
    assert list(LifecycleRule.objects.in_order().values_list("pk", flat=True)) == order
    owner_client.post(f"/lifecycle/rules/{first.pk}/delete/")
    assert not LifecycleRule.objects.filter(pk=first.pk).exists()
