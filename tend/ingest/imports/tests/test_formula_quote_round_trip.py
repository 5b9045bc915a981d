"""A rejected-rows CSV is formula-safe when Tend writes it and whole again when it comes back."""

from __future__ import annotations

import csv
import io

import pytest

from tend.customers.models import Customer
from tend.ingest.imports.actions import import_file
from tend.ingest.imports.models import Import
from tend.ingest.imports.queries import rejected_csv_lines

pytestmark = pytest.mark.django_db
HOSTILE = '=HYPERLINK("http://evil.example/","Click me")'


def test_a_fixed_rejected_rows_file_sent_back_stores_the_names_as_they_were_written(write_csv):
    # Given a file whose formula-like names are refused for another reason (a bad email),
    path = write_csv(
        "crm.csv",
        ["External ID", "Name", "Email"],
        [["c1", HOSTILE, "not-an-email"], ["c2", "+44 sales", "also-bad"], ["c3", "Acme", ""]],
    )
    first = import_file(kind="customers", path=path)
    assert (first.created, first.rejected) == (1, 2)
    # the rejected-rows CSV quotes them so no spreadsheet runs them,
    rows = list(csv.reader(io.StringIO("".join(rejected_csv_lines(Import.objects.get())))))
    names = [row[1] for row in rows[1:]]
    assert names == ["'" + HOSTILE, "'+44 sales"]
    # and when the founder fixes the emails and sends the file back,
    fixed = [[row[0], row[1], f"{row[0]}@example.test"] for row in rows[1:]]
    again = import_file(kind="customers", path=write_csv("fixed.csv", rows[0][:3], fixed))
    # the names are stored as the first file had them, and the change is reported.
    assert (again.created, again.rejected) == (2, 0)
    assert Customer.objects.get(external_id="c1").name == HOSTILE
    assert Customer.objects.get(external_id="c2").name == "+44 sales"
    assert again.cleaning["name: formula_quote_removed"] == 2


def test_a_name_that_only_starts_with_a_quote_is_kept(write_csv):
    path = write_csv("crm.csv", ["External ID", "Name"], [["c1", "'t Hooft & Co"]])
    import_file(kind="customers", path=path)
    assert Customer.objects.get(external_id="c1").name == "'t Hooft & Co"
