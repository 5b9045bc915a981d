"""The experiment through its surfaces: REST (every kind of caller, hostile input) and
``tend experiment NAME``; all give the same numbers as experiment_results."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tend.accounts.actions import apikey_create, apikey_revoke, user_create
from tend.accounts.models import Role, User
from tend.activity.models import Event
from tend.factories import make_customer
from tend.playbooks.experiments import experiment_results
from tend.playbooks.models import Group, Playbook, PlaybookRun, RunStatus

AS_OF = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def pb() -> Playbook:
    playbook = Playbook.objects.create(
        name="Onboarding",
        trigger="manual",
        holdout_percent=30,
        outcome={"kind": "event", "days": 14, "event": "invite_sent"},
    )
    entered = AS_OF - timedelta(days=30)
    events = []
    for group, did, n in ((Group.TREATED, 30, 40), (Group.CONTROL, 8, 25)):
        for i in range(n):
            customer = make_customer()
            PlaybookRun.objects.create(
                playbook=playbook,
                customer=customer,
                occurrence="1",
                group=group,
                status=RunStatus.CONTROL if group == Group.CONTROL else RunStatus.DONE,
                started_at=entered,
            )
            if i < did:
                events.append(
                    Event(
                        customer=customer, name="invite_sent", timestamp=entered + timedelta(days=2)
                    )
                )
    Event.objects.bulk_create(events)
    return playbook


def url(pb: Playbook, query: str = "") -> str:
    return f"/api/v1/playbooks/{pb.pk}/experiment{query}"


def snapshot() -> tuple[Any, ...]:
    return (
        list(Playbook.objects.values_list("id", "holdout_percent", "outcome", "version")),
        PlaybookRun.objects.count(),
    )


def test_api_answers_what_the_results_say(pb: Playbook, owner_client: Client) -> None:
    response = owner_client.get(url(pb, "?as_of=2026-06-01T12:00:00Z"))
    assert response.status_code == 200
    body = response.json()
    results = experiment_results(playbook=pb, as_of=AS_OF)
    assert body["treated"]["judged"] == 40 and body["treated"]["successes"] == 30
    assert body["control"]["judged"] == 25 and body["control"]["successes"] == 8
    assert body["comparison"]["ci_low"] == pytest.approx(results.comparison.low)
    assert body["comparison"]["method"] == "newcomb"
    assert body["verdict"] == results.verdict == "works"
    assert body["sentence"] == results.sentence
    assert body["as_of"] == "2026-06-01T12:00:00Z"


def test_api_speaks_the_callers_language(pb: Playbook, owner: User) -> None:
    client = Client()
    client.force_login(owner)
    body = client.get(url(pb), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["verdict"] == "works"


@pytest.mark.parametrize("role", [Role.OWNER, Role.MEMBER, Role.VIEWER])
def test_every_role_reads(pb: Playbook, role: str) -> None:
    user = user_create(username=f"u-{role}", password="x" * 12, role=role)
    client = Client()
    client.force_login(user)
    before = snapshot()
    assert client.get(url(pb)).status_code == 200
    for method in (client.post, client.put, client.patch, client.delete):
        assert method(url(pb)).status_code == 405
    assert snapshot() == before


def test_outsider_and_keys(pb: Playbook, owner: User, viewer: User) -> None:
    before = snapshot()
    assert Client().get(url(pb)).status_code == 401
    for kind, status in (("read", 200), ("read_write", 200), ("write", 403)):
        _key, raw = apikey_create(name=kind, kind=kind, by=owner)
        assert Client().get(url(pb), HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == status
    key, raw = apikey_create(name="viewer-read", kind="read", by=viewer)
    assert Client().get(url(pb), HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    apikey_revoke(key=key, by=viewer)
    assert Client().get(url(pb), HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert Client().get(url(pb), HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401
    assert snapshot() == before


@pytest.mark.parametrize(
    "path, field",
    [
        ("/api/v1/playbooks/0/experiment", "playbook_id"),
        ("/api/v1/playbooks/99999999999999999999/experiment", "playbook_id"),
        ("/api/v1/playbooks/abc/experiment", "playbook_id"),
        ("/api/v1/playbooks/{id}/experiment?as_of=yesterday", "as_of"),
        ("/api/v1/playbooks/{id}/experiment?as_of=2026-06-01T12:00%00", "as_of"),
        ("/api/v1/playbooks/{id}/experiment?as_of=%ED%A0%80", "as_of"),
        ("/api/v1/playbooks/{id}/experiment?as_of=99999-01-01T00:00", "as_of"),
        ("/api/v1/playbooks/{id}/experiment?days=30", "days"),
    ],
)
def test_hostile_input_is_a_422_naming_the_field(
    pb: Playbook, owner_client: Client, path: str, field: str
) -> None:
    response = owner_client.get(path.replace("{id}", str(pb.pk)))
    assert response.status_code == 422, response.content
    assert field in json.dumps(response.json())


def test_unknown_playbook_is_a_404(owner_client: Client) -> None:
    response = owner_client.get("/api/v1/playbooks/424242/experiment")
    assert response.status_code == 404
    assert "424242" in response.json()["detail"]


def test_extreme_as_of_values_are_answered(pb: Playbook, owner_client: Client) -> None:
    for as_of in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
        response = owner_client.get(url(pb, f"?as_of={as_of}"))
        assert response.status_code == 200, response.content


def test_command_prints_the_table_and_the_sentence(pb: Playbook) -> None:
    out = io.StringIO()
    call_command("experiment", "Onboarding", "--as-of", "2026-06-01T12:00", stdout=out)
    text = out.getvalue()
    results = experiment_results(playbook=pb, as_of=AS_OF)
    assert results.sentence in text
    assert "Treated" in text and "Control" in text


def test_command_json_is_the_api_body(pb: Playbook, owner_client: Client) -> None:
    out = io.StringIO()
    call_command("experiment", str(pb.pk), "--json", "--as-of", "2026-06-01T12:00Z", stdout=out)
    body = json.loads(out.getvalue())
    api = owner_client.get(url(pb, "?as_of=2026-06-01T12:00:00Z")).json()
    assert body["comparison"] == api["comparison"]
    assert body["sentence"] == api["sentence"]


def test_command_refuses_unknown_names_and_bad_times(pb: Playbook) -> None:
    with pytest.raises(CommandError, match="name: no playbook called 'Nope'"):
        call_command("experiment", "Nope")
    with pytest.raises(CommandError, match="--as-of"):
        call_command("experiment", "Onboarding", "--as-of", "soon")
