"""Customers come in from a spreadsheet: validated per row, cleaned visibly, upserted by id."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tend.customers.models import Customer, TimelineEntry
from tend.factories import make_customer, make_plan
from tend.ingest.imports.actions import MappingError, import_file
from tend.ingest.imports.models import Import, ImportStatus, RejectedRow
from tend.ingest.models import IngestStat

pytestmark = pytest.mark.django_db
HINT = "is not a date (try 2024-03-01, 01/03/2024 or 2024年3月1日)"


def test_a_clean_file_creates_customers_with_one_timeline_entry_each(write_csv, owner):
    make_plan("growth", price="99", name="Growth")
    path = write_csv(
        "crm.csv",
        ["External ID", "Name", "Email", "Plan", "Signup date", "Acquisition cost"],
        [
            ["c1", "Acme", "Ops@Acme.test ", "growth", "2024-03-01", "1,234.50"],
            ["c2", "Beta", "hi@beta.test", "Growth", "02/03/2024", "10"],
        ],
    )
    result = import_file(kind="customers", path=path, by=owner)
    assert (result.created, result.rejected) == (2, 0)
    acme = Customer.objects.get(external_id="c1")
    assert acme.email == "ops@acme.test"
    assert acme.acquisition_cost == Decimal("1234.50")
    assert acme.plan is not None and acme.plan.code == "growth"
    assert Customer.objects.get(external_id="c2").signed_up_at == datetime(2024, 3, 2, tzinfo=UTC)
    entries = TimelineEntry.objects.filter(kind="import")
    assert entries.count() == 2
    assert entries.first().data["msg"] == "imported"  # type: ignore[union-attr]
    run = Import.objects.get()
    assert (run.status, run.created, run.created_by) == (ImportStatus.DONE, 2, owner)
    assert IngestStat.objects.get(source="import", outcome="accepted").count == 2


def test_cleaning_is_reported_not_silent(write_csv):
    path = write_csv(
        "crm.csv",
        ["外部ID", "客户名称", "邮箱", "日期"],
        [["c1", "  Acme  ", "A@B.TEST", "2024年3月1日"], ["c2", "Beta", "x@y.test", "01/03/2024"]],
    )
    result = import_file(kind="customers", path=path)
    assert result.cleaning == {
        "name: trimmed_whitespace": 1,
        "email: lowercased_email": 1,
        "signed_up_at: read_chinese_date": 1,
        "signed_up_at: read_date_dmy": 1,
    }
    assert Customer.objects.get(external_id="c1").name == "Acme"


def test_month_first_dates_are_read_when_chosen(write_csv):
    path = write_csv("crm.csv", ["External ID", "Name", "Date"], [["c1", "Acme", "03/01/2024"]])
    import_file(kind="customers", path=path, date_order="mdy")
    assert Customer.objects.get().signed_up_at == datetime(2024, 3, 1, tzinfo=UTC)


def test_each_bad_row_is_refused_with_its_row_column_and_reason(write_csv):
    make_plan("growth", price="99")
    path = write_csv(
        "crm.csv",
        ["External ID", "Name", "Email", "Plan", "Date", "Acquisition cost"],
        [
            ["c1", "Good", "a@b.test", "growth", "2024-03-01", "5"],
            ["c2", "Bad date", "", "", "31/31/2024", ""],
            ["c3", "Bad plan", "", "platinum", "", ""],
            ["c4", "Negative", "", "", "", "-5"],
            ["c1", "Duplicate", "", "", "", ""],
            ["c6", "Bad email", "not-an-email", "", "", ""],
            ["", "No id", "", "", "", ""],
        ],
    )
    result = import_file(kind="customers", path=path)
    assert result.created == 1
    assert result.problems == [
        "Row 3, column “Date”: “31/31/2024” " + HINT,
        "Row 4, column “Plan”: there is no plan with the code or name “platinum”; plans: "
        "growth. Map the value to a plan, or let the import create missing plans",
        "Row 5, column “Acquisition cost”: -5 is negative; amounts must be zero or more",
        "Row 6, column “External ID”: “c1” already appeared in an earlier row of this file",
        "Row 7, column “Email”: “not-an-email” is not an email address",
        "Row 8, column “External ID”: a value is required but the cell is empty",
    ]
    assert result.reasons == {
        "bad_date": 1, "unknown_plan": 1, "negative_amount": 1,
        "duplicate_in_file": 1, "bad_email": 1, "missing_value": 1,
    }  # fmt: skip
    kept = RejectedRow.objects.get(row=3)
    assert kept.values == ["c2", "Bad date", "", "", "31/31/2024", ""]
    assert Customer.objects.get().name == "Good"


def test_a_missing_required_column_stops_the_import_before_any_row(write_csv):
    path = write_csv("crm.csv", ["Name", "Email"], [["Acme", "a@b.test"]])
    with pytest.raises(MappingError, match="Missing required column: External ID"):
        import_file(kind="customers", path=path)
    assert not Customer.objects.exists()


def test_existing_customers_are_updated_by_external_id_and_empty_cells_keep_values(write_csv):
    make_customer("Old name", external_id="c1", email="keep@me.test", industry="Retail")
    path = write_csv(
        "crm.csv",
        ["External ID", "Name", "Email", "Industry"],
        [["c1", "New name", "", "Retail"], ["c2", "Fresh", "", ""]],
    )
    result = import_file(kind="customers", path=path)
    assert (result.created, result.updated) == (1, 1)
    customer = Customer.objects.get(external_id="c1")
    assert (customer.name, customer.email) == ("New name", "keep@me.test")
    again = import_file(kind="customers", path=path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_a_dry_run_validates_everything_and_writes_nothing(write_csv):
    path = write_csv(
        "crm.csv", ["External ID", "Name", "Date"], [["c1", "Acme", ""], ["c2", "B", "nope"]]
    )
    result = import_file(kind="customers", path=path, dry_run=True)
    assert (result.created, result.rejected) == (1, 1)
    assert not Customer.objects.exists()
    assert not TimelineEntry.objects.exists()
    assert not IngestStat.objects.exists()
    assert Import.objects.get().status == ImportStatus.PREVIEWED


def test_xlsx_files_are_read_like_csv(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["External ID", "名称", "Signup date", "MRR"])
    sheet.append(["x1", "Acme", datetime(2024, 3, 1), 12])
    sheet.append([42, "Numeric id", "2024-03-02", None])
    path = tmp_path / "crm.xlsx"
    book.save(path)
    result = import_file(kind="customers", path=path)
    assert (result.created, result.rejected) == (2, 0)
    assert Customer.objects.get(external_id="42").name == "Numeric id"
    assert Customer.objects.get(external_id="x1").signed_up_at == datetime(2024, 3, 1, tzinfo=UTC)


def test_a_bad_row_in_a_later_batch_loses_nothing_accepted_before_or_after_it(write_csv):
    rows = [[f"c{i}", f"Customer {i}", ""] for i in range(2_500)]
    rows[2_300][2] = "not a date"
    path = write_csv("big.csv", ["External ID", "Name", "Date"], rows)
    result = import_file(kind="customers", path=path)
    assert (result.created, result.rejected) == (2_499, 1)
    assert result.problems == ["Row 2302, column “Date”: “not a date” " + HINT]
    assert Customer.objects.count() == 2_499
    assert Import.objects.get().rows_read == 2_500
