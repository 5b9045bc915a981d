# ruff: noqa: E501  (the table of hostile rows reads best one case per line)
"""Hostile cells in every kind of import: an over-long value or a NUL byte refuses that row
alone, with its row number, column and reason; the good rows around it are stored and the
import ends as done (or previewed), never failed. On both databases, in dry runs and real runs,
through ``import_file`` (what the CLI and the web task call), the CLI and the upload pages."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from tend.activity.models import Event
from tend.billing.models import Order, Subscription
from tend.customers.models import Contact, Customer
from tend.factories import make_customer
from tend.ingest.imports.actions import import_file
from tend.ingest.imports.models import Import, ImportStatus, RejectedRow
from tend.ingest.models import IngestStat

pytestmark = pytest.mark.django_db

LONG_NAME = "N" * 201
LONG_ID = "x" * 121


@dataclass
class Case:
    """One import kind: its header, rows 2 and 6 good, row 3 over-long, row 4 NUL, row 5 good."""

    header: list[str]
    good: Callable[[int], list[str]]  # a good row, numbered
    long: list[str]
    long_column: str
    nul: list[str]
    nul_column: str
    stored: Callable[[], int]
    setup: Callable[[], Any] = lambda: None


def _customers() -> None:
    for n in range(1, 7):
        make_customer(f"Known {n}", external_id=f"k{n}")


CASES = {
    "customers": Case(
        ["External ID", "Name"],
        lambda n: [f"c{n}", f"Customer {n}"],
        ["c3", LONG_NAME],
        "Name",
        ["c4", "Nul\x00Name"],
        "Name",
        lambda: Customer.objects.count(),
    ),
    "contacts": Case(
        ["Customer ID", "Name", "External ID"],
        lambda n: [f"k{n}", f"Contact {n}", f"p{n}"],
        ["k3", "Contact 3", LONG_ID],
        "External ID",
        ["k4", "Con\x00tact", "p4"],
        "Name",
        lambda: Contact.objects.count(),
        _customers,
    ),
    "subscriptions": Case(
        ["Subscription ID", "Customer ID", "Price"],
        lambda n: [f"s{n}", f"k{n}", "10"],
        [LONG_ID, "k3", "10"],
        "Subscription ID",
        ["s\x004", "k4", "10"],
        "Subscription ID",
        lambda: Subscription.objects.count(),
        _customers,
    ),
    "orders": Case(
        ["Order ID", "Customer ID", "Amount", "Date", "Description"],
        lambda n: [f"o{n}", f"k{n}", "5", "2024-03-01", "ok"],
        ["o3", "k3", "5", "2024-03-01", "D" * 201],
        "Description",
        ["o4", "k4", "5", "2024-03-01", "bad\x00"],
        "Description",
        lambda: Order.objects.count(),
        _customers,
    ),
    "events": Case(
        ["Customer ID", "Event", "Time"],
        lambda n: [f"k{n}", f"event {n}", "2024-03-01T10:00:00Z"],
        ["k3", "E" * 201, "2024-03-01T10:00:00Z"],
        "Event",
        ["k4", "ev\x00ent", "2024-03-01T10:00:00Z"],
        "Event",
        lambda: Event.objects.count(),
        _customers,
    ),
    "stripe_customers": Case(
        ["id", "Name", "Email"],
        lambda n: [f"cus_{n}", f"Stripe {n}", f"s{n}@example.com"],
        ["cus_3", LONG_NAME, "s3@example.com"],
        "Name",
        ["cus_4", "Stripe 4", "s4@exa\x00mple.com"],
        "Email",
        lambda: Customer.objects.count(),
    ),
    "stripe_subscriptions": Case(
        ["id", "Customer ID", "Status", "Amount", "Interval", "Customer Name"],
        lambda n: [f"sub_{n}", f"cus_{n}", "active", "10", "month", f"Stripe {n}"],
        ["sub_3", LONG_ID, "active", "10", "month", "Stripe 3"],
        "Customer ID",
        ["sub_4", "cus_4", "active", "10", "month", "Str\x00ipe"],
        "Customer Name",
        lambda: Subscription.objects.count(),
    ),
}


def _file(tmp_path: Path, case: Case, name: str = "hostile.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerows([case.header, case.good(2), case.long, case.nul, case.good(5), case.good(6)])
    return path


def _refused(run: Import) -> list[tuple[int, str, str]]:
    return list(
        RejectedRow.objects.filter(run=run).order_by("row").values_list("row", "column", "reason")
    )


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry run", "real run"])
@pytest.mark.parametrize("kind", list(CASES))
def test_an_over_long_value_and_a_nul_byte_refuse_only_their_rows_in_every_kind(
    kind, dry_run, tmp_path
):
    case = CASES[kind]
    case.setup()
    before = case.stored()
    result = import_file(kind=kind, path=_file(tmp_path, case), dry_run=dry_run)
    run = Import.objects.get(pk=result.run.pk)
    assert run.status == (ImportStatus.PREVIEWED if dry_run else ImportStatus.DONE), run.error
    assert _refused(run) == [
        (3, case.long_column, "too_long"),
        (4, case.nul_column, "nul_byte"),
    ]
    assert (result.accepted, result.rejected) == (3, 2)
    assert case.stored() == before + (0 if dry_run else 3)
    assert result.problems[0].startswith(f"Row 3, column “{case.long_column}”:")
    if not dry_run:
        stats = dict(
            IngestStat.objects.filter(source="import", outcome="rejected").values_list(
                "reason", "count"
            )
        )
        assert stats == {"too_long": 1, "nul_byte": 1}


def test_the_cli_lists_the_refused_rows_and_exits_with_status_3_without_a_traceback(tmp_path):
    case = CASES["customers"]
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import", "customers", str(_file(tmp_path, case)), stdout=out, stderr=err)
    assert caught.value.returncode == 3
    assert "2 rows were rejected" in str(caught.value)
    assert "Row 3, column “Name”:" in out.getvalue()
    assert "Row 4, column “Name”:" in out.getvalue() and "NUL" in out.getvalue()
    assert "Traceback" not in err.getvalue()
    assert Customer.objects.count() == 3


def test_the_upload_pages_show_the_refused_rows_and_store_the_good_ones(
    owner_client, django_capture_on_commit_callbacks
):
    body = "External ID,Name\nc1,Good one\nc2," + LONG_NAME + "\nc3,Nul\x00here\nc4,Good two\n"
    file = SimpleUploadedFile("hostile.csv", body.encode(), content_type="text/csv")
    response = owner_client.post(
        reverse("imports:list"), {"kind": "customers", "file": file, "date_order": "dmy"}
    )
    assert response.status_code == 302
    run = Import.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            reverse("imports:mapping", args=[run.pk]),
            {"col_0": "external_id", "col_1": "name", "date_order": "dmy"},
        )
    run.refresh_from_db()
    assert (run.status, run.created, run.rejected) == (ImportStatus.PREVIEWED, 2, 2)
    preview = owner_client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert "Row 3, column “Name”: “" in preview and "is too long" in preview
    assert "Row 4, column “Name”: “Nul\\x00here” holds a NUL character" in preview
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("imports:start", args=[run.pk]))
    run.refresh_from_db()
    assert (run.status, run.created, run.rejected) == (ImportStatus.DONE, 2, 2)
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Good one", "Good two"]
    download = owner_client.get(reverse("imports:rejected", args=[run.pk]))
    lines = b"".join(download.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(lines)))
    assert [r[2] for r in rows[1:]] == ["3", "4"]
    assert rows[2][1] == "Nul\\x00here"  # shown escaped: the rejected row itself is kept


def test_a_nul_byte_in_an_unmapped_cell_of_a_refused_row_is_kept_escaped(write_csv_hostile):
    path = write_csv_hostile(
        ["External ID", "Name", "Notes"], [["c1", "", "note\x00"], ["c2", "Fine", "x\x00"]]
    )
    # "Notes" ignored: a column kept as a trait would refuse "x\x00" too.
    result = import_file(kind="customers", path=path, mapping={"Notes": ""})
    assert (result.created, result.rejected) == (1, 1)
    assert RejectedRow.objects.get().values == ["c1", "", "note\\x00"]


def test_extra_filled_cells_refuse_the_row_but_empty_trailing_ones_do_not(write_csv_hostile):
    path = write_csv_hostile(
        ["External ID", "Name"],
        [["c1", "Acme", "Inc"], ["c2", "Beta", "", ""], ["c3", "Gamma"]],
    )
    result = import_file(kind="customers", path=path)
    assert (result.created, result.rejected) == (2, 1)
    assert _refused(result.run) == [(2, "", "extra_cells")]
    assert result.problems == [
        "Row 2: the row has more cells than the header has columns (Inc); quote values that "
        "contain the delimiter, or name the extra columns in the header row"
    ]


def test_extra_filled_cells_refuse_an_event_row_too(write_csv_hostile):
    make_customer("A", external_id="k1")
    path = write_csv_hostile(
        ["Customer", "Event", "Time"],
        [["k1", "a", "2024-03-01", "stray"], ["k1", "b", "2024-03-01"], []],
    )
    result = import_file(kind="events", path=path)
    assert (result.created, result.rejected) == (1, 1)
    assert _refused(result.run) == [(2, "", "extra_cells")]


def test_blank_lines_are_skipped_and_the_row_numbers_stay_the_files(write_csv_hostile):
    path = write_csv_hostile(["External ID", "Name"], [["c1", "A"], [], ["c3", "N" * 201]])
    result = import_file(kind="customers", path=path)
    assert (result.created, result.rejected) == (1, 1)
    assert _refused(result.run) == [(4, "Name", "too_long")]


@pytest.mark.parametrize(
    ("kind", "header", "row", "column", "reason"),
    [
        ("customers", ["External ID", "Name", "Employees"], ["c1", "A", "5000000000"], "Employees", "bad_number"),
        ("subscriptions", ["ID", "Customer", "Price", "Quantity"], ["s1", "k1", "9999999999", "1000"], "Price", "bad_number"),
        ("subscriptions", ["ID", "Customer", "Price", "Quantity"], ["s1", "k1", "1", "3000000000"], "Quantity", "bad_number"),
        ("events", ["Customer", "Event", "Time"], ["k1", "a", "0001-01-01T00:00:00+01:00"], "Time", "bad_date"),
        ("events", ["Customer", "Event", "Time", "Properties"], ["k1", "a", "2024-03-01", '{"x": "\\ud800"}'], "Properties", "bad_json"),
        ("orders", ["Customer", "Amount", "Date"], ["k1", "1", "0001-01-01T00:00:00+01:00"], "Date", "bad_date"),
        ("orders", ["Customer", "Amount", "Date", "Currency"], ["k1", "1", "2024-03-01", "ßßß"], "Currency", "bad_currency"),
        ("customers", ["External ID", "Name", "Country"], ["c1", "A", "ßx"], "Country", "bad_country"),
        ("events", ["Customer", "Event", "Time"], ["k\x001", "a", "2024-03-01"], "Customer", "nul_byte"),
        ("events", ["Customer", "Event", "Time"], ["k1", "a", "9999-12-31T23:59:59-01:00"], "Time", "bad_date"),
        ("stripe_subscriptions", ["id", "Customer ID", "Status", "Amount", "Interval", "Quantity"], ["sub_1", "cus_1", "active", "9999999999", "week", "100"], "Amount", "bad_number"),
    ],
)  # fmt: skip
def test_values_the_database_cannot_hold_refuse_their_row_not_the_import(
    write_csv_hostile, kind, header, row, column, reason
):
    make_customer("Known", external_id="k1")
    good = {
        "customers": ["c2", "B", "5" if "Employees" in header else "DE"],
        "subscriptions": ["s2", "k1", "10", "1"],
        "events": ["k1", "b", "2024-03-01", "{}"][: len(header)],
        "orders": ["k1", "1", "2024-03-01", "USD"][: len(header)],
        "stripe_subscriptions": ["sub_2", "cus_2", "active", "10", "month", "1"],
    }[kind]
    result = import_file(kind=kind, path=write_csv_hostile(header, [row, good]))
    assert result.run.status == ImportStatus.DONE
    assert _refused(result.run) == [(2, column, reason)]
    assert result.accepted == 1


@pytest.fixture
def write_csv_hostile(tmp_path: Path) -> Callable[..., Path]:
    def write(header: list[str], rows: list[list[Any]]) -> Path:
        path = tmp_path / "hostile.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(header)
            out.writerows(rows)
        return path

    return write


def test_values_stored_changed_are_flagged_on_the_summary_and_the_data_quality_page(
    write_csv_hostile, owner_client
):
    """Not silently: a Stripe description naming a customer is cut to fit, a price with
    fractions of a cent is rounded, and both are stored with a warning."""
    path = write_csv_hostile(
        ["id", "Name", "Description"], [["cus_1", "", "D" * 250], ["cus_2", "Named", "note"]]
    )
    result = import_file(kind="stripe_customers", path=path)
    assert (result.created, result.rejected) == (2, 0)
    assert Customer.objects.get(external_id="cus_1").name == "D" * 200
    assert result.cleaning == {"description: cut_to_fit_name": 1}
    make_customer("Known", external_id="k1")
    path = write_csv_hostile(["ID", "Customer", "Price"], [["s1", "k1", "9.999"]])
    result = import_file(kind="subscriptions", path=path)
    assert Subscription.objects.get().mrr == Decimal("10.00")
    assert result.cleaning == {"price: rounded_to_cents": 1}
    flagged = IngestStat.objects.filter(source="import", outcome="flagged")
    assert dict(flagged.values_list("reason", "count")) == {
        "cut_to_fit_name": 1,
        "rounded_to_cents": 1,
    }
    summary = owner_client.get(reverse("imports:detail", args=[result.run.pk])).content.decode()
    assert "rounded to whole cents (9.999 → 10.00); stored with a warning" in summary
    quality = owner_client.get(reverse("ingest:data_quality")).content.decode()
    assert "rounded_to_cents" in quality and "cut_to_fit_name" in quality
