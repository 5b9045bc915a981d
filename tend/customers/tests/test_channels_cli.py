"""``tend channels``: the same list as the page and the API, from the command line."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tend.accounts.models import AuditEntry
from tend.customers.channels import channel_choices
from tend.factories import make_customer

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("channels", *args, stdout=out)
    return out.getvalue()


def test_add_rename_move_archive_restore_and_list(member):
    make_customer(channel="referral")
    assert "Added Trade fairs (code trade_fairs)." in run("add", "Trade fairs", "--user", "mike")
    run("rename", "trade_fairs", "Fairs")
    run("move", "trade_fairs", "1")
    assert channel_choices()[0] == ("trade_fairs", "Fairs")
    run("archive", "trade_fairs")
    assert "trade_fairs" not in dict(channel_choices())
    listed = json.loads(run("list", "--format", "json"))
    fairs = next(c for c in listed if c["code"] == "trade_fairs")
    assert fairs["archived_at"] is not None and fairs["label"] == "Fairs"
    assert next(c for c in listed if c["code"] == "referral")["customers"] == 1
    run("restore", "trade_fairs")
    assert "Fairs" in run("list")
    assert AuditEntry.objects.filter(action="channel.create", actor=member).exists()
    assert AuditEntry.objects.filter(action="channel.archive", actor_label="cli").exists()


def test_mistakes_say_what_is_allowed(viewer):
    with pytest.raises(CommandError, match="No channel with code 'nope'; the codes are: organic"):
        run("archive", "nope")
    with pytest.raises(CommandError, match="viewers cannot change channels"):
        run("add", "X", "--user", "vera")
    with pytest.raises(CommandError, match="code"):
        run("add", "Dup", "--code", "organic")
