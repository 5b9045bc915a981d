"""The digest choice on the settings page: owners and members choose off/daily/weekly; viewers
are told why they get none and their POST is refused; bad input changes nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tend.accounts.models import AuditEntry, User
from tend.digest.actions import digest_set_frequency

pytestmark = pytest.mark.django_db
URL = "/digest/preference/"


def checked(html: str) -> str:
    """The value of the checked digest radio."""
    found = re.findall(r'<input type="radio" name="digest" value="(\w+)"[^>]*\bchecked\b', html)
    assert len(found) == 1
    return found[0]


def test_the_settings_page_shows_the_choice(member_client: Client) -> None:
    html = member_client.get("/settings/").content.decode()
    assert 'id="digest-choice"' in html
    assert 'action="/digest/preference/"' in html
    assert 'value="weekly"' in html
    assert checked(html) == "off"


def test_a_member_chooses_weekly(member: User, member_client: Client) -> None:
    response = member_client.post(URL, {"digest": "weekly"})
    assert response.status_code == 302 and response["Location"] == "/settings/"
    member.refresh_from_db()
    assert member.digest == "weekly"
    entry = AuditEntry.objects.get(action="user.digest")
    assert entry.actor == member and entry.changes == {"digest": ["off", "weekly"]}
    page = member_client.get("/settings/").content.decode()
    assert "Your digest choice was saved." in page
    assert checked(page) == "weekly"


@pytest.mark.parametrize(
    "data",
    [
        {"digest": "hourly"},
        {"digest": "daily\x00"},
        {"digest": "x" * 100_000},
        {"digest": ["hourly"]},
        {},
    ],
)
def test_bad_input_is_refused_naming_the_field(
    owner: User, owner_client: Client, data: dict
) -> None:
    response = owner_client.post(URL, data, follow=True)
    assert response.status_code == 200
    assert "Digest email:" in response.content.decode()
    owner.refresh_from_db()
    assert owner.digest == "off"
    assert not AuditEntry.objects.filter(action="user.digest").exists()


def test_a_lone_surrogate_in_the_body_is_refused(owner: User, owner_client: Client) -> None:
    response = owner_client.post(
        URL, "digest=%ED%A0%80", content_type="application/x-www-form-urlencoded", follow=True
    )
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.digest == "off"


def test_a_viewer_gets_a_note_and_a_403(viewer: User, viewer_client: Client) -> None:
    html = viewer_client.get("/settings/").content.decode()
    assert "viewers only read" in html and 'name="digest"' not in html
    assert viewer_client.post(URL, {"digest": "daily"}).status_code == 403
    viewer.refresh_from_db()
    assert viewer.digest == "off"


def test_the_action_refuses_turning_it_on_for_a_viewer(viewer: User) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        digest_set_frequency(user=viewer, frequency="daily", by=viewer)
    assert "digest" in exc.value.message_dict
    digest_set_frequency(user=viewer, frequency="off", by=viewer)  # off is always allowed
