"""The customers list exports as CSV and XLSX: the rows of the current filters in the current
order, the columns shown plus ids and emails, formula-safe, a dated file name, and a number
of queries that does not grow with the rows."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from tend.customers.actions import customer_set_tags
from tend.customers.models import Customer, Stage
from tend.factories import make_customer, make_plan, make_subscription

pytestmark = pytest.mark.django_db
LIST = reverse("customers:list")
CSV = reverse("customers:export_csv")
XLSX = reverse("customers:export_xlsx")


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx(response) -> list[list[object]]:
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data)).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def _list_names(client, params) -> list[str]:
    html = client.get(LIST, params).content.decode()
    return re.findall(r'class="customer-name[^"]*"[^>]*>([^<]+)</a>', html)


@pytest.fixture
def book(member):
    gold = make_plan("gold", price="300")
    acme = make_customer("Acme Corp", email="ops@acme.test", external_id="A-1", owner=member)
    make_subscription(acme, gold)
    customer_set_tags(customer=acme, tags=["vip", "eu"], by=None)
    make_customer("Beta Labs", email="hi@beta.test", stage=Stage.TRIAL)
    make_customer('=HYPERLINK("http://evil.example","x")', email="e@evil.test")
    make_customer("Zeta AG", stage=Stage.TRIAL)
    return acme


@pytest.mark.parametrize("params", [{}, {"stage": "trial", "sort": "-name"}, {"q": "acme"}])
def test_the_csv_holds_the_filtered_list_in_its_order(viewer_client, book, params):
    rows = _csv(viewer_client.get(CSV, params))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Id", "External id", "Name", "Email"]
    names = [r[2].removeprefix("'") for r in body]
    assert names == [n.replace("&quot;", '"') for n in _list_names(viewer_client, params)]


def test_the_columns_carry_ids_emails_plan_mrr_owner_tags(owner_client, book, member):
    rows = _csv(owner_client.get(CSV, {"q": "acme"}))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["Id"] == str(book.pk)
    assert record["External id"] == "A-1"
    assert record["Email"] == "ops@acme.test"
    assert record["Plan"] == "Gold" or record["Plan"].lower() == "gold"
    assert record["MRR"] == "300.00"
    assert record["Owner"] == "mike"
    assert record["Tags"] == "eu, vip"
    assert record["Signed up (UTC)"][:4].isdigit()


def test_a_formula_in_a_name_is_made_harmless_in_both_files(owner_client, book):
    rows = _csv(owner_client.get(CSV, {"q": "HYPERLINK"}))
    assert rows[1][2].startswith("'=HYPERLINK")
    sheet = _xlsx(owner_client.get(XLSX, {"q": "HYPERLINK"}))
    assert sheet[1][2] == '=HYPERLINK("http://evil.example","x")'
    data = b"".join(owner_client.get(XLSX, {"q": "HYPERLINK"}).streaming_content)
    assert b"<f>" not in data  # stored as text, never as a formula


def test_the_xlsx_matches_the_csv_with_typed_numbers(owner_client, book):
    params = {"sort": "-mrr"}
    csv_rows = _csv(owner_client.get(CSV, params))
    sheet = _xlsx(owner_client.get(XLSX, params))
    assert sheet[0] == csv_rows[0]
    assert [r[0] for r in sheet[1:]] == [int(r[0]) for r in csv_rows[1:]]
    assert sheet[1][6] == 300  # MRR as a number


def test_the_file_name_has_the_date(owner_client, book):
    today = date.today().isoformat()
    response = owner_client.get(CSV)
    assert f'filename="customers-{today}.csv"' in response["Content-Disposition"]
    response = owner_client.get(XLSX)
    assert f"customers-{today}.xlsx" in response["Content-Disposition"]


def test_the_list_links_to_the_export_of_its_filters(owner_client, book):
    html = owner_client.get(LIST, {"stage": "trial", "page": "1"}).content.decode()
    assert f'href="{CSV}?stage=trial"' in html
    assert f'href="{XLSX}?stage=trial"' in html


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        b"".join(client.get(url).streaming_content)
    return len(ctx.captured_queries)


def test_export_queries_do_not_grow_with_the_rows(owner_client):
    for i in range(5):
        customer_set_tags(customer=make_customer(f"A{i}"), tags=["t"], by=None)
    small = (_queries(owner_client, CSV), _queries(owner_client, XLSX))
    for i in range(60):
        customer_set_tags(customer=make_customer(f"B{i}"), tags=["t"], by=None)
    assert (_queries(owner_client, CSV), _queries(owner_client, XLSX)) == small


def test_rows_are_read_in_chunks(owner_client, monkeypatch):
    from tend.customers import exports

    monkeypatch.setattr(exports, "CHUNK", 7)
    for i in range(20):
        make_customer(f"C{i:02d}")
    rows = _csv(owner_client.get(CSV))
    assert [r[2] for r in rows[1:]] == [f"C{i:02d}" for i in range(20)]
    assert Customer.objects.count() == 20
