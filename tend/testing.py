"""Personas and helpers for tests, in one place: an owner, a member, a viewer and an
outsider who must see nothing. Import the fixtures through ``tend/conftest.py``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tend.accounts.actions import user_create
from tend.accounts.models import Role, User

PASSWORD = "correct horse battery staple"


@pytest.fixture
def owner(db: Any) -> User:
    return user_create(username="olivia", password=PASSWORD, role=Role.OWNER, email="o@example.com")


@pytest.fixture
def member(db: Any) -> User:
    return user_create(username="mike", password=PASSWORD, role=Role.MEMBER)


@pytest.fixture
def viewer(db: Any) -> User:
    return user_create(username="vera", password=PASSWORD, role=Role.VIEWER)


def _client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner: User) -> Client:
    return _client_for(owner)


@pytest.fixture
def member_client(member: User) -> Client:
    return _client_for(member)


@pytest.fixture
def viewer_client(viewer: User) -> Client:
    return _client_for(viewer)


@pytest.fixture
def outsider_client(db: Any) -> Client:
    return _client_for(None)


@pytest.fixture
def login_as() -> Callable[[User], Client]:
    return _client_for


# --- browser tests ------------------------------------------------------------------------

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"
# Debian's Chromium, headless, with nothing that reaches for the network on its own.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


# Reports every Content-Security-Policy violation of a page as a console error (the init
# script runs before the page's own scripts and is itself exempt from the policy).
CSP_PROBE = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation on " + document.location.pathname + ": " + e.violatedDirective
    + " blocked " + (e.blockedURI || "inline") + " in " + (e.sourceFile || "the page") + ":"
    + e.lineNumber + " (" + (e.sample || "") + ")");
});
"""


def _console_problem(message: Any) -> str | None:
    text = str(message.text)
    if message.type == "error" and ("Content Security Policy" in text or "CSP violation" in text):
        return text
    return None


@contextmanager
def browser_page(
    profile: Path, *, timeout_ms: int = 15_000, locale: str = "en-US"
) -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page and the list of problems seen so far: page errors, HTTP responses
    ≥ 400 and Content-Security-Policy violations (assert it is empty at the end)."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path="/usr/bin/chromium",
            args=CHROMIUM_ARGS,
            headless=True,
            locale=locale,
            viewport={"width": 1280, "height": 900},
        )
        try:
            browser.add_init_script(CSP_PROBE)
            page = browser.new_page()
            page.set_default_timeout(timeout_ms)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on(
                "response",
                lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )

            def on_console(message: Any) -> None:
                problem = _console_problem(message)
                if problem is not None:
                    errors.append(problem)

            page.on("console", on_console)
            yield page, errors
        finally:
            browser.close()


@contextmanager
def logged_in_browser(
    base_url: str, profile: Path, *, username: str, timeout_ms: int = 15_000
) -> Iterator[tuple[Any, list[str]]]:
    """A Chromium page logged in through the login form, and the list of page errors,
    HTTP responses ≥ 400 and Content-Security-Policy violations seen so far (assert it is
    empty at the end of the test)."""
    with browser_page(profile, timeout_ms=timeout_ms) as (page, errors):
        page.goto(f"{base_url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login/'] button[type=submit]")
        page.wait_for_url(f"{base_url}/today/")
        yield page, errors
