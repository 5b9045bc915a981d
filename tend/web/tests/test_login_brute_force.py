"""Guessing passwords on the login page is slowed twice over: a user name is locked out for
one address after a few failures (django-axes), and each address may only submit the form so
often (TEND_RATE_LIMIT_LOGIN). Either way the page says why and how long to wait, with 429."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tend.accounts.models import User
from tend.ratelimit.rates import Rate
from tend.testing import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    settings.TEND_RATE_LIMIT_LOGIN = Rate(limit=100, seconds=86400)


def _try(client: Client, username: str, password: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": password})


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_after_the_failure_limit_even_the_right_password_is_refused_for_a_while(
    owner: User, settings: Any
) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    answers = [_try(attacker, owner.username, f"guess-{n}") for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    locked = _try(attacker, owner.username, PASSWORD)
    assert locked.status_code == 429
    assert not _logged_in(attacker)
    assert int(locked["Retry-After"]) == settings.TEND_LOGIN_LOCKOUT_MINUTES * 60
    html = locked.content.decode()
    assert 'id="login-refused"' in html
    assert "Too many failed logins for this user name from your network." in html
    assert f"Wait {settings.TEND_LOGIN_LOCKOUT_MINUTES} minutes and try again." in html
    assert f'value="{owner.username}"' in html  # the form is still there, user name kept


def test_the_lockout_holds_one_user_name_at_one_address_only(owner: User, member: User) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(3):
        _try(attacker, owner.username, f"guess-{n}")
    # The real owner elsewhere still gets in, and so does another user at the same address.
    owner_at_home = Client(REMOTE_ADDR="198.51.100.20")
    assert _try(owner_at_home, owner.username, PASSWORD).status_code == 302
    colleague = Client(REMOTE_ADDR="203.0.113.5")
    assert _try(colleague, member.username, PASSWORD).status_code == 302


def test_a_successful_login_clears_earlier_failures(owner: User) -> None:
    browser = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(2):
        _try(browser, owner.username, f"typo-{n}")
    assert _try(browser, owner.username, PASSWORD).status_code == 302
    browser.logout()
    for n in range(2):
        assert _try(browser, owner.username, f"typo-again-{n}").status_code == 200
    assert _try(browser, owner.username, PASSWORD).status_code == 302


def test_an_owner_can_unlock_a_user_name_from_the_command_line(owner: User) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(3):
        _try(attacker, owner.username, f"guess-{n}")
    assert _try(attacker, owner.username, PASSWORD).status_code == 429
    call_command("axes_reset_username", owner.username, verbosity=0)
    assert _try(attacker, owner.username, PASSWORD).status_code == 302


def test_an_address_that_submits_the_form_too_often_is_refused(owner: User, settings: Any) -> None:
    settings.TEND_RATE_LIMIT_LOGIN = Rate(limit=3, seconds=86400)
    settings.AXES_FAILURE_LIMIT = 100
    sprayer = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [_try(sprayer, f"user{n}", "123456").status_code for n in range(3)]
    refused = _try(sprayer, owner.username, PASSWORD)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert not _logged_in(sprayer)  # refused before the password was even looked at
    assert 1 <= int(refused["Retry-After"]) <= 86400
    assert "Too many login attempts from your network." in refused.content.decode()
    # Another address is not affected.
    assert _try(Client(REMOTE_ADDR="198.51.100.20"), owner.username, PASSWORD).status_code == 302


def test_the_refusal_is_shown_in_chinese_too(owner: User) -> None:
    attacker = Client(REMOTE_ADDR="203.0.113.5", HTTP_ACCEPT_LANGUAGE="zh-Hans")
    for n in range(3):
        _try(attacker, owner.username, f"guess-{n}")
    html = _try(attacker, owner.username, PASSWORD).content.decode()
    assert '<html lang="zh-hans"' in html
    assert 'id="login-refused"' in html


def test_authenticating_without_a_request_checks_the_password_as_before(owner: User) -> None:
    # Scripts and management commands call authenticate() with no request: no address, no
    # lockout to apply, and no error from the guard.
    assert authenticate(username=owner.username, password=PASSWORD) == owner
    assert authenticate(username=owner.username, password="wrong") is None
