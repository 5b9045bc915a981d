"""The OpenAPI document parses as JSON without a repeated key: Swagger UI (a YAML parser)
refuses a document where an operation lists a status both as 200 and as "200"."""

from __future__ import annotations

import json
from typing import Any

import pytest


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _value in pairs]
    assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})
    return dict(pairs)


@pytest.mark.django_db
def test_no_object_in_the_openapi_document_repeats_a_key(owner_client):
    response = owner_client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    json.loads(response.content, object_pairs_hook=_no_repeats)
