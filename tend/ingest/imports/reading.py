"""Reading CSV and XLSX files row by row, and cleaning cell values with a record of what changed.

Readers yield one row at a time (``csv`` module; openpyxl in read-only mode), so memory stays
flat however long the file is. What a file is comes from its first bytes: a zip holding a
workbook is an XLSX, a zip holding one CSV or a gzip stream is a compressed CSV. Compressed
files are checked against the limits below before anything is parsed; a CSV's encoding is
UTF-8 when all of it is, else the likeliest of LEGACY_ENCODINGS that decodes all of it. A
file that cannot be read at all raises FileError with a sentence for the person importing it.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

from django.utils.translation import gettext as _

from tend.lib.spreadsheet import unquote_cell

csv.field_size_limit(10 * 1024 * 1024)

XLSX_SUFFIXES = {".xlsx", ".xlsm"}
# Limits checked before a compressed file is parsed (see docs/imports.md, "Limits"): an XLSX
# is a zip, and a small one can inflate to gigabytes that openpyxl would try to read.
MAX_INFLATED_BYTES = 512 * 1024 * 1024  # an XLSX's parts, uncompressed, in all
MAX_RATIO = 100  # uncompressed ÷ compressed, for any member (or gzip stream) over RATIO_FROM
RATIO_FROM = 8 * 1024 * 1024
MAX_ENTRIES = 1_000  # members of an XLSX or zip
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
GZIP_MAGIC = b"\x1f\x8b"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
SCAN_CHUNK = 1 << 20
# Besides UTF-8 and UTF-16 with a byte order mark: what Excel saves "CSV" as in Chinese
# (simplified, traditional) and Western European settings.
LEGACY_ENCODINGS = ["gb18030", "big5", "cp1252"]
CENT = Decimal("0.01")
INTEGER_MAX = 2_147_483_647  # PostgreSQL's integer, which Django's PositiveIntegerField is


class FileError(ValueError):
    """The file as a whole cannot be read; the message says why, for the person importing it."""


class Problem(Exception):
    """One cell that cannot be used: a stable reason code and the offending value."""

    def __init__(self, reason: str, value: Any = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = "" if value is None else safe_text(str(value)[:255])


def safe_text(text: str) -> str:
    """``text`` as both databases store it: NUL bytes and lone surrogates shown escaped."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def file_format(name: str) -> str:
    return "xlsx" if Path(name).suffix.lower() in XLSX_SUFFIXES else "csv"


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[list[Any]]  # data rows only; the header is row 1, the first data row row 2
    total: int  # estimated data rows (for progress bars)
    encoding: str = ""  # how a CSV file was decoded


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB"


def _check_zip(book: zipfile.ZipFile, *, xlsx: bool) -> None:
    """Refuse a zip (or XLSX) that would inflate beyond the limits, before reading any of it."""
    members = book.infolist()
    if len(members) > MAX_ENTRIES:
        raise FileError(
            _("The file holds %(n)s compressed parts; at most %(limit)s are read.")
            % {"n": f"{len(members):,}", "limit": f"{MAX_ENTRIES:,}"}
        )
    total = sum(m.file_size for m in members)
    if xlsx and total > MAX_INFLATED_BYTES:
        raise FileError(
            _(
                "The file would take %(size)s uncompressed; at most %(limit)s is read. "
                "Split it, or save it as CSV."
            )
            % {"size": _mb(total), "limit": _mb(MAX_INFLATED_BYTES)}
        )
    for m in members:
        if m.file_size > RATIO_FROM and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            raise FileError(
                _(
                    "Part “%(part)s” of the file is compressed %(ratio)s to 1; more than "
                    "%(limit)s to 1 is refused as a likely zip bomb."
                )
                % {
                    "part": safe_text(m.filename[:100]),
                    "ratio": f"{m.file_size // max(m.compress_size, 1):,}",
                    "limit": MAX_RATIO,
                }
            )


class _Inflated(io.RawIOBase):
    """A gzip stream that stops with a FileError once it inflates more than MAX_RATIO times the
    compressed bytes read (past RATIO_FROM), so a gzip bomb is caught while it is scanned."""

    def __init__(self, path: Path) -> None:
        self.raw = path.open("rb")
        self.gz = gzip.GzipFile(fileobj=self.raw, mode="rb")
        self.out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self.gz.read(len(buffer))
        except (OSError, EOFError, zlib.error) as exc:
            raise FileError(_("The gzip file is damaged: %(error)s") % {"error": exc}) from None
        buffer[: len(data)] = data
        self.out += len(data)
        if self.out > RATIO_FROM and self.out > MAX_RATIO * max(self.raw.tell(), 1):
            raise FileError(
                _(
                    "The gzip file inflates more than %(limit)s to 1; it is refused as a "
                    "likely zip bomb."
                )
                % {"limit": MAX_RATIO}
            )
        return len(data)

    def close(self) -> None:
        self.gz.close()
        self.raw.close()
        super().close()


@contextmanager
def _csv_bytes(path: Path) -> Iterator[BinaryIO]:
    """The CSV's bytes: the file itself, the CSV inside a gzip file, or the one inside a zip."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic.startswith(GZIP_MAGIC):
        with io.BufferedReader(_Inflated(path), SCAN_CHUNK) as stream:
            yield stream
        return
    if magic in ZIP_MAGIC:
        with _zip(path) as book:
            names = [
                m
                for m in book.infolist()
                if not m.is_dir() and not m.filename.startswith(("__MACOSX/", "."))
            ]
            if len(names) != 1:
                raise FileError(
                    _("A zip file must hold exactly one CSV file; this one holds %(n)s files.")
                    % {"n": len(names)}
                )
            with book.open(names[0]) as member:
                yield member  # type: ignore[misc]
        return
    with path.open("rb") as raw:
        yield raw


@contextmanager
def _zip(path: Path) -> Iterator[zipfile.ZipFile]:
    """The zip, its limits checked (the total size only for a workbook, which openpyxl may
    hold in memory; a CSV inside a zip is streamed)."""
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileError(_("The file is not a readable zip: %(error)s") % {"error": exc}) from None
    with book:
        _check_zip(book, xlsx="xl/workbook.xml" in book.namelist())
        yield book


def _scan(path: Path) -> tuple[int, bool]:
    """(lines, whether every byte is UTF-8): one pass over the (uncompressed) file."""
    lines = 0
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with _csv_bytes(path) as fh:
        while chunk := fh.read(SCAN_CHUNK):
            lines += chunk.count(b"\n")
            if utf8 and not chunk.isascii():
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    return lines, utf8


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with _csv_bytes(path) as fh:
            while chunk := fh.read(SCAN_CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sample(path: Path, limit: int = 256 * 1024) -> bytes:
    """Lines holding bytes beyond ASCII, up to ``limit`` bytes: what tells an encoding apart."""
    found: list[bytes] = []
    size = 0
    with _csv_bytes(path) as fh:
        for line in fh:
            if not line.isascii():
                found.append(line)
                size += len(line)
                if size >= limit:
                    break
    return b"".join(found)


def _encoding(path: Path) -> tuple[str, int]:
    """The file's text encoding (and its line count): a byte order mark, UTF-8 when every byte
    is, otherwise whichever of LEGACY_ENCODINGS charset-normalizer finds likeliest and decodes
    the whole file. (Left free to choose among all it knows, it takes a short Western file for
    Baltic or Cyrillic; these are what spreadsheet programs save "CSV" as in the places Tend
    is used.)"""
    with _csv_bytes(path) as fh:
        head = fh.read(4)
    lines, utf8 = _scan(path)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if _decodes(path, "utf-16"):
            return "utf-16", lines
    elif head.startswith(codecs.BOM_UTF8):
        if utf8:
            return "utf-8-sig", lines
    elif utf8:
        return "utf-8", lines
    else:
        from charset_normalizer import from_bytes

        sample = _sample(path)
        candidates = [m.encoding for m in from_bytes(sample, cp_isolation=LEGACY_ENCODINGS)]
        for encoding in [*candidates, *LEGACY_ENCODINGS]:
            if _decodes(path, encoding):
                return encoding, lines
    # A byte order mark that the rest of the file belies, or bytes no encoding here reads.
    raise FileError(
        _(
            "The file's characters could not be read: it is not UTF-8 and no other encoding "
            "fits. Save it as “CSV UTF-8” and upload it again."
        )
    )


@contextmanager
def open_table(path: Path, *, name: str | None = None) -> Iterator[Table]:
    """Open a CSV (plain, gzip or zip) or XLSX file; yields its header row and its data rows.

    What the file is comes from its first bytes, not its name; FileError says why a file
    cannot be read at all.
    """
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise FileError(_("The file cannot be opened: %(error)s") % {"error": exc}) from None
    xlsx = file_format(name or path.name) == "xlsx"
    if magic in ZIP_MAGIC:
        with _zip(path) as book:
            xlsx = "xl/workbook.xml" in book.namelist()
    elif xlsx:
        if magic == OLE_MAGIC:
            raise FileError(_("This is an old Excel .xls file; save it as .xlsx or CSV."))
        raise FileError(_("The file is named .xlsx but is not an Excel workbook."))
    if xlsx:
        with _xlsx_table(path) as table:
            yield table
        return
    try:
        encoding, lines = _encoding(path)
        with _csv_bytes(path) as raw:
            first = raw.readline(1 << 16).decode(encoding, "replace")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:  # a damaged zip member
        raise FileError(_("The file is damaged: %(error)s") % {"error": exc}) from None
    delimiter = ","
    with contextlib.suppress(csv.Error):
        delimiter = csv.Sniffer().sniff(first, ",;\t|").delimiter
    with _csv_bytes(path) as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as fh:
        reader = _guarded(csv.reader(fh, delimiter=delimiter))
        header = next(reader, [])
        yield Table([_header(h) for h in header], reader, max(lines - 1, 0), encoding)


@contextmanager
def _xlsx_table(path: Path) -> Iterator[Table]:
    from openpyxl import load_workbook

    with _zip(path):
        pass  # the limits, checked before openpyxl inflates anything
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise FileError(
            _("The file is not a readable Excel workbook: %(error)s") % {"error": exc}
        ) from None
    try:
        sheet = book.worksheets[0]
        total = max((sheet.max_row or 1) - 1, 0)  # an estimate, for the progress bar
        # Read-only mode trusts the sheet's <dimension>, which a writer may get wrong: forget
        # it, so every row in the sheet is read whatever it claims.
        sheet.reset_dimensions()
        rows = _guarded(list(r) for r in sheet.iter_rows(values_only=True))
        header = next(rows, None) or ()
        headers = [_header(h) for h in header]
        yield Table(headers, rows, total)
    finally:
        book.close()


def _guarded(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """The rows; a file that breaks part-way (a cell over the CSV field limit, damaged XML in
    a workbook) ends with a FileError naming the last row read, not a traceback."""
    number = 0
    try:
        for row in rows:
            number += 1
            yield row
    except FileError:
        raise
    except Exception as exc:
        raise FileError(
            _("The file cannot be read after row %(row)s: %(error)s")
            % {"row": number, "error": safe_text(str(exc))[:500]}
        ) from None


def _header(value: Any) -> str:
    if value is None:
        return ""
    return safe_text(str(value).replace("\x00", "").strip().lstrip("\ufeff"))


def read_headers(path: Path, *, name: str | None = None) -> list[str]:
    with open_table(path, name=name) as table:
        return table.headers


# --- cleaning -----------------------------------------------------------------------------


# What ``Cleaner.flag`` may record: values stored changed, counted as "stored with a warning".
FLAGS = frozenset({"rounded_to_cents", "cut_to_fit_name"})


class Cleaner:
    """Turns cell values into typed values; counts every change it makes so it can be reported."""

    def __init__(self, *, date_order: str = "dmy") -> None:
        self.date_order = date_order
        self.counts: dict[str, int] = {}
        # Values stored changed (rounded, cut): on the summary like the rest, and counted as
        # "stored with a warning" on the data-quality page.
        self.flags: dict[str, int] = {}
        first = "%d/%m/%Y" if date_order == "dmy" else "%m/%d/%Y"
        dotted = "%d.%m.%Y" if date_order == "dmy" else "%m.%d.%Y"
        dashed = "%d-%m-%Y" if date_order == "dmy" else "%m-%d-%Y"
        self.formats = [first, "%Y/%m/%d", dotted, dashed, "%Y%m%d"]

    def note(self, field: str, what: str) -> None:
        key = f"{field}: {what}"
        self.counts[key] = self.counts.get(key, 0) + 1

    def flag(self, field: str, what: str) -> None:
        assert what in FLAGS, what
        self.note(field, what)
        self.flags[what] = self.flags.get(what, 0) + 1

    def text(self, field: str, value: Any, *, max_length: int = 0) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            value = str(value)
            if value.endswith(".0") and value[:-2].lstrip("-").isdigit():  # Excel's 42.0
                value = value[:-2]
        if "\x00" in value:  # PostgreSQL stores no NUL in text; nobody means one
            raise Problem("nul_byte", value)
        clean = " ".join(value.split()) if ("  " in value or "\n" in value) else value.strip()
        if clean != value:
            self.note(field, "trimmed_whitespace")
        if clean.startswith("'"):
            # A rejected-rows CSV Tend wrote and the founder sends back, fixed: its cells that a
            # spreadsheet would run as a formula carry a leading ' (tend.lib.spreadsheet).
            unquoted = unquote_cell(clean)
            if unquoted != clean:
                self.note(field, "formula_quote_removed")
                clean = unquoted
        if max_length and len(clean) > max_length:
            raise Problem("too_long", clean)
        if not clean.isascii():
            try:
                clean.encode("utf-8")
            except UnicodeEncodeError:
                raise Problem("bad_text", clean) from None
        return clean

    def code(self, field: str, value: Any, length: int) -> str:
        """An ISO code of ``length`` ASCII letters (country 2, currency 3), upper-cased; "" for
        an empty cell. (``"ß".upper()`` is two letters: only ASCII keeps the length.)"""
        clean = self.text(field, value)
        if not clean:
            return ""
        if len(clean) != length or not (clean.isascii() and clean.isalpha()):
            raise Problem("bad_choice", clean)
        return clean.upper()

    def email(self, field: str, value: Any) -> str:
        clean = self.text(field, value)
        if not clean:
            return ""
        lower = clean.lower()
        if lower != clean:
            self.note(field, "lowercased_email")
        if not EMAIL_RE.fullmatch(lower) or len(lower) > 254:
            raise Problem("bad_email", clean)
        return lower

    def decimal(self, field: str, value: Any, *, negative: bool = False) -> Decimal | None:
        if value is None or value == "":
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = Decimal(str(value))
            if not number.is_finite():
                raise Problem("bad_number", value)
        else:
            raw = self.text(field, value)
            if not raw:
                return None
            clean = raw
            for symbol in ("$", "€", "£", "¥", "￥", "元", " "):
                clean = clean.replace(symbol, "")
            if clean != raw:
                self.note(field, "removed_currency_symbol")
            if "," in clean:
                if THOUSANDS_RE.fullmatch(clean):
                    clean = clean.replace(",", "")
                    self.note(field, "removed_thousands_separator")
                elif DECIMAL_COMMA_RE.fullmatch(clean):
                    clean = clean.replace(".", "").replace(",", ".")
                    self.note(field, "read_decimal_comma")
                else:
                    raise Problem("bad_number", raw)
            try:
                number = Decimal(clean)
            except InvalidOperation:
                raise Problem("bad_number", raw) from None
            if not number.is_finite():
                raise Problem("bad_number", raw)
        if number < 0 and not negative:
            raise Problem("negative_amount", value)
        if abs(number) >= Decimal("1e10"):
            raise Problem("bad_number", value)
        cents = number.quantize(CENT)
        if cents != number:
            self.flag(field, "rounded_to_cents")
        return cents

    def integer(self, field: str, value: Any, *, maximum: int = INTEGER_MAX) -> int | None:
        number = self.decimal(field, value)
        if number is None:
            return None
        if number != number.to_integral_value() or number > maximum:
            raise Problem("bad_number", value)
        return int(number)

    def moment(self, field: str, value: Any) -> datetime | None:
        """An aware UTC datetime from an ISO string, a local date format or an Excel cell."""
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            return datetime.combine(value, time(), tzinfo=UTC)
        else:
            raw = value if isinstance(value, str) else str(value)
            try:
                parsed = datetime.fromisoformat(raw)
            except ValueError:
                parsed = self._other_formats(field, raw)
        if not parsed.tzinfo:
            return parsed.replace(tzinfo=UTC)
        try:  # 0001-01-01T00:00+01:00 is a time before the first representable one
            return parsed.astimezone(UTC)
        except OverflowError:
            raise Problem("bad_date", value) from None

    def _other_formats(self, field: str, raw: str) -> datetime:
        text = raw.strip()
        if text != raw:
            self.note(field, "trimmed_whitespace")
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass
        match = CHINESE_DATE_RE.fullmatch(text)
        if match:
            y, m, d, rest = match.groups()
            text = f"{int(y):04d}-{int(m):02d}-{int(d):02d}{(' ' + rest.strip()) if rest else ''}"
            try:
                self.note(field, "read_chinese_date")
                return datetime.fromisoformat(text)
            except ValueError:
                raise Problem("bad_date", raw) from None
        day_part, _sep, clock = text.partition(" ")
        for fmt in self.formats:
            try:
                day = datetime.strptime(day_part, fmt)
            except ValueError:
                continue
            self.note(
                field,
                f"read_date_{self.date_order}"
                if "%d" in fmt[:3] or "%m" in fmt[:3]
                else "read_date",
            )
            if clock:
                try:
                    t = time.fromisoformat(clock.strip())
                except ValueError:
                    raise Problem("bad_date", raw) from None
                return datetime.combine(day.date(), t)
            return day
        raise Problem("bad_date", raw)

    def json_object(self, field: str, value: Any) -> str:
        """A JSON object as text (stored as given); empty cells become ``{}``.

        Both databases must take it as it is: NaN and Infinity (which Python reads but JSON
        has not) and ``\\u0000`` (which PostgreSQL's jsonb refuses) are refused here.
        """
        if value is None or value == "":
            return "{}"
        raw = value.strip() if isinstance(value, str) else str(value)
        try:
            # json.loads without its Python-level wrapper: events files hold millions of these.
            data, end = _scan_json(raw, 0)
        except (StopIteration, ValueError):
            raise Problem("bad_json", raw) from None
        if end != len(raw) or not isinstance(data, dict) or "\\u0000" in raw:
            raise Problem("bad_json", raw)
        if "\\u" in raw and _SURROGATE_ESCAPE.search(raw):
            # A pair is one character; a lone half is no text at all, and jsonb refuses it.
            try:
                json.dumps(data, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise Problem("bad_json", raw) from None
        return raw


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_scan_json = json.scanner.make_scanner(json.JSONDecoder(parse_constant=_no_constant))  # type: ignore[attr-defined]
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
THOUSANDS_RE = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
DECIMAL_COMMA_RE = re.compile(r"[-+]?\d{1,3}(\.\d{3})*,\d{1,2}")
CHINESE_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?\s*(.*)")
