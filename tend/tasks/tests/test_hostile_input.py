"""Arbitrary JSON on the task endpoints and forms: never a 5xx; a refusal is a 422 naming the
field and saves nothing; whatever is accepted is a valid task."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tend.accounts.actions import apikey_create
from tend.factories import make_customer
from tend.tasks.actions import task_create
from tend.tasks.models import Task
from tend.tasks.validation import EARLIEST_DUE, latest_due
from tend.today.actions import today_date

pytestmark = pytest.mark.django_db

text = st.text(
    st.one_of(
        st.characters(codec=None, exclude_categories=()),
        st.sampled_from(["\x00", "\ud800", "\udfff", " ", "\n", "\x1c"]),
    ),
    max_size=30,
) | st.sampled_from(["x" * 200, "x" * 201, " " * 300, "a" * 10_001])
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
)
dates = st.sampled_from(
    [
        "0000-00-00",
        "10000-01-01",
        "9999-12-31",
        "0001-01-01",
        "1999-12-31",
        "2026-02-30",
        "2026-1-1",
        today_date().isoformat(),
        (today_date() + timedelta(days=1)).isoformat(),
        "2026-01-01T00:00:00Z",
    ]
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, text, dates),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
FIELDS = ["title", "customer_id", "assignee", "due_on", "priority", "notes", "key"]


@st.composite
def bodies(draw: st.DrawFn) -> str:
    body: dict[str, Any] = draw(st.dictionaries(text, json_values, max_size=2))
    for name in FIELDS:
        if draw(st.booleans()):
            body[name] = draw(json_values | st.sampled_from(["mike", "vera", "olivia", 1, 2, 3]))
    raw = json.dumps(body, ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()) and raw != "{}":
        raw = raw[:-1] + ', "title": "ok"}'
    if draw(st.integers(0, 9)) == 0:
        raw = draw(st.sampled_from(["", "[]", "null", "{", '{"title": 1e999}', "7" * 5000]))
    return raw


@pytest.fixture
def post(member: Any, viewer: Any) -> Any:
    make_customer("Acme")
    client = Client(
        HTTP_AUTHORIZATION=f"Bearer {apikey_create(name='h', kind='read_write', by=member)[1]}"
    )

    def _post(url: str, raw: str) -> Any:
        return client.post(
            url, data=raw.encode("utf-8", "surrogatepass"), content_type="application/json"
        )

    return _post


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=bodies())
def test_arbitrary_json_on_create_is_a_task_or_a_field_error(post: Any, raw: str) -> None:
    before = Task.objects.count()
    response = post("/api/v1/tasks", raw)
    assert response.status_code in (200, 201, 400, 422), (response.status_code, response.content)
    if response.status_code in (400, 422):
        errors = response.json()["errors"]
        assert errors and all(isinstance(e["field"], str) for e in errors), response.content
        assert Task.objects.count() == before
        return
    task = Task.objects.get(pk=response.json()["id"])
    assert 0 < len(task.title) <= 200 and task.title == task.title.strip()
    assert "\x00" not in task.title + task.notes
    assert task.priority in (1, 2, 3)
    assert task.due_on is None or EARLIEST_DUE <= task.due_on <= latest_due()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=bodies())
def test_arbitrary_json_on_update_and_snooze_never_breaks_the_task(post: Any, raw: str) -> None:
    task = Task.objects.filter(title="Target").first() or task_create(title="Target")
    for url in (f"/api/v1/tasks/{task.pk}/snooze", f"/api/v1/tasks/{task.pk}/reassign"):
        response = post(url, raw)
        assert response.status_code in (200, 400, 422), (url, response.content)
    client_response = post(f"/api/v1/tasks/{task.pk}", raw)  # POST on the item: not allowed
    assert client_response.status_code == 405
    fresh = Task.objects.get(pk=task.pk)
    assert fresh.due_on is None or EARLIEST_DUE <= fresh.due_on <= latest_due()


@pytest.mark.parametrize(
    "title",
    ["a%00b", "%ED%A0%80", "%F0%9F", "x" * 5000, "", "%20%20%20", "%E2%80%AE" + "y" * 199],
)
def test_hostile_titles_on_the_page_form_are_a_422_or_a_clean_task(
    member_client: Client, title: str
) -> None:
    # Raw form bytes: NUL, a UTF-8-encoded lone surrogate, a cut-off character.
    response = member_client.post(
        "/tasks/new/",
        f"title={title}&priority=2",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (302, 400, 422)
    if response.status_code == 302:
        task = Task.objects.get()
        assert "\x00" not in task.title and 0 < len(task.title) <= 200
    else:
        assert Task.objects.count() == 0
