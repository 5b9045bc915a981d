"""The import pages: upload, mapping, dry-run preview, background import, summary, download."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tend.customers.models import Customer
from tend.ingest.imports.models import Import, ImportStatus

pytestmark = pytest.mark.django_db

CSV = (
    "客户编号,客户名称,邮箱,注册日期\n"
    "c1,Acme,OPS@acme.test,2024年3月1日\n"
    "c2,Beta,not-an-email,2024-03-02\n"
    "c3, Gamma ,g@gamma.test,01/03/2024\n"
).encode()


def upload(client, data: bytes = CSV, name: str = "客户.csv", kind: str = "customers"):
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(reverse("imports:list"), {"kind": kind, "file": file, "date_order": "dmy"})


def test_a_member_walks_from_upload_to_summary(member_client, django_capture_on_commit_callbacks):
    response = upload(member_client)
    run = Import.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:mapping", args=[run.pk])
    assert run.mapping == {
        "客户编号": "external_id",
        "客户名称": "name",
        "邮箱": "email",
        "注册日期": "signed_up_at",
    }

    page = member_client.get(reverse("imports:mapping", args=[run.pk]))
    assert page.status_code == 200
    assert b'<option value="external_id" selected>' in page.content

    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(
            reverse("imports:mapping", args=[run.pk]),
            {
                "col_0": "external_id",
                "col_1": "name",
                "col_2": "email",
                "col_3": "signed_up_at",
                "date_order": "dmy",
            },
        )
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.status, run.dry_run, run.created, run.rejected) == (
        ImportStatus.PREVIEWED,
        True,
        2,
        1,
    )
    assert not Customer.objects.exists()
    preview = member_client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert "Row 3, column “邮箱”: “not-an-email” is not an email address" in preview
    assert "Would be created" in preview

    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(reverse("imports:start", args=[run.pk]))
    run.refresh_from_db()
    assert (run.status, run.dry_run, run.created, run.rejected) == (ImportStatus.DONE, False, 2, 1)
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["Acme", "Gamma"]
    summary = member_client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert "Download rejected rows (CSV)" in summary
    assert "trimmed whitespace" in summary

    download = member_client.get(reverse("imports:rejected", args=[run.pk]))
    body = b"".join(download.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert list(csv.reader(io.StringIO(body))) == [
        ["客户编号", "客户名称", "邮箱", "注册日期", "Row", "Reason"],
        [
            "c2",
            "Beta",
            "not-an-email",
            "2024-03-02",
            "3",
            "Row 3, column “邮箱”: “not-an-email” is not an email address",
        ],
    ]
    history = member_client.get(reverse("imports:list")).content.decode()
    assert "客户.csv" in history


def test_a_mapping_without_a_required_field_is_refused_with_the_reason(owner_client):
    upload(owner_client)
    run = Import.objects.get()
    response = owner_client.post(
        reverse("imports:mapping", args=[run.pk]), {"col_0": "", "col_1": "name"}
    )
    assert response.status_code == 422
    assert "Missing required column: External ID" in response.content.decode()
    run.refresh_from_db()
    assert run.status == ImportStatus.UPLOADED


def test_progress_polls_while_running_and_asks_for_a_refresh_when_done(owner_client, owner):
    upload(owner_client)
    run = Import.objects.get()
    Import.objects.filter(pk=run.pk).update(status=ImportStatus.RUNNING, rows_read=1, total_rows=3)
    running = owner_client.get(reverse("imports:progress", args=[run.pk]))
    assert b'hx-trigger="every 1s"' in running.content and b"33%" in running.content
    Import.objects.filter(pk=run.pk).update(status=ImportStatus.DONE)
    done = owner_client.get(reverse("imports:progress", args=[run.pk]))
    assert done["HX-Refresh"] == "true"


def test_a_file_that_is_not_csv_or_xlsx_is_refused(owner_client):
    response = upload(owner_client, b"\x00\x01", name="photo.png")
    assert response.status_code == 422
    assert (
        "Upload a .csv or .xlsx file (a CSV may be gzipped or zipped)." in response.content.decode()
    )
    assert not Import.objects.exists()


def test_viewers_can_look_but_not_import(viewer_client, owner_client):
    upload(owner_client)
    run = Import.objects.get()
    assert viewer_client.get(reverse("imports:list")).status_code == 200
    assert upload(viewer_client).status_code == 403
    mapping = viewer_client.post(reverse("imports:mapping", args=[run.pk]), {"col_0": "name"})
    assert mapping.status_code == 403
    assert viewer_client.post(reverse("imports:start", args=[run.pk])).status_code == 403
    assert Import.objects.count() == 1
    run.refresh_from_db()
    assert run.status == ImportStatus.UPLOADED and run.mapping["客户编号"] == "external_id"


def test_import_pages_need_a_login(outsider_client, owner_client):
    upload(owner_client)
    run = Import.objects.get()
    for name, args in [
        ("imports:list", []),
        ("imports:detail", [run.pk]),
        ("imports:rejected", [run.pk]),
    ]:
        response = outsider_client.get(reverse(name, args=args))
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_navigation_shows_imports_to_members_but_not_viewers(member_client, viewer_client):
    assert b'href="/imports/"' in member_client.get(reverse("customers:list")).content
    assert b'href="/imports/"' not in viewer_client.get(reverse("customers:list")).content
