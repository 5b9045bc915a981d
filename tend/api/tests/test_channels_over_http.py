"""``/api/v1/channels``: list with customer counts, create, rename/move/archive/restore; a
customer's channel must be one of them (a 422 listing the allowed codes otherwise)."""

from __future__ import annotations

import pytest

from tend.accounts.models import AuditEntry
from tend.api.main import openapi_schema
from tend.customers.models import AcquisitionChannel
from tend.factories import make_customer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded():
    # Two channels, whatever migration 0005 seeded or a flush removed.
    AcquisitionChannel.objects.all().delete()
    AcquisitionChannel.objects.create(code="organic", position=1)
    AcquisitionChannel.objects.create(code="referral", position=2)


def test_channels_round_trip(rw, ro, seeded):
    make_customer(channel="referral")
    listed = ro.get("/channels").json()
    assert [c["code"] for c in listed["items"]] == ["organic", "referral"]
    assert listed["items"][1] == {
        "code": "referral",
        "name": "",
        "label": "Referral",
        "position": 2,
        "archived_at": None,
        "customers": 1,
    }

    created = rw.post("/channels", json={"name": "Trade fairs"})
    assert created.status_code == 201, created.text
    assert created.json()["code"] == "trade_fairs" and created.json()["position"] == 3
    assert rw.post("/channels", json={"name": "X", "code": "trade_fairs"}).status_code == 409

    moved = rw.patch("/channels/trade_fairs", json={"position": 1, "name": "Fairs"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["label"] == "Fairs" and moved.json()["position"] == 1
    assert [c["code"] for c in ro.get("/channels").json()["items"]] == [
        "trade_fairs",
        "organic",
        "referral",
    ]

    archived = rw.post("/channels/trade_fairs/archive")
    assert archived.status_code == 200 and archived.json()["archived_at"] is not None
    # Archived: refused for a new customer, listing the codes still offered…
    refused = rw.post("/customers", json={"name": "New", "channel": "nope"})
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert error["field"] == "channel" and error["code"] == "unknown"
    assert "organic, referral" in error["message"]
    restored = rw.patch("/channels/trade_fairs", json={"archived": False})
    assert restored.json()["archived_at"] is None
    assert rw.post("/customers", json={"name": "New", "channel": "trade_fairs"}).status_code == 201
    assert AuditEntry.objects.filter(action="channel.create", actor_label="api:zapier").exists()


def test_schemas_are_strict_and_the_document_states_the_constraint(rw, seeded):
    bad = rw.post("/channels", json={"name": "", "code": "white space", "extra": 1})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"name", "code", "extra"}
    assert rw.patch("/channels/organic", json={"position": 0}).status_code == 422
    assert rw.patch("/channels/nope", json={"name": "x"}).status_code == 404
    assert rw.post("/channels/nope/archive").status_code == 404

    doc = openapi_schema()
    channel = doc["components"]["schemas"]["CustomerIn"]["properties"]["channel"]
    text = str(channel)
    assert "pattern" in text and "GET /api/v1/channels" in text


def test_a_read_key_lists_but_does_not_change(ro, seeded):
    assert ro.get("/channels").status_code == 200
    before = list(AcquisitionChannel.objects.values_list("code", "name", "position", "archived_at"))
    assert ro.post("/channels", json={"name": "X"}).status_code == 403
    assert ro.patch("/channels/organic", json={"name": "X"}).status_code == 403
    assert ro.post("/channels/organic/archive").status_code == 403
    after = list(AcquisitionChannel.objects.values_list("code", "name", "position", "archived_at"))
    assert after == before


def test_metric_filters_refuse_an_unknown_channel_listing_yours(ro, seeded):
    response = ro.get("/metrics/summary", params={"channel": "nope"})
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "channel" and error["code"] == "unknown"
    assert "referral" in error["message"]
    assert ro.get("/metrics/summary", params={"channel": "referral"}).status_code == 200
