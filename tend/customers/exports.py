"""The customers list as a CSV or XLSX file: the rows of the current filter, in its order.

The matching ids are read once (an int each, 100,000 of them is under a megabyte); the rows
are loaded 1,000 at a time with their plan, owner and tags, so a big list never sits in
memory whole and the query count grows with the chunks, not with the rows. Cells go through
``tend.lib.spreadsheet`` so no name or tag becomes a formula.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tend.customers.models import Customer
from tend.customers.queries import with_list_relations
from tend.lib.spreadsheet import csv_writer, xlsx_cell, xlsx_workbook

CHUNK = 1000


def headers() -> list[str]:
    """The columns of the file: those the list shows, plus ids and emails."""
    return [
        _("Id"),
        _("External id"),
        _("Name"),
        pgettext("email address", "Email"),
        _("Stage"),
        _("Plan"),
        _("MRR"),
        _("Currency"),
        pgettext("person responsible for a customer", "Owner"),
        _("Owner's email"),
        _("Tags"),
        _("Signed up (UTC)"),
        _("Last seen (UTC)"),
    ]


def _utc(value: datetime | None) -> datetime | None:
    # XLSX has no time zones: the header says UTC, the cell holds UTC wall time.
    return value.astimezone(UTC).replace(tzinfo=None, microsecond=0) if value else None


def rows(qs: QuerySet[Customer]) -> Iterator[list[Any]]:
    """One list of cell values per customer of ``qs``, in its order, read in chunks."""
    ids = list(qs.select_related(None).prefetch_related(None).values_list("pk", flat=True))
    currency = settings.TEND_CURRENCY
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found = {c.pk: c for c in with_list_relations(Customer.objects.filter(pk__in=chunk))}
        for pk in chunk:
            c = found.get(pk)
            if c is None:  # deleted while the file was being written
                continue
            owner = c.owner
            yield [
                c.pk,
                c.external_id or "",
                c.name,
                c.email,
                str(c.get_stage_display()),
                c.plan.name if c.plan is not None else "",
                Decimal(c.mrr),
                currency,
                (owner.get_full_name() or owner.username) if owner is not None else "",
                owner.email if owner is not None else "",
                ", ".join(t.name for t in c.tags.all()),
                _utc(c.signed_up_at),
                _utc(c.last_seen_at),
            ]


def file_name(extension: str, *, now: datetime | None = None) -> str:
    """``customers-2026-12-06.csv``: the date in the server's time zone."""
    day = timezone.localdate(now or timezone.now())
    return f"customers-{day.isoformat()}.{extension}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


def csv_lines(qs: QuerySet[Customer]) -> Iterator[str]:
    """The file as CSV lines, UTF-8 with a byte-order mark so spreadsheets read Chinese."""
    writer = csv_writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(headers())
    for row in rows(qs):
        yield writer.writerow([_csv_value(v) for v in row])


XLSX_FORMATS = {6: "#,##0.00", 11: "yyyy-mm-dd hh:mm", 12: "yyyy-mm-dd hh:mm"}
XLSX_WIDTHS = [8, 14, 28, 28, 14, 14, 12, 9, 18, 24, 24, 17, 17]


def xlsx_file(qs: QuerySet[Customer]) -> IO[bytes]:
    """The file as XLSX in a temporary file (openpyxl's write-only mode streams rows to disk),
    rewound and ready to be streamed out; it disappears when closed."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = xlsx_workbook()
    sheet = book.create_sheet(title=_("Customers")[:31])
    sheet.freeze_panes = "C2"
    for i, width in enumerate(XLSX_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    bold = Font(bold=True)
    head = []
    for text in headers():
        cell = xlsx_cell(sheet, text)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    for row in rows(qs):
        cells = []
        for i, value in enumerate(row):
            cell = xlsx_cell(sheet, value)
            if i in XLSX_FORMATS and value is not None:
                cell.number_format = XLSX_FORMATS[i]
            cells.append(cell)
        sheet.append(cells)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it after streaming
    book.save(out)
    out.seek(0)
    return out
