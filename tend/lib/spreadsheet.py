"""Every CSV and XLSX file Tend writes goes through here, so no cell becomes a formula.

A customer or plan name can come from anyone (a Stripe export, a tracking call, an import).
A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula — ``=HYPERLINK("http://evil.example/","Click me")`` turns into a
live link, and older programs even run commands through DDE. Following OWASP's "CSV
injection" guidance:

- CSV: such a text cell gets a leading single quote (``'=HYPERLINK(…)``). Spreadsheet programs
  show the quote, a human still reads the value, and nothing runs. A text that is exactly a
  number (``-5``, ``+1.5e3``) cannot hold a formula and is left alone; so are real numbers.
- XLSX: every text cell is written with the string data type, never as a formula, and a
  text that would be one gets Excel's own "quote prefix" flag, so editing the cell later
  does not turn it into a formula either. The cell shows the text unchanged.

``safe_cell`` is the rule; ``csv_writer``, ``xlsx_workbook`` and ``xlsx_cell`` are what
exports call (a test fails when code elsewhere calls ``csv.writer`` or ``Workbook`` itself).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Only digits, an optional sign, point and exponent: no spreadsheet reads a formula in it.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet program could read ``text`` as a formula."""
    return text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text)


def safe_cell(value: Any) -> Any:
    """``value`` for a CSV cell: a formula-like text gets a leading ``'``; anything else as is."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def unquote_cell(text: str) -> str:
    """The inverse of ``safe_cell`` for a file Tend wrote and a person sends back (a fixed
    rejected-rows CSV): ``'=1+1`` → ``=1+1``; any other text unchanged."""
    if text.startswith("'") and is_formula_like(text[1:]):
        return text[1:]
    return text


class SafeCsvWriter:
    """``csv.writer`` whose rows pass through ``safe_cell``; ``writerow`` returns what was
    written (so a streaming response can write into an echo buffer)."""

    def __init__(self, fh: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(fh, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(fh: IO[str] | Any, **kwargs: Any) -> SafeCsvWriter:
    """The one way Tend writes CSV: like ``csv.writer(fh, **kwargs)``, formula-safe."""
    return SafeCsvWriter(fh, **kwargs)


def xlsx_workbook() -> Workbook:
    """A write-only workbook; append rows of ``xlsx_cell`` cells to its sheets."""
    from openpyxl import Workbook

    return Workbook(write_only=True)


def xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell:
    """A write-only XLSX cell: numbers, dates and booleans typed; text always a string."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # openpyxl stores any text starting with "=" as a formula unless told otherwise.
        cell.data_type = "s"
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
    return cell
