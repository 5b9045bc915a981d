"""Reading CSV and XLSX files row by row, and cleaning cell values with a record of what changed.

Readers yield one row at a time (``csv`` module; openpyxl in read-only mode), so memory stays
flat however long the file is.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

csv.field_size_limit(10 * 1024 * 1024)

XLSX_SUFFIXES = {".xlsx", ".xlsm"}


class Problem(Exception):
    """One cell that cannot be used: a stable reason code and the offending value."""

    def __init__(self, reason: str, value: Any = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = "" if value is None else str(value)[:255]


def file_format(name: str) -> str:
    return "xlsx" if Path(name).suffix.lower() in XLSX_SUFFIXES else "csv"


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[list[Any]]  # data rows only; the header is row 1, the first data row row 2
    total: int  # estimated data rows (for progress bars)


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


def _encoding(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return "gb18030"  # what Chinese Excel writes for "CSV" by default
    return "utf-8"


@contextmanager
def open_table(path: Path, *, name: str | None = None) -> Iterator[Table]:
    """Open a CSV or XLSX file; yields its header row and an iterator over the data rows."""
    if file_format(name or path.name) == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None) or ()
            headers = [_header(h) for h in header]
            total = max((sheet.max_row or 1) - 1, 0)
            yield Table(headers, (list(r) for r in rows if any(v is not None for v in r)), total)
        finally:
            book.close()
        return
    with path.open(encoding=_encoding(path), newline="") as fh:
        sample = fh.read(1 << 14)
        fh.seek(0)
        delimiter = ","
        if sample:
            with contextlib.suppress(csv.Error):
                delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0], ",;\t|").delimiter
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader, [])
        yield Table([_header(h) for h in header], reader, max(_count_lines(path) - 1, 0))


def _header(value: Any) -> str:
    return "" if value is None else str(value).strip().lstrip("\ufeff")


def read_headers(path: Path, *, name: str | None = None) -> list[str]:
    with open_table(path, name=name) as table:
        return table.headers


# --- cleaning -----------------------------------------------------------------------------


class Cleaner:
    """Turns cell values into typed values; counts every change it makes so it can be reported."""

    def __init__(self, *, date_order: str = "dmy") -> None:
        self.date_order = date_order
        self.counts: dict[str, int] = {}
        first = "%d/%m/%Y" if date_order == "dmy" else "%m/%d/%Y"
        dotted = "%d.%m.%Y" if date_order == "dmy" else "%m.%d.%Y"
        dashed = "%d-%m-%Y" if date_order == "dmy" else "%m-%d-%Y"
        self.formats = [first, "%Y/%m/%d", dotted, dashed, "%Y%m%d"]

    def note(self, field: str, what: str) -> None:
        key = f"{field}: {what}"
        self.counts[key] = self.counts.get(key, 0) + 1

    def text(self, field: str, value: Any, *, max_length: int = 0) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            value = str(value)
            if value.endswith(".0") and value[:-2].lstrip("-").isdigit():  # Excel's 42.0
                value = value[:-2]
        clean = " ".join(value.split()) if ("  " in value or "\n" in value) else value.strip()
        if clean != value:
            self.note(field, "trimmed_whitespace")
        if max_length and len(clean) > max_length:
            raise Problem("too_long", clean)
        return clean

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
        return number.quantize(Decimal("0.01"))

    def integer(self, field: str, value: Any) -> int | None:
        number = self.decimal(field, value)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise Problem("bad_number", value)
        return int(number)

    def moment(self, field: str, value: Any) -> datetime | None:
        """An aware UTC datetime from an ISO string, a local date format or an Excel cell."""
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, date):
            return datetime.combine(value, time(), tzinfo=UTC)
        raw = value if isinstance(value, str) else str(value)
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            parsed = self._other_formats(field, raw)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

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
        return raw


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_scan_json = json.scanner.make_scanner(json.JSONDecoder(parse_constant=_no_constant))  # type: ignore[attr-defined]
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
THOUSANDS_RE = re.compile(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?")
DECIMAL_COMMA_RE = re.compile(r"[-+]?\d{1,3}(\.\d{3})*,\d{1,2}")
CHINESE_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?\s*(.*)")
