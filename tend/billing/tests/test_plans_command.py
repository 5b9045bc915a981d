"""``tend plans list|create|update|archive|restore``: the Plans page from the command line."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tend.accounts.models import AuditEntry
from tend.billing.models import Plan

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("plans", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_create_update_archive_restore_and_list(owner):
    run("create", "team", "--name", "Team", "--price", "99", "--user", "olivia")
    run("update", "team", "--price", "109.50", "--interval", "year")
    plan = Plan.objects.get(code="team")
    assert (plan.price, plan.interval) == (Decimal("109.50"), "year")
    run("archive", "team")
    assert not Plan.objects.offered().exists()
    assert "archived" in run("list") and "team" not in run("list", "--offered")
    run("restore", "team")
    assert "team" in run("list", "--offered")
    assert AuditEntry.objects.get(action="plan.create").actor == owner
    assert AuditEntry.objects.filter(actor_label="cli", object_type="billing.plan").count() == 4


def test_every_field_at_fault_is_one_line(owner):
    with pytest.raises(CommandError) as caught:
        run("create", "a b", "--name", " ", "--price", "-1", "--interval", "daily",
            "--currency", "XYZ")  # fmt: skip
    lines = str(caught.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "code",
        "name",
        "price",
        "interval",
        "currency",
    ]
    assert not Plan.objects.exists()
    with pytest.raises(CommandError, match="no plan with the code 'nope'"):
        run("archive", "nope")
