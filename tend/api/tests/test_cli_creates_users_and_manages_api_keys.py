"""``tend createuser`` and ``tend apikey create|list|revoke`` from the command line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tend.accounts.actions import apikey_authenticate
from tend.accounts.models import ApiKey, AuditEntry, Role, User

TEND = str(Path(sys.executable).parent / "tend")


def run(*args: str, stdin: str = "") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out, stderr=err)
    finally:
        sys.stdin = old_stdin
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_createuser_makes_a_user_with_the_role_and_password_given():
    out, _ = run(
        "createuser",
        "ann",
        "--role",
        "viewer",
        "--email",
        "ann@x.test",
        "--password-stdin",
        stdin="s3cret-pass-word\n",
    )
    user = User.objects.get(username="ann")
    assert (user.role, user.email, user.is_staff) == (Role.VIEWER, "ann@x.test", False)
    assert user.check_password("s3cret-pass-word")
    assert "Created viewer 'ann'" in out


@pytest.mark.django_db
def test_createuser_makes_owners_admins():
    run("createuser", "olga", "--role", "owner", "--password", "s3cret-pass-word")
    assert User.objects.get(username="olga").is_superuser


@pytest.mark.django_db
def test_createuser_refuses_a_taken_username_and_changes_nothing(member):
    with pytest.raises(CommandError, match="username: a user called 'mike' already exists"):
        run("createuser", "mike", "--role", "owner", "--password", "s3cret-pass-word")
    member.refresh_from_db()
    assert member.role == Role.MEMBER and User.objects.count() == 1


@pytest.mark.django_db
def test_createuser_refuses_an_unknown_role():
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        run("createuser", "ann", "--role", "admin", "--password", "s3cret-pass-word")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_createuser_refuses_a_weak_password_naming_the_password():
    with pytest.raises(CommandError, match=r"password: .*too short"):
        run("createuser", "ann", "--role", "member", "--password", "abc")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_createuser_without_a_terminal_or_password_option_says_how_to_give_one():
    with pytest.raises(CommandError, match="password-stdin"):
        run("createuser", "ann", "--role", "member")


@pytest.mark.django_db
def test_apikey_create_prints_a_working_key_once_and_stores_only_its_hash(owner):
    out, err = run("apikey", "create", "--name", "zapier", "--kind", "read", "--user", "olivia")
    raw = out.strip()
    key = ApiKey.objects.get()
    assert (key.name, key.kind, key.created_by) == ("zapier", "read", owner)
    assert apikey_authenticate(raw) == key
    assert raw not in key.hashed and key.hashed == ApiKey.hash(raw)
    assert "not shown again" in err


@pytest.mark.django_db
def test_apikey_create_refuses_an_unknown_user_or_kind(owner):
    with pytest.raises(CommandError, match="user: no user called 'nobody'"):
        run("apikey", "create", "--name", "k", "--kind", "read", "--user", "nobody")
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        run("apikey", "create", "--name", "k", "--kind", "admin", "--user", "olivia")
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["write", "read_write"])
def test_a_viewer_may_not_own_a_key_that_changes_data_and_is_told_why(viewer, kind):
    with pytest.raises(CommandError, match=r"kind: vera is a viewer\. Viewers only read"):
        run("apikey", "create", "--name", "k", "--kind", kind, "--user", "vera")
    assert not ApiKey.objects.exists()
    assert not AuditEntry.objects.filter(action="apikey.create").exists()


@pytest.mark.django_db
def test_a_viewer_may_own_a_read_key(viewer):
    out, err = run("apikey", "create", "--name", "k", "--kind", "read", "--user", "vera")
    assert apikey_authenticate(out.strip()).created_by == viewer
    assert "reads through the REST API" in err


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("write", "sends events to the tracking API (/v1) and cannot use the REST API"),
        ("read", "reads through the REST API (/api/v1) and cannot send events"),
        ("read_write", "reads and changes data through the REST API (/api/v1)"),
    ],
)
def test_apikey_create_says_what_the_key_may_do_and_whose_rights_it_has(owner, kind, says):
    _, err = run("apikey", "create", "--name", "k", "--kind", kind, "--user", "olivia")
    assert says in err
    assert "acts as olivia" in err and "stops working when olivia is deactivated" in err


@pytest.mark.django_db
def test_apikey_list_says_which_keys_their_users_rights_refuse(owner, member):
    run("apikey", "create", "--name", "events", "--kind", "write", "--user", "mike")
    run("apikey", "create", "--name", "zapier", "--kind", "read_write", "--user", "mike")
    member.role = Role.VIEWER
    member.save(update_fields=["role"])
    listing, _ = run("apikey", "list")
    assert "refused: user is a viewer" in listing and "read only: user is a viewer" in listing
    member.is_active = False
    member.save(update_fields=["is_active"])
    listing, _ = run("apikey", "list")
    assert listing.count("refused: user deactivated") == 2


@pytest.mark.django_db
def test_apikey_list_shows_keys_without_their_secrets_and_revoke_revokes(owner, member):
    out, _ = run("apikey", "create", "--name", "zapier", "--kind", "read", "--user", "olivia")
    run("apikey", "create", "--name", "segment", "--kind", "write", "--user", "olivia")
    key = ApiKey.objects.get(name="zapier")

    listing, _ = run("apikey", "list")
    assert "zapier" in listing and "segment" in listing and "active" in listing
    assert out.strip() not in listing

    done, _ = run("apikey", "revoke", str(key.pk), "--user", "mike")
    assert "Revoked key" in done
    assert apikey_authenticate(out.strip()) is None
    assert AuditEntry.objects.get(action="apikey.revoke").actor == member
    active, _ = run("apikey", "list", "--active")
    assert "zapier" not in active and "segment" in active
    again, _ = run("apikey", "revoke", str(key.pk))
    assert "already revoked" in again


@pytest.mark.django_db
def test_apikey_revoke_of_an_unknown_id_names_the_id():
    with pytest.raises(CommandError, match="id: no API key 404"):
        run("apikey", "revoke", "404")


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_the_tend_script_creates_a_user_and_a_key_that_works_over_http(live_server):
    env = {**os.environ, "TEND_DATABASE_URL": _database_url()}
    created = subprocess.run(
        [TEND, "createuser", "ann", "--role", "member", "--password-stdin"],
        input="s3cret-pass-word\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    made = subprocess.run(
        [TEND, "apikey", "create", "--name", "cli", "--kind", "read_write", "--user", "ann"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    raw = made.stdout.strip()
    response = httpx.post(
        f"{live_server.url}/api/v1/customers",
        json={"name": "Made by a CLI key"},
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201, response.text
    assert AuditEntry.objects.get(action="customer.create").actor_label == "api:cli"

    bad = subprocess.run(
        [TEND, "createuser", "ann", "--role", "member", "--password", "s3cret-pass-word"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode != 0 and "already exists" in bad.stderr
