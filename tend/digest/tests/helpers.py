"""Builders for the digest tests."""

from __future__ import annotations

from typing import Any

from tend.accounts.actions import user_create
from tend.accounts.models import Role, User
from tend.testing import PASSWORD


def person(username: str, *, role: str = Role.MEMBER, digest: str = "daily", **fields: Any) -> User:
    fields.setdefault("email", f"{username}@example.com")
    user = user_create(username=username, password=PASSWORD, role=role, email=fields.pop("email"))
    User.objects.filter(pk=user.pk).update(digest=digest, **fields)
    user.refresh_from_db()
    return user
