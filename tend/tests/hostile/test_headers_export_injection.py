"""Formula injection: a name that arrived from outside (a Stripe export) never becomes a live
formula in a file Tend writes. CSV cells that a spreadsheet would run get a leading ``'``;
XLSX text cells are strings, never formulas. Every CSV/XLSX surface is walked: the metrics
downloads, ``tend metrics --format csv``, the rejected-rows CSV of imports (web and CLI), and
the customers list's CSV/XLSX export.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import load_workbook

from tend.billing.models import Plan
from tend.ingest.imports.actions import import_file
from tend.ingest.imports.models import Import
from tend.lib.spreadsheet import FORMULA_STARTS, is_formula_like, safe_cell, unquote_cell
from tend.metrics import exports
from tend.metrics.snapshots import snapshots_refresh

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example/","Click me")'
# One plan name per dangerous first character (OWASP: = + - @ tab CR).
EVIL_PLANS = [EVIL, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]
CLI_TABLES = ("series", "summary", "channels", "cac", "cohorts", "survival")
TEND_SOURCE = Path(__file__).resolve().parents[2]


def stripe_export(tmp_path: Path) -> Path:
    """A Stripe subscriptions export whose price nicknames are formulas."""
    started = datetime.now(UTC) - timedelta(days=400)
    header = ["id", "Customer ID", "Customer Name", "Plan", "Plan Name", "Quantity"]
    header += ["Currency", "Interval", "Amount", "Status", "Start (UTC)"]
    rows = []
    # Five customers on the first plan: survival curves need five to show a plan.
    for i, name in enumerate([EVIL] * 4 + EVIL_PLANS):
        start = (started + timedelta(days=31 * i)).strftime("%Y-%m-%d %H:%M")
        price = f"price_{EVIL_PLANS.index(name)}"
        customer = [f"sub_{i}", f"cus_{i}", f"=1+{i}"]
        rows.append([*customer, price, name, "1", "usd", "month", f"{10 + i}.00", "active", start])
    path = tmp_path / "subscriptions.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


@pytest.fixture
def hostile_book(tmp_path: Path) -> None:
    result = import_file(kind="stripe_subscriptions", path=stripe_export(tmp_path))
    assert result.rejected == 0, result.problems
    assert Plan.objects.filter(name=EVIL).exists()
    snapshots_refresh(full=True)


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def assert_csv_is_inert(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not is_formula_like(cell), (cell, row)


def assert_xlsx_is_inert(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content)).active
    values = []
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.value
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                assert cell.data_type == "s" and cell.quotePrefix, cell.value
        values.append([cell.value for cell in row])
    return values


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (EVIL, "'" + EVIL),
        ("-5 customers", "'-5 customers"),
        ("+44 20 7946 0958", "'+44 20 7946 0958"),
        ("@user", "'@user"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-5", "-5"),  # a text that is only a number cannot hold a formula
        ("+1.5e3", "+1.5e3"),
        ("Acme = good", "Acme = good"),
        ("", ""),
    ],
)
def test_a_text_cell_that_a_spreadsheet_would_run_gets_a_quote(value, written):
    assert safe_cell(value) == written
    assert unquote_cell(written) == value  # a fixed file sent back reads as it was


@pytest.mark.parametrize("number", [-5, -0.5, 0, 12])
def test_numbers_stay_numbers(number):
    assert safe_cell(number) is number


# --- the metrics downloads ------------------------------------------------------------------


def test_the_hostile_plan_name_is_text_in_the_survival_by_plan_downloads(
    viewer_client: Client, hostile_book: None
) -> None:
    query = {"period": "month"}
    response = viewer_client.get("/metrics/export/survival_plan.csv", query)
    assert response.status_code == 200
    labels = {row[1] for row in read_csv(response.content.decode("utf-8"))[1:]}
    assert "'" + EVIL in labels
    assert EVIL not in labels

    response = viewer_client.get("/metrics/export/survival_plan.xlsx", query)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    evil = [cell for cell in cells if cell.value == EVIL]
    assert evil, [c.value for c in cells]  # shown as the name, unchanged
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in evil)
    assert_xlsx_is_inert(response.content)


@pytest.mark.parametrize("name", sorted(exports.TABLES))
def test_every_metrics_download_is_inert(
    owner_client: Client, hostile_book: None, name: str
) -> None:
    evil_plan = Plan.objects.get(name=EVIL).pk
    for query in ({"period": "month"}, {"period": "quarter", "plan": evil_plan}):
        csv_response = owner_client.get(f"/metrics/export/{name}.csv", query)
        assert csv_response.status_code == 200, csv_response.content
        assert_csv_is_inert(read_csv(csv_response.content.decode("utf-8")))
        xlsx_response = owner_client.get(f"/metrics/export/{name}.xlsx", query)
        assert xlsx_response.status_code == 200
        assert_xlsx_is_inert(xlsx_response.content)


@pytest.mark.parametrize("table", CLI_TABLES)
def test_every_metrics_table_on_the_command_line_is_inert(hostile_book: None, table: str) -> None:
    out = io.StringIO()
    extra = ["--by", "plan"] if table == "survival" else []
    call_command(
        "metrics", "--table", table, *extra, "--format", "csv", stdout=out, stderr=io.StringIO()
    )
    rows = read_csv(out.getvalue())
    assert rows  # at least the header
    assert_csv_is_inert(rows)
    if table == "survival":
        assert "'" + EVIL in {row[1] for row in rows}


def test_negative_numbers_in_the_command_line_csv_stay_numbers(hostile_book: None) -> None:
    out = io.StringIO()
    call_command("metrics", "--format", "csv", stdout=out, stderr=io.StringIO())
    cells = [cell for row in read_csv(out.getvalue()) for cell in row]
    assert not any(cell.startswith("'") for cell in cells)  # the series holds no text from outside


# --- the rejected rows of an import ---------------------------------------------------------


def hostile_customers(tmp_path: Path) -> Path:
    path = tmp_path / "crm.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(
            [["External ID", "Name", "Email"], ["c1", EVIL, "not-an-email"], ["c2", "Fine", ""]]
        )
    return path


def test_the_rejected_rows_csv_on_the_web_quotes_the_hostile_cell(
    owner_client: Client, tmp_path: Path
) -> None:
    result = import_file(kind="customers", path=hostile_customers(tmp_path))
    assert result.rejected == 1
    response = owner_client.get(f"/imports/{result.run.pk}/rejected.csv")
    assert response.status_code == 200
    rows = read_csv(b"".join(response.streaming_content).decode("utf-8"))
    assert rows[1][:3] == ["c1", "'" + EVIL, "not-an-email"]
    assert_csv_is_inert(rows)


def test_the_rejected_rows_csv_of_the_command_line_quotes_the_hostile_cell(
    tmp_path: Path,
) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("import", "customers", str(hostile_customers(tmp_path)), stdout=io.StringIO())
    written = Path(str(caught.value).split(" in ", 1)[1].split(" with ")[0])
    rows = read_csv(written.read_text(encoding="utf-8"))
    assert rows[1][:3] == ["c1", "'" + EVIL, "not-an-email"]
    assert_csv_is_inert(rows)
    assert Import.objects.count() == 1


def test_the_customers_list_export_is_inert(hostile_book: None, owner_client: Client) -> None:
    from tend.customers.actions import customer_set_tags
    from tend.customers.models import Customer

    for customer in Customer.objects.all()[:3]:
        customer_set_tags(customer=customer, tags=["@team", "=1+1"], by=None)
    response = owner_client.get("/customers/export.csv", {"sort": "-mrr"})
    assert response.status_code == 200
    rows = read_csv(b"".join(response.streaming_content).decode("utf-8"))
    assert "'=1+0" in [row[2] for row in rows]  # the customer named "=1+0", quoted
    assert_csv_is_inert(rows)
    response = owner_client.get("/customers/export.xlsx", {"sort": "-mrr"})
    values = assert_xlsx_is_inert(b"".join(response.streaming_content))
    assert "=1+0" in [row[2] for row in values]  # shown as written, stored as text


# --- one place ------------------------------------------------------------------------------

WRITERS = re.compile(r"csv\.writer\(|csv\.DictWriter\(|\bWorkbook\(|WriteOnlyCell\(")


@pytest.mark.django_db
def test_the_privacy_export_csv_files_are_inert(owner_client: Client) -> None:
    import zipfile

    from tend.factories import make_customer

    customer = make_customer(EVIL)
    response = owner_client.post(f"/privacy/customers/{customer.pk}/export/")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    rows = read_csv(archive.read("customer.csv").decode())
    assert EVIL in [unquote_cell(cell) for cell in rows[1]]
    for name in archive.namelist():
        if name.endswith(".csv"):
            assert_csv_is_inert(read_csv(archive.read(name).decode()))


def test_no_code_outside_the_spreadsheet_helper_writes_csv_or_xlsx_itself():
    """A new export must use tend.lib.spreadsheet; tests may write their own input files."""
    offenders = []
    for path in TEND_SOURCE.rglob("*.py"):
        relative = path.relative_to(TEND_SOURCE)
        if "tests" in relative.parts or relative.parts[:2] == ("lib", "spreadsheet.py"):
            continue
        if WRITERS.search(path.read_text(encoding="utf-8")):
            offenders.append(str(relative))
    assert offenders == []
