"""Hostile input on the playbook surfaces: arbitrary JSON as steps, trigger settings and
condition through REST and through the editor's hidden JSON fields; NUL characters, lone
surrogates, nesting 1,000 levels deep, huge arrays. Never a 5xx; a 422 naming the field; nothing
saved."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tend.accounts.actions import apikey_create
from tend.accounts.models import Role, User
from tend.playbooks.models import Playbook
from tend.playbooks.tests.ui_helpers import form_data, good_steps

pytestmark = pytest.mark.django_db

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["id", "type", "config", "then", "else", "days", "template", "all", "x"]
            )
            | st.text(max_size=8),
            children,
            max_size=4,
        )
    ),
    max_leaves=25,
)
STEP = st.fixed_dictionaries(
    {
        "id": st.text(max_size=25) | st.integers(),
        "type": st.sampled_from(
            ["wait", "wait_until", "branch", "email", "task", "stage", "tag_add", "note", "webhook"]
        )
        | st.text(max_size=10),
        "config": JSON,
    },
    optional={"then": st.lists(JSON, max_size=3), "else": JSON},
)
STEPS = st.lists(STEP | JSON, max_size=5) | JSON
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _user() -> User:
    return User.objects.filter(username="hostile").first() or User.objects.create_user(
        username="hostile", password="x" * 12, role=Role.OWNER
    )


def _api() -> Client:
    _key, raw = apikey_create(name=f"k{User.objects.count()}", kind="read_write", by=_user())
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _check(response: Any, allowed: set[int]) -> None:
    assert response.status_code < 500, response.content[:500]
    assert response.status_code in allowed, (response.status_code, response.content[:500])


@SETTINGS
@given(steps=STEPS, trigger_config=JSON, condition=JSON)
def test_arbitrary_json_through_rest_is_a_created_playbook_or_a_422(
    steps: Any, trigger_config: Any, condition: Any
) -> None:
    api = _api()
    before = Playbook.objects.count()
    response = api.post(
        "/api/v1/playbooks",
        json.dumps(
            {
                "name": f"P{before}",
                "trigger": "manual",
                "trigger_config": trigger_config,
                "condition": condition,
                "steps": steps,
            }
        ),
        content_type="application/json",
    )
    _check(response, {201, 422})
    if response.status_code == 422:
        errors = response.json()["errors"]
        assert errors and all(e["field"] for e in errors), errors
        assert Playbook.objects.count() == before


@SETTINGS
@given(steps=STEPS, trigger_config=JSON, condition=JSON)
def test_arbitrary_json_through_the_editor_is_saved_or_shown_back(
    steps: Any, trigger_config: Any, condition: Any
) -> None:
    client = Client()
    client.force_login(_user())
    before = Playbook.objects.count()
    response = client.post(
        "/playbooks/new/",
        form_data(
            name=f"P{before}",
            steps=json.dumps(steps),
            trigger_config=json.dumps(trigger_config),
            condition=json.dumps(condition),
        ),
    )
    _check(response, {302, 422})
    if response.status_code == 422:
        assert response.context["problems"]
        assert Playbook.objects.count() == before


class Raw(str):
    """JSON text sent as it is (json.dumps itself cannot nest 1,000 levels)."""


def deep(levels: int) -> Raw:
    condition = '{"all": [' * levels + '{"field": "mrr", "op": "gt", "value": 1}' + "]}" * levels
    return Raw('[{"id": "s1", "type": "branch", "config": {"condition": ' + condition + "}}]")


def text(steps: Any) -> str:
    return steps if isinstance(steps, Raw) else json.dumps(steps)


HOSTILE: list[tuple[str, Any]] = [
    ("nul in a step", [{"id": "s1", "type": "note", "config": {"text": "a\x00b"}}]),
    ("surrogate in a step", [{"id": "s1", "type": "note", "config": {"text": "a\ud800b"}}]),
    ("deep", deep(1000)),
    ("huge array", [{"id": f"s{i}", "type": "wait", "config": {"days": 1}} for i in range(20_000)]),
    ("huge number", [{"id": "s1", "type": "wait", "config": {"days": 10**40}}]),
    ("not a list", {"steps": "no"}),
]


@pytest.mark.parametrize(("what", "steps"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_steps_through_rest_are_a_422_naming_the_field(what: str, steps: Any) -> None:
    api = _api()
    raw = '{"name": "Hostile", "trigger": "manual", "steps": ' + text(steps) + "}"
    response = api.post("/api/v1/playbooks", raw, content_type="application/json")
    _check(response, {400, 422})
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields and all(f and (f.startswith("steps") or f == "body") for f in fields), fields
    assert not Playbook.objects.exists()


@pytest.mark.parametrize(("what", "steps"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_steps_through_the_editor_are_refused_and_shown(what: str, steps: Any) -> None:
    client = Client()
    client.force_login(_user())
    response = client.post("/playbooks/new/", form_data(steps=text(steps)))
    _check(response, {422})
    assert any(p["path"].startswith("steps") for p in response.context["problems"])
    assert not Playbook.objects.exists()


def test_hostile_text_in_names_and_raw_nul_in_the_hidden_field(owner_client: Client) -> None:
    for name in ("a\x00b", "x" * 500, "   "):
        response = owner_client.post("/playbooks/new/", form_data(name=name))
        _check(response, {422})
    response = owner_client.post("/playbooks/new/", form_data(steps='[{"id": "\x00"}]'))
    _check(response, {422})
    response = owner_client.post(
        "/playbooks/new/", form_data(steps=json.dumps(good_steps()) + " " * 300_000)
    )
    _check(response, {422})
    assert not Playbook.objects.exists()
