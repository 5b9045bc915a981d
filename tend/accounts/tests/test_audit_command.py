"""``tend audit``: the table, the filters (shared with the page) and CSV to a file or stdout."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from tend.accounts.models import AuditEntry

pytestmark = pytest.mark.django_db


def entry(action, *, customer_id=None, at=datetime(2026, 3, 1, 12, tzinfo=UTC), label="system"):
    return AuditEntry.objects.create(
        at=at,
        actor_label=label,
        action=action,
        object_type="customers.customer",
        object_id="1",
        customer_id=customer_id,
        changes={"stage": ["trial", "active"]},
    )


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_table_shows_the_filtered_entries():
    AuditEntry.objects.all().delete()
    entry("customer.stage", customer_id=4)
    entry("task.create", customer_id=5)
    text = run("--customer", "4")
    assert "customer.stage" in text and "trial → active" in text
    assert "task.create" not in text
    assert "No audit entries match." in run("--action", "nothing.here")


def test_csv_to_stdout_and_to_a_file(tmp_path):
    AuditEntry.objects.all().delete()
    entry("customer.stage", label="api:crm")
    entry("task.create", at=datetime(2026, 3, 2, 12, tzinfo=UTC))
    rows = list(csv.reader(io.StringIO(run("--csv", "-", "--until", "2026-03-02"))))
    assert [r[3] for r in rows[1:]] == ["customer.stage"]
    assert rows[1][1] == "api:crm"
    target = tmp_path / "audit.csv"
    run("--csv", str(target), "--since", "2026-03-02")
    written = list(csv.reader(io.StringIO(target.read_text("utf-8-sig"))))
    assert [r[3] for r in written[1:]] == ["task.create"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--since", "2026-02-30"], "--since"),
        (["--customer", "x"], "--customer"),
        (["--since", "2026-03-02", "--until", "2026-03-01"], "--until"),
        (["--limit", "0"], "--limit"),
    ],
    ids=["bad-date", "bad-customer", "empty-range", "bad-limit"],
)
def test_bad_options_name_the_option(args, field):
    with pytest.raises(CommandError, match=field):
        run(*args)
