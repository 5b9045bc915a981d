"""Every dashboard table downloads as CSV and XLSX with the numbers of the series readers
(``tend.metrics.kpis`` and its siblings): numbers stay numbers, percentages say so in the
header, headers follow the language."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from tend.metrics import exports
from tend.metrics.cohorts import cohorts, survival
from tend.metrics.filters import FilterError, Filters
from tend.metrics.kpis import kpi_series
from tend.metrics.tests.test_dashboard import Book, build_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def book() -> Book:
    return build_book()


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheet programs then read UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    width = len(rows[0])  # empty cells at the end of a row are not stored
    return [row + [None] * (width - len(row)) for row in rows]


def test_the_table_registry_covers_every_table_on_the_page():
    assert set(exports.TABLES) == {
        "kpis",
        "movements",
        "cohorts_logo",
        "cohorts_revenue",
        "channels",
        "survival",
        "survival_plan",
        "survival_channel",
    }


@pytest.mark.parametrize("name", sorted(exports.TABLES))
def test_every_table_downloads_as_csv_and_xlsx_for_every_role(viewer_client, book, name):
    for fmt, kind in (("csv", "text/csv"), ("xlsx", "spreadsheetml")):
        response = viewer_client.get(f"/metrics/export/{name}.{fmt}", {"period": "month"})
        assert response.status_code == 200, (name, fmt)
        assert kind in response["Content-Type"]
        disposition = response["Content-Disposition"]
        assert disposition.startswith('attachment; filename="tend-') and f'.{fmt}"' in disposition
        headers, rows = exports.table(name, Filters.parse({"period": "month"}))
        body = read_csv(response.content) if fmt == "csv" else read_xlsx(response.content)
        assert body[0] == headers
        assert len(body) == len(rows) + 1


def test_kpi_csv_and_xlsx_hold_the_numbers_of_kpi_series(owner_client, book):
    query = {"period": "month", "channel": "referral"}
    kpis = kpi_series(Filters.parse(query))
    keys = [c.key for c in exports.kpi_columns()]
    csv_rows = read_csv(owner_client.get("/metrics/export/kpis.csv", query).content)
    xlsx_rows = read_xlsx(owner_client.get("/metrics/export/kpis.xlsx", query).content)
    assert len(csv_rows) == len(xlsx_rows) == len(kpis) + 1
    for period, csv_row, xlsx_row in zip(kpis, csv_rows[1:], xlsx_rows[1:], strict=True):
        record = period.as_dict()
        assert csv_row[0] == xlsx_row[0] == period.label
        for key, text, cell in zip(keys, csv_row, xlsx_row, strict=True):
            if key in ("period", "start", "end", "to_date"):
                continue
            expected = record[key]
            if expected is None:
                assert text == "" and cell is None, key
            elif isinstance(expected, float):
                assert float(text) == round(expected, 2), key
                assert isinstance(cell, int | float), key
                assert cell == pytest.approx(expected, abs=0.005), key
            else:
                assert Decimal(text) == Decimal(expected), key
                assert isinstance(cell, int | float), key  # a number, not a formatted string
                assert Decimal(str(cell)) == Decimal(expected), key


def test_headers_give_units_and_percent_signs(book):
    headers, _rows = exports.table("kpis", Filters.parse({}))
    assert "Logo churn rate (%)" in headers
    assert "Net revenue retention (NRR) (%)" in headers
    assert "Monthly recurring revenue (MRR) (USD)" in headers
    headers, _rows = exports.table("cohorts_logo", Filters.parse({}))
    assert headers[3] == "Month 0 (%)"


def test_xlsx_cells_carry_number_formats_and_dates(owner_client, book):
    content = owner_client.get("/metrics/export/kpis.xlsx").content
    sheet = load_workbook(io.BytesIO(content)).active
    headers = [c.value for c in sheet[1]]
    row = list(sheet[2])
    mrr = row[headers.index("Monthly recurring revenue (MRR) (USD)")]
    churn = row[headers.index("Logo churn rate (%)")]
    assert mrr.number_format == "#,##0.00"
    assert churn.value is None or churn.number_format == "0.00"
    assert row[1].is_date and sheet.freeze_panes == "B2"
    assert sheet[1][0].font.bold


def test_movements_add_up_from_mrr_at_start_to_mrr_at_end(book):
    _headers, rows = exports.table("movements", Filters.parse({}))
    for row in rows:
        start, new, expansion, reactivation, contraction, churn, net, end = row[4:]
        assert contraction <= 0 and churn <= 0
        assert start + new + expansion + reactivation + contraction + churn == end
        assert net == end - start


def test_cohort_and_survival_tables_match_the_series(book):
    filters = Filters.parse({})
    _h, rows = exports.table("cohorts_revenue", filters)
    found = cohorts(filters)
    assert [r[0] for r in rows] == [f"{c.cohort:%Y-%m}" for c in found]
    for row, cohort in zip(rows, found, strict=True):
        assert row[3 : 3 + len(cohort.revenue)] == [
            None if v is None else round(v, 2) for v in cohort.revenue
        ]
    _h, rows = exports.table("survival", filters)
    curve = survival(filters)[""]
    assert [r[4] for r in rows] == curve["survival"]
    assert {r[0] for r in rows} == {"all"}


def test_survival_by_plan_names_plans_by_code_and_name(book):
    _h, rows = exports.table("survival_plan", Filters.parse({}))
    for group, label, *_rest in rows:
        assert (group, label) in {("basic", "Basic"), ("pro", "Pro"), ("yearly", "Yearly")}


def test_headers_follow_the_language_of_the_request(owner_client, book):
    response = owner_client.get("/metrics/export/channels.csv", HTTP_ACCEPT_LANGUAGE="zh-hans")
    header = read_csv(response.content)[0]
    with translation.override("zh-hans"):
        assert header == exports.table("channels", Filters.parse({}))[0]
    assert "渠道" in header  # "Channel", already in the catalog


def test_the_channels_download_names_its_columns_as_the_dashboard_table_does(book):
    header = exports.table("channels", Filters.parse({}))[0]
    assert "Acquired in range" in header and "Paying at end" in header
    assert "Customers acquired" not in header and "Paying customers" not in header


def test_bad_filters_and_unknown_tables(owner_client, book):
    response = owner_client.get("/metrics/export/kpis.csv", {"country": "Germany"})
    assert response.status_code == 400
    assert "country" in response.content.decode()
    assert owner_client.get("/metrics/export/nope.csv").status_code == 404
    assert owner_client.get("/metrics/export/kpis.pdf").status_code == 404
    with pytest.raises(FilterError) as caught:
        exports.table("nope", Filters.parse({}))
    assert caught.value.field == "table"


def test_a_viewer_cannot_post_to_an_export(viewer_client, book):
    assert viewer_client.post("/metrics/export/kpis.csv").status_code == 405


def test_today_can_be_fixed_for_reproducible_exports(book):
    filters = Filters.parse({"start": "2025-01", "end": "2025-03"})
    _headers, rows = exports.table("kpis", filters, today=date(2025, 12, 31))
    assert [r[0] for r in rows] == ["2025-01", "2025-02", "2025-03"]
