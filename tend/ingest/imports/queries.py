"""Reads for imports: the rejected rows as CSV, and the first problems of a run as sentences."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from tend.ingest.imports.models import Import, RejectedRow
from tend.ingest.imports.problems import Allowed, problems_sentence
from tend.lib.private import open_private
from tend.lib.spreadsheet import csv_writer

CHUNK = 2_000


class _Echo:
    def write(self, value: str) -> str:
        return value


def rejected_csv_lines(run: Import) -> Iterator[str]:
    """The refused rows as CSV lines: the file's own columns, then the row number and the reason.

    A cell a spreadsheet would run as a formula gets a leading ``'`` (``tend.lib.spreadsheet``).
    """
    writer = csv_writer(_Echo())
    yield "\ufeff" + writer.writerow(
        [*run.headers, _("Row"), _("Reason")]
    )  # BOM: Excel reads UTF-8
    last = 0
    allowed = Allowed()
    while True:
        chunk = list(
            RejectedRow.objects.filter(run=run, row__gt=last)
            .order_by("row")
            .values_list("row", "column", "reason", "value", "values", "problems")[:CHUNK]
        )
        if not chunk:
            return
        for row, column, reason, value, values, more in chunk:
            sentence = problems_sentence(
                row=row, problems=[[column, reason, value], *more], allowed=allowed
            )
            yield writer.writerow([*values, row, sentence])
        last = chunk[-1][0]


def rejected_csv_write(run: Import, path: Path) -> Path:
    with open_private(path, "w", encoding="utf-8", newline="") as fh:
        for line in rejected_csv_lines(run):
            fh.write(line)
    return path


def first_problems(run: Import, limit: int = 20) -> list[dict[str, Any]]:
    rows = RejectedRow.objects.filter(run=run).order_by("row")[:limit]
    allowed = Allowed()
    return [
        {
            "row": r.row,
            "column": r.column,
            "reason": r.reason,
            "text": problems_sentence(
                row=r.row, problems=[[r.column, r.reason, r.value], *r.problems], allowed=allowed
            ),
        }
        for r in rows
    ]
