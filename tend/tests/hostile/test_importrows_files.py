"""Hostile and awkward files: zip bombs, an XLSX whose <dimension> lies, Windows-1252 and
UTF-16 text, gzip and zip compression. Each is read, or refused as a whole with a sentence
naming the limit or the problem (never a traceback), through ``import_file``, the CLI (in
process and through the ``tend`` entry point) and the upload page."""

from __future__ import annotations

import csv
import gzip
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from tend.activity.models import Event
from tend.customers.models import Customer
from tend.factories import make_customer
from tend.ingest.imports import reading
from tend.ingest.imports.actions import import_file, imports_dir
from tend.ingest.imports.events import EventWriter
from tend.ingest.imports.models import Import
from tend.ingest.imports.reading import FileError

pytestmark = pytest.mark.django_db

ROWS = [["External ID", "Name"], *[[f"c{n}", f"Customer {n}"] for n in range(1, 11)]]


def _csv_text(rows: list[list[str]] = ROWS) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _xlsx(path: Path, rows: list[list[str]] = ROWS) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _rewrite(
    path: Path, change: dict[str, bytes | None], add: dict[str, bytes] | None = None
) -> None:
    """Copy the zip at ``path`` with some members replaced (or dropped, for None) or added."""
    with zipfile.ZipFile(path) as src:
        members = [(m, src.read(m)) for m in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in members:
            new = change.get(info.filename, data)
            if new is not None:
                out.writestr(info.filename, new)
        for name, data in (add or {}).items():
            out.writestr(name, data)


def _bomb(size: int = 12 * 1024 * 1024) -> bytes:
    return b"0" * size  # deflates about 1,000 to 1


def _names() -> list[str]:
    return sorted(Customer.objects.values_list("name", flat=True))


# --- XLSX ---------------------------------------------------------------------------------


def test_an_xlsx_whose_dimension_says_three_rows_has_all_ten_read(tmp_path):
    path = _xlsx(tmp_path / "liar.xlsx")
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:B11" />' in sheet
    _rewrite(path, {"xl/worksheets/sheet1.xml": sheet.replace(b"A1:B11", b"A1:B3")})
    result = import_file(kind="customers", path=path)
    assert (result.rows, result.created, result.rejected) == (10, 10, 0)
    assert len(_names()) == 10


def test_an_xlsx_zip_bomb_is_refused_before_parsing_with_the_ratio_named(tmp_path):
    path = _xlsx(tmp_path / "bomb.xlsx")
    with zipfile.ZipFile(path) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    padded = sheet.replace(b"</worksheet>", b"<!--" + _bomb() + b"--></worksheet>")
    _rewrite(path, {"xl/worksheets/sheet1.xml": padded})
    assert path.stat().st_size < 100_000
    with pytest.raises(FileError, match=r"compressed [0-9,]+ to 1; more than 100 to 1 is refused"):
        import_file(kind="customers", path=path)
    assert not Import.objects.exists() and not Customer.objects.exists()


def test_an_xlsx_larger_than_the_inflated_limit_is_refused_naming_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_INFLATED_BYTES", 3 * 1024 * 1024)
    path = _xlsx(tmp_path / "big.xlsx")
    _rewrite(path, {}, add={"xl/media/padding.bin": os.urandom(4 * 1024 * 1024)})
    with pytest.raises(FileError, match=r"would take 4 MB uncompressed; at most 3 MB is read"):
        import_file(kind="customers", path=path)


def test_an_xlsx_with_too_many_parts_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ENTRIES", 20)
    path = _xlsx(tmp_path / "parts.xlsx")
    _rewrite(path, {}, add={f"xl/media/{n}.bin": b"x" for n in range(20)})
    with pytest.raises(FileError, match="compressed parts; at most 20 are read"):
        import_file(kind="customers", path=path)


def test_a_file_named_xlsx_that_is_not_a_workbook_gets_a_sentence(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"External ID,Name\nc1,A\n")
    with pytest.raises(FileError, match=r"named \.xlsx but is not an Excel workbook"):
        import_file(kind="customers", path=path)
    path.write_bytes(reading.OLE_MAGIC + b"\x00" * 100)
    with pytest.raises(FileError, match=r"old Excel \.xls file"):
        import_file(kind="customers", path=path)


def test_a_damaged_xlsx_gets_a_sentence(tmp_path):
    path = _xlsx(tmp_path / "broken.xlsx")
    _rewrite(path, {"xl/workbook.xml": b"<not-a-workbook"})
    with pytest.raises(FileError, match="not a readable Excel workbook"):
        import_file(kind="customers", path=path)


# --- encodings and compression ------------------------------------------------------------


def test_a_windows_1252_csv_is_read_with_its_accents(tmp_path):
    path = tmp_path / "crm.csv"
    rows = [["External ID", "Name"], ["c1", "Café Müller"], ["c2", "Straße Å"], ["c3", "Señor €"]]
    path.write_bytes(_csv_text(rows).encode("cp1252"))
    result = import_file(kind="customers", path=path)
    assert result.created == 3
    assert _names() == ["Café Müller", "Señor €", "Straße Å"]


def test_a_gb18030_csv_still_reads_as_chinese(tmp_path):
    path = tmp_path / "客户.csv"
    rows = [["客户编号", "客户名称"], ["c1", "北京科技有限公司"], ["c2", "上海贸易"]]
    path.write_bytes(_csv_text(rows).encode("gb18030"))
    assert import_file(kind="customers", path=path).created == 2
    assert _names() == ["上海贸易", "北京科技有限公司"]


def test_a_utf16_csv_as_excel_saves_unicode_text_is_read(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes("External ID\tName\nc1\tÅngström\nc2\t東京\n".encode("utf-16"))
    assert import_file(kind="customers", path=path).created == 2
    assert _names() == ["Ångström", "東京"]


@pytest.mark.parametrize("name", ["crm.csv.gz", "crm.csv"], ids=["named .gz", "named .csv"])
def test_a_gzipped_csv_is_read_by_its_first_bytes(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(gzip.compress(_csv_text().encode("utf-8")))
    result = import_file(kind="customers", path=path)
    assert (result.created, result.rejected) == (10, 0)


def test_a_zip_holding_one_csv_is_read_and_one_holding_two_is_refused(tmp_path):
    path = tmp_path / "crm.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("crm.csv", _csv_text().encode("cp1252"))
        out.writestr("__MACOSX/._crm.csv", b"\x00\x05")
    assert import_file(kind="customers", path=path).created == 10
    with zipfile.ZipFile(path, "a") as out:
        out.writestr("other.csv", b"a,b\n")
    with pytest.raises(FileError, match="exactly one CSV file; this one holds 2 files"):
        import_file(kind="customers", path=path)


def test_a_gzip_bomb_is_refused_before_any_row_is_written(tmp_path):
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(b"External ID,Name\n" + _bomb()))
    with pytest.raises(FileError, match="inflates more than 100 to 1"):
        import_file(kind="customers", path=path)
    assert not Import.objects.exists()


# --- the CLI and the upload page ----------------------------------------------------------


def test_the_cli_reads_a_cp1252_gzip_and_refuses_a_bomb_with_a_sentence(tmp_path):
    path = tmp_path / "crm.csv.gz"
    path.write_bytes(gzip.compress(_csv_text([["ID", "Name"], ["c1", "Café"]]).encode("cp1252")))
    call_command("import", "customers", str(path), verbosity=0, stdout=io.StringIO())
    assert _names() == ["Café"]
    bomb = tmp_path / "bomb.xlsx"
    _xlsx(bomb)
    _rewrite(bomb, {}, add={"xl/media/bomb.bin": _bomb()})
    with pytest.raises(CommandError, match="likely zip bomb"):
        call_command("import", "customers", str(bomb), verbosity=0, stdout=io.StringIO())


def test_the_tend_command_prints_no_traceback_for_a_hostile_file(tmp_path):
    """Through the ``tend`` entry point, as a user runs it: the error is a sentence, exit 1."""
    bomb = _xlsx(tmp_path / "bomb.xlsx")
    _rewrite(bomb, {}, add={"xl/media/bomb.bin": _bomb()})
    env = {**os.environ, "TEND_DATA_DIR": str(tmp_path / "data")}
    env.pop("TEND_DATABASE_URL", None)  # the file is refused before the database is needed
    done = subprocess.run(
        [str(Path(sys.executable).with_name("tend")), "import", "customers", str(bomb)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "likely zip bomb" in done.stderr
    assert "Traceback" not in done.stderr


def _upload(client, data: bytes, name: str):
    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(
        reverse("imports:list"), {"kind": "customers", "file": file, "date_order": "dmy"}
    )


def test_the_upload_page_refuses_a_zip_bomb_with_the_limit_and_keeps_nothing(
    owner_client, tmp_path
):
    bomb = _xlsx(tmp_path / "bomb.xlsx")
    _rewrite(bomb, {}, add={"xl/media/bomb.bin": _bomb()})
    kept = set(imports_dir().iterdir())
    response = _upload(owner_client, bomb.read_bytes(), "bomb.xlsx")
    assert response.status_code == 422
    page = response.content.decode()
    assert "This file cannot be read" in page and "more than 100 to 1 is refused" in page
    assert not Import.objects.exists()
    assert set(imports_dir().iterdir()) == kept  # the upload is not kept either


def test_the_upload_page_takes_a_gzipped_cp1252_csv_and_a_lying_xlsx(owner_client, tmp_path):
    data = gzip.compress(_csv_text([["External ID", "Name"], ["c1", "Café"]]).encode("cp1252"))
    response = _upload(owner_client, data, "crm.csv.gz")
    assert response.status_code == 302
    run = Import.objects.get()
    assert run.headers == ["External ID", "Name"] and run.total_rows == 1
    page = owner_client.get(reverse("imports:mapping", args=[run.pk])).content.decode()
    assert "Café" in page  # the sample value, decoded
    liar = _xlsx(tmp_path / "liar.xlsx")
    with zipfile.ZipFile(liar) as book:
        sheet = book.read("xl/worksheets/sheet1.xml")
    _rewrite(liar, {"xl/worksheets/sheet1.xml": sheet.replace(b"A1:B11", b"A1:B3")})
    assert _upload(owner_client, liar.read_bytes(), "liar.xlsx").status_code == 302


def test_an_xlsx_row_with_a_value_right_of_the_last_header_is_refused_alone(tmp_path):
    rows = [["External ID", "Name"], ["c1", "A"], ["c2", "B", "stray note"], ["c3", "C"]]
    result = import_file(kind="customers", path=_xlsx(tmp_path / "extra.xlsx", rows))
    assert (result.created, result.rejected) == (2, 1)
    assert result.problems[0].startswith("Row 3: the row has more cells than the header")


def test_a_nul_byte_in_a_header_is_dropped_so_the_column_still_maps(tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text("External ID,Na\x00me\nc1,Acme\n", encoding="utf-8")
    result = import_file(kind="customers", path=path)
    assert result.run.headers == ["External ID", "Name"] and result.created == 1


@pytest.mark.parametrize("two", [False, True], ids=["one process", "parsed ahead"])
def test_a_cell_over_the_csv_field_limit_ends_the_import_with_a_sentence(
    tmp_path, monkeypatch, two
):
    """A cell over 10 MB stops the reading: the rows before it are kept, the import says
    where it stopped, and the CLI prints that sentence instead of a traceback."""
    make_customer("Acme", external_id="k1")
    monkeypatch.setattr(EventWriter, "batch_size", 2)
    monkeypatch.setattr(EventWriter, "parse_ahead_from", 0 if two else 10**9)
    path = tmp_path / "events.csv"
    huge = "x" * (10 * 1024 * 1024 + 1)
    path.write_text(
        "customer,event,timestamp\nk1,a,2024-03-01\nk1,b,2024-03-01\n"
        f'k1,"{huge}",2024-03-01\nk1,d,2024-03-01\n'
    )
    with pytest.raises(CommandError, match="cannot be read after row 3: field larger than"):
        call_command("import", "events", str(path), verbosity=0, stdout=io.StringIO())
    run = Import.objects.get()
    assert run.status == "failed" and "after row 3" in run.error
    assert Event.objects.count() == 2


def test_an_xlsx_whose_xml_holds_a_lone_surrogate_stops_with_the_row_it_reached(tmp_path):
    """XML cannot carry a lone surrogate (nor a NUL): such a sheet is damaged, said as such."""
    path = _xlsx(tmp_path / "surrogate.xlsx", [["External ID", "Name"], ["c1", "MARK"]])
    with zipfile.ZipFile(path) as book:
        marked = {m: book.read(m) for m in book.namelist() if b"MARK" in book.read(m)}
    _rewrite(path, {m: data.replace(b"MARK", b"&#xD800;") for m, data in marked.items()})
    with pytest.raises(FileError, match=r"cannot be read after row 1: reference to invalid"):
        import_file(kind="customers", path=path)


def test_a_zip_whose_csv_is_damaged_gets_a_sentence(tmp_path):
    path = tmp_path / "crm.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        rows = [["ID", "Name"], *[[f"c{n}", os.urandom(8).hex()] for n in range(2000)]]
        out.writestr("crm.csv", _csv_text(rows))
    data = bytearray(path.read_bytes())
    for i in range(200, 260):  # inside the compressed CSV
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(FileError, match="The file is damaged"):
        import_file(kind="customers", path=path)


def test_a_file_that_starts_as_utf8_but_is_not_gets_a_sentence_before_any_row(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\xef\xbb\xbfExternal ID,Name\nc1,Acme\nc2,Caf\xe9\n")
    with pytest.raises(FileError, match="Save it as “CSV UTF-8”"):
        import_file(kind="customers", path=path)
    assert not Import.objects.exists()
