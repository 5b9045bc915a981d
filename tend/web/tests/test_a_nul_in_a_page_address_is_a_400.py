"""A NUL character in a page's query string or path is a 400 before any view or query runs
(PostgreSQL cannot hold it in text and used to answer 500)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/customers/?q=%00",
        "/customers/?tag=%00",
        "/customers/?q=ok&plan=a%00b",
        "/customers/?%00=1",
        "/metrics/?tag=%00",
        "/goals/?tag=%00",
        "/customers/%00/",
    ],
)
def test_a_nul_in_the_address_is_a_400(owner_client, url):
    response = owner_client.get(url)
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_an_ordinary_search_still_works(owner_client):
    assert owner_client.get("/customers/?q=acme").status_code == 200
