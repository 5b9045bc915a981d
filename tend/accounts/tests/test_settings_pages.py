"""The settings area through its pages: your own password and language (everyone); users,
API keys and the business settings in force (owners only)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tend.accounts.actions import apikey_create, user_change_role, user_create
from tend.accounts.models import ApiKey, AuditEntry, Role, User
from tend.testing import PASSWORD

pytestmark = pytest.mark.django_db


# --- your account ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "member", "viewer"])
def test_everyone_changes_their_own_password_and_stays_logged_in(persona, request):
    user: User = request.getfixturevalue(persona)
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    response = client.post(
        "/settings/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a new long passphrase 42",
            "new_password2": "a new long passphrase 42",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/settings/"
    user.refresh_from_db()
    assert user.check_password("a new long passphrase 42")
    # The session survives the change (Django's update_session_auth_hash).
    assert client.get("/settings/").status_code == 200
    assert AuditEntry.objects.filter(action="user.password_change", object_id=str(user.pk)).exists()
    audit = AuditEntry.objects.get(action="user.password_change")
    assert "passphrase" not in str(audit.changes)


def test_a_wrong_old_password_and_mismatched_new_ones_are_reported_together(owner_client, owner):
    response = owner_client.post(
        "/settings/password/",
        {"old_password": "wrong", "new_password1": "short", "new_password2": "other"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Your old password was entered incorrectly" in page
    assert "The two password fields didn’t match" in page
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_the_chosen_language_follows_the_user_to_a_new_browser(viewer_client, viewer):
    response = viewer_client.post("/settings/language/", {"language": "zh-hans"})
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.language == "zh-hans"
    fresh = Client()  # no language cookie, an English browser
    fresh.force_login(viewer)
    page = fresh.get("/settings/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="zh-hans"' in page.content.decode()
    # Back to "same as the browser": the English browser gets English again.
    viewer_client.post("/settings/language/", {"language": ""})
    page = fresh.get("/settings/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en"' in page.content.decode()


def test_the_language_menu_stores_the_choice_on_the_user(member_client, member):
    member_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/customers/"})
    member.refresh_from_db()
    assert member.language == "zh-hans"


def test_an_unknown_language_is_refused_and_nothing_changes(member_client, member):
    response = member_client.post("/settings/language/", {"language": "xx"})
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    member.refresh_from_db()
    assert member.language == ""


# --- users ------------------------------------------------------------------------------


def _temporary_password(response) -> str:  # type: ignore[no-untyped-def]
    page = response.content.decode()
    found = re.search(r'<input[^>]*value="([^"]+)"[^>]*id="temporary-password"', page)
    assert found, page[:2000]
    return found.group(1)


def test_the_users_page_lists_everyone_with_role_status_and_last_login(owner_client, member):
    page = owner_client.get("/settings/users/").content.decode()
    for text in ("olivia", "mike", "o@example.com", "Owner", "Member", "never"):
        assert text in page


def test_an_owner_adds_a_user_with_a_temporary_password_shown_once(owner_client, owner):
    response = owner_client.post(
        "/settings/users/",
        {"username": "nina", "first_name": "Nina", "email": "nina@example.com", "role": "viewer"},
    )
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    temporary = _temporary_password(response)
    nina = User.objects.get(username="nina")
    assert nina.role == Role.VIEWER and nina.check_password(temporary)
    assert Client().login(username="nina", password=temporary)
    again = owner_client.get("/settings/users/").content.decode()
    assert temporary not in again and "temporary-password" not in again
    audit = AuditEntry.objects.get(action="user.create", object_id=str(nina.pk))
    assert audit.actor == owner and temporary not in str(audit.changes)


def test_an_owner_may_set_the_password_instead(owner_client):
    response = owner_client.post(
        "/settings/users/",
        {"username": "pat", "role": "member", "password": "a perfectly fine passphrase"},
    )
    assert response.status_code == 201
    assert "temporary-password" not in response.content.decode()
    assert User.objects.get(username="pat").check_password("a perfectly fine passphrase")


def test_every_problem_of_a_new_user_is_reported_at_once(owner_client, member):
    response = owner_client.post(
        "/settings/users/",
        {"username": "MIKE", "email": "not-an-email", "role": "boss", "password": "123"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "A user called “MIKE” already exists." in page
    assert "Enter a valid email address." in page
    assert "Select a valid choice. boss is not one of the available choices." in page
    assert "This password is too short." in page
    assert User.objects.count() == 2


def test_an_owner_changes_a_role_and_the_audit_log_says_so(owner_client, owner, member):
    response = owner_client.post(f"/settings/users/{member.pk}/role/", {"role": "viewer"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.VIEWER
    entry = AuditEntry.objects.get(action="user.role")
    assert entry.actor == owner and entry.changes == {"role": ["member", "viewer"]}


def test_the_last_active_owner_can_be_neither_demoted_nor_deactivated(owner_client, owner, member):
    response = owner_client.post(
        f"/settings/users/{owner.pk}/role/", {"role": "member"}, follow=True
    )
    assert "olivia is the last active owner" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    # A second owner, deactivated, does not count.
    other = user_create(username="otto", password=PASSWORD, role=Role.OWNER)
    User.objects.filter(pk=other.pk).update(is_active=False)
    owner_client.post(f"/settings/users/{owner.pk}/role/", {"role": "viewer"})
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    # Another owner logs in and tries to deactivate olivia, the only active owner left.
    User.objects.filter(pk=other.pk).update(is_active=True)
    user_change_role(user=other, role=Role.MEMBER, by=owner)
    User.objects.filter(pk=other.pk).update(role=Role.OWNER)  # back, without an audit row
    otto = Client()
    otto.force_login(User.objects.get(pk=other.pk))
    otto.post(f"/settings/users/{owner.pk}/deactivate/")  # allowed: otto is an owner too
    owner.refresh_from_db()
    assert not owner.is_active
    page = otto.post(f"/settings/users/{other.pk}/role/", {"role": "member"}, follow=True)
    assert "otto is the last active owner" in page.content.decode()
    assert User.objects.get(pk=other.pk).role == Role.OWNER


def test_nobody_deactivates_themselves(owner_client, owner):
    user_create(username="otto", password=PASSWORD, role=Role.OWNER)
    response = owner_client.post(f"/settings/users/{owner.pk}/deactivate/", follow=True)
    assert "You cannot deactivate yourself." in response.content.decode()
    owner.refresh_from_db()
    assert owner.is_active


def test_a_deactivated_user_cannot_log_in_and_their_key_is_refused(owner_client, member):
    _key, raw = apikey_create(name="ci", kind="read", by=member)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/customers").status_code == 200
    owner_client.post(f"/settings/users/{member.pk}/deactivate/")
    assert not Client().login(username="mike", password=PASSWORD)
    assert api.get("/api/v1/customers").status_code == 401
    owner_client.post(f"/settings/users/{member.pk}/reactivate/")
    assert Client().login(username="mike", password=PASSWORD)
    assert api.get("/api/v1/customers").status_code == 200


def test_an_owner_resets_a_password_and_sees_it_once(owner_client, member):
    confirm = owner_client.get(f"/settings/users/{member.pk}/password/")
    assert "Reset the password of mike?" in confirm.content.decode()
    member.refresh_from_db()
    assert member.check_password(PASSWORD)  # asking changes nothing
    response = owner_client.post(f"/settings/users/{member.pk}/password/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    temporary = _temporary_password(response)
    member.refresh_from_db()
    assert member.check_password(temporary) and not member.check_password(PASSWORD)
    assert temporary not in owner_client.get("/settings/users/").content.decode()
    assert AuditEntry.objects.filter(action="user.password_reset").count() == 1


# --- API keys ------------------------------------------------------------------------------


def _raw_key(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'<input[^>]*value="([^"]+)"[^>]*id="raw-key"', response.content.decode())
    assert found, response.content.decode()[:2000]
    return found.group(1)


def test_a_new_key_is_shown_once_and_acts_as_its_user(owner_client, owner, member):
    response = owner_client.post(
        "/settings/api-keys/", {"name": "zapier", "kind": "read_write", "user": member.pk}
    )
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    raw = _raw_key(response)
    key = ApiKey.objects.get(name="zapier")
    assert key.created_by == member and key.kind == "read_write"
    assert key.hashed == ApiKey.hash(raw) and raw not in key.hashed
    page = owner_client.get("/settings/api-keys/").content.decode()
    assert raw not in page and "zapier" in page and "mike" in page
    assert raw not in str(AuditEntry.objects.get(action="apikey.create").changes)
    assert AuditEntry.objects.get(action="apikey.create").actor == owner
    made = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").post(
        "/api/v1/customers", {"name": "Via key"}, content_type="application/json"
    )
    assert made.status_code == 201
    assert AuditEntry.objects.get(action="customer.create").actor == member


def test_a_viewer_may_be_given_read_keys_only_with_a_clear_message(owner_client, viewer):
    response = owner_client.post(
        "/settings/api-keys/", {"name": "x", "kind": "write", "user": viewer.pk}
    )
    assert response.status_code == 422
    assert "vera is a viewer. Viewers only read, so they may own read keys only" in (
        response.content.decode()
    )
    assert not ApiKey.objects.exists()
    ok = owner_client.post("/settings/api-keys/", {"name": "x", "kind": "read", "user": viewer.pk})
    assert ok.status_code == 201


def test_every_problem_of_a_new_key_is_reported_at_once(owner_client):
    response = owner_client.post(
        "/settings/api-keys/", {"name": "  ", "kind": "root", "user": "999"}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert page.count("invalid-feedback") == 3
    assert "Select a valid choice. root is not one of the available choices." in page
    assert not ApiKey.objects.exists()


def test_a_revoked_key_gets_401_on_the_api_after_the_confirmation(owner_client, owner):
    key, raw = apikey_create(name="old", kind="read", by=owner)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/customers").status_code == 200
    confirm = owner_client.get(f"/settings/api-keys/{key.pk}/revoke/")
    assert confirm.status_code == 200 and "Revoke the key “old”?" in confirm.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None  # asking changes nothing
    owner_client.post(f"/settings/api-keys/{key.pk}/revoke/")
    assert api.get("/api/v1/customers").status_code == 401
    page = owner_client.get("/settings/api-keys/").content.decode()
    assert "revoked" in page
    assert AuditEntry.objects.filter(action="apikey.revoke").count() == 1
    owner_client.post(f"/settings/api-keys/{key.pk}/revoke/")  # twice: still one audit row
    assert AuditEntry.objects.filter(action="apikey.revoke").count() == 1


def test_the_keys_page_stays_at_a_constant_number_of_queries(
    owner_client, owner, member, django_assert_max_num_queries
):
    for i in range(30):
        apikey_create(name=f"k{i}", kind="read", by=owner if i % 2 else member)
    with django_assert_max_num_queries(12):
        assert owner_client.get("/settings/api-keys/").status_code == 200


# --- business settings -----------------------------------------------------------------------


def test_the_business_settings_say_where_each_value_comes_from(owner_client, settings):
    settings.TEND_CURRENCY = "EUR"
    settings.TEND_STRIPE_WEBHOOK_SECRET = "whsec_topsecret"
    page = owner_client.get("/settings/business/").content.decode()
    for variable in (
        "TEND_CURRENCY",
        "TEND_TIME_ZONE",
        "TEND_BUSINESS_MODEL",
        "TEND_GROSS_MARGIN",
        "TEND_CLV_DISCOUNT_RATE",
        "TEND_CLV_GROWTH_RATE",
        "TEND_LANGUAGE",
    ):
        assert f"<code>{variable}</code>" in page
    assert "EUR" in page and "80 %" in page
    assert "environment variables" in page
    assert "whsec_topsecret" not in page


def test_settings_link_is_in_the_menu_for_everyone_and_owner_links_for_owners(
    owner_client, viewer_client
):
    owner_page = owner_client.get("/settings/").content.decode()
    viewer_page = viewer_client.get("/settings/").content.decode()
    assert 'href="/settings/"' in viewer_page and 'href="/settings/api-keys/"' in owner_page
    assert 'href="/settings/api-keys/"' not in viewer_page
    assert 'href="/billing/plans/"' in viewer_page


# --- hostile input -------------------------------------------------------------------------


def test_hostile_text_in_the_settings_forms_is_a_422_and_changes_nothing(owner_client, owner):
    users_before = User.objects.count()
    for data in [
        {"username": "nul\x00", "role": "member"},
        {"username": "x" * 151, "role": "member"},
        {"username": "has space", "role": "member"},
        {"username": "ok", "role": "member", "email": "a@b.c\x00"},
        {"username": "ok", "role": ["owner", "viewer"], "first_name": "x" * 151},
    ]:
        response = owner_client.post("/settings/users/", data)
        assert response.status_code == 422, data
    assert User.objects.count() == users_before
    for data in [
        {"name": "k\x00", "kind": "read", "user": owner.pk},
        {"name": "k" * 101, "kind": "read", "user": owner.pk},
        {"name": "k", "kind": "read", "user": "1; DROP TABLE"},
        {"name": "k", "kind": "read", "user": str(2**70)},
    ]:
        assert owner_client.post("/settings/api-keys/", data).status_code == 422, data
    assert not ApiKey.objects.exists()
    assert owner_client.post("/settings/language/", {"language": "\x00"}).status_code == 422
    response = owner_client.post(
        "/settings/password/", {"old_password": "\x00", "new_password1": "x" * 5000}
    )
    assert response.status_code == 422


def test_markup_in_names_is_shown_as_text(owner_client, owner):
    owner_client.post(
        "/settings/users/",
        {"username": "eve", "first_name": "<script>alert(1)</script>", "role": "viewer"},
    )
    apikey_create(name='<img src=x onerror="alert(1)">', kind="read", by=owner)
    for url in ("/settings/users/", "/settings/api-keys/"):
        page = owner_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page and "<img src=x" not in page, url
        assert "&lt;" in page


def test_unknown_or_malformed_ids_are_404s(owner_client):
    assert owner_client.post("/settings/users/999999/role/", {"role": "owner"}).status_code == 404
    assert owner_client.post("/settings/users/999999/deactivate/").status_code == 404
    assert owner_client.get("/settings/api-keys/999999/revoke/").status_code == 404
    assert owner_client.get("/settings/users/abc/role/").status_code == 404


def test_an_unknown_role_is_refused_with_a_message(owner_client, member):
    response = owner_client.post(f"/settings/users/{member.pk}/role/", {"role": "god"}, follow=True)
    assert "Select a valid choice" in response.content.decode()
    member.refresh_from_db()
    assert member.role == Role.MEMBER


def test_an_owner_who_steps_down_lands_on_their_account_page(owner_client, owner):
    user_create(username="otto", password=PASSWORD, role=Role.OWNER)
    response = owner_client.post(f"/settings/users/{owner.pk}/role/", {"role": "member"})
    assert response["Location"] == "/settings/"
    owner.refresh_from_db()
    assert owner.role == Role.MEMBER and not owner.is_superuser and not owner.is_staff
    assert owner_client.get("/settings/users/").status_code == 403


def test_guessing_the_old_password_is_rate_limited(owner_client, owner, settings):
    from tend.ratelimit.rates import parse_rate

    settings.TEND_RATE_LIMIT_LOGIN = parse_rate("3/h")
    wrong = {"old_password": "guess", "new_password1": "x" * 20, "new_password2": "x" * 20}
    assert [owner_client.post("/settings/password/", wrong).status_code for _ in range(3)] == [
        422
    ] * 3
    right = {**wrong, "old_password": PASSWORD}
    refused = owner_client.post("/settings/password/", right)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many attempts" in refused.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_the_users_page_stays_at_a_constant_number_of_queries(
    owner_client, django_assert_max_num_queries
):
    for i in range(30):
        user_create(username=f"u{i}", password=PASSWORD, role=Role.VIEWER)
    with django_assert_max_num_queries(10):
        assert owner_client.get("/settings/users/").status_code == 200
