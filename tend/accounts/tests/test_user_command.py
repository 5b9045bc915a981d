"""``tend user list|role|deactivate|reactivate|reset-password``: Settings → Users from the
command line, with the same refusals (the last active owner, yourself)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tend.accounts.models import AuditEntry, Role, User
from tend.testing import PASSWORD

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("user", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_list_shows_every_user_with_role_and_status(owner, member):
    out, _ = run("list")
    assert "olivia" in out and "owner" in out and "mike" in out and "member" in out


def test_role_and_the_last_owner_rule(owner, member):
    run("role", "mike", "viewer", "--by", "olivia")
    assert User.objects.get(pk=member.pk).role == Role.VIEWER
    assert AuditEntry.objects.get(action="user.role").actor == owner
    with pytest.raises(CommandError, match="olivia is the last active owner"):
        run("role", "olivia", "member")
    with pytest.raises(CommandError, match="olivia is the last active owner"):
        run("deactivate", "olivia")
    with pytest.raises(CommandError, match="You cannot deactivate yourself"):
        run("deactivate", "olivia", "--by", "olivia")
    assert User.objects.get(pk=owner.pk).is_active


def test_deactivate_reactivate_and_reset_password(member):
    run("deactivate", "mike")
    assert not Client().login(username="mike", password=PASSWORD)
    run("reactivate", "mike")
    out, err = run("reset-password", "mike")
    temporary = out.strip()
    assert "not shown again" in err and len(temporary) >= 12
    assert Client().login(username="mike", password=temporary)


def test_an_unknown_user_is_named(owner):
    with pytest.raises(CommandError, match="username: no user called 'nobody'"):
        run("deactivate", "nobody")
