"""Personas and helpers for tests, in one place: an owner, a member, a viewer and an
outsider who must see nothing. Import the fixtures through ``tend/conftest.py``."""

from __future__ import annotations

from collections.abc import Callable
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
