"""``tend import`` from the command line: summary, exit codes, rejected rows file."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tend.customers.models import Customer
from tend.ingest.imports.models import Import

pytestmark = pytest.mark.django_db


def test_a_clean_import_prints_a_summary_and_records_the_user(write_csv, owner):
    path = write_csv("crm.csv", ["Kunde", "Name"], [["c1", "Acme"], ["c2", "Beta"]])
    out = io.StringIO()
    call_command(
        "import",
        "customers",
        str(path),
        "--mapping",
        "Kunde=external_id",
        "--user",
        "olivia",
        stdout=out,
    )
    assert "Created" in out.getvalue() and "2" in out.getvalue()
    assert Customer.objects.count() == 2
    assert Import.objects.get().created_by == owner


def test_rejected_rows_give_a_non_zero_exit_and_a_csv_with_reasons(write_csv):
    path = write_csv(
        "crm.csv", ["External ID", "Name", "Email"], [["c1", "A", "x"], ["c2", "B", ""]]
    )
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import", "customers", str(path), stdout=out)
    assert caught.value.returncode == 3
    message = str(caught.value)
    assert message.startswith("1 rows were rejected; they are in ")
    rejected = Path(message.split(" in ", 1)[1].split(" with ")[0])
    rows = list(csv.reader(rejected.open(encoding="utf-8-sig")))
    assert rows == [
        ["External ID", "Name", "Email", "Row", "Reason"],
        ["c1", "A", "x", "2", "Row 2, column “Email”: “x” is not an email address"],
    ]
    assert Customer.objects.get().external_id == "c2"


def test_a_dry_run_from_the_command_line_writes_nothing(write_csv):
    path = write_csv("crm.csv", ["External ID", "Name"], [["c1", "A"]])
    out = io.StringIO()
    call_command("import", "customers", str(path), "--dry-run", stdout=out)
    assert "Dry run: nothing was written" in out.getvalue()
    assert not Customer.objects.exists()


def test_a_missing_required_column_is_a_clear_error(write_csv):
    path = write_csv("crm.csv", ["Name"], [["A"]])
    with pytest.raises(CommandError, match="Missing required column: External ID"):
        call_command("import", "customers", str(path), stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_the_tend_script_exits_non_zero_when_rows_are_rejected(write_csv):
    path = write_csv("crm.csv", ["External ID", "Name"], [["", "A"]])
    tend = Path(sys.executable).with_name("tend")
    env = {**os.environ, "TEND_DATABASE_URL": _database_url()}
    done = subprocess.run(
        [str(tend), "import", "customers", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 3, done.stderr
    assert "1 rows were rejected" in done.stderr


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"
