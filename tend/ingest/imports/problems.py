"""Sentences for rejection reasons and cleaning notes, in the reader's language."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

REASONS = {
    "missing_value": gettext_lazy("Missing required value"),
    "bad_date": gettext_lazy("Bad date"),
    "bad_number": gettext_lazy("Bad number"),
    "negative_amount": gettext_lazy("Negative amount"),
    "bad_email": gettext_lazy("Bad email"),
    "unknown_plan": gettext_lazy("Unknown plan"),
    "unknown_customer": gettext_lazy("Unknown customer"),
    "duplicate_in_file": gettext_lazy("Duplicate id within the file"),
    "bad_json": gettext_lazy("Bad JSON"),
    "bad_choice": gettext_lazy("Value not allowed"),
    "too_long": gettext_lazy("Value too long"),
    "no_exchange_rate": gettext_lazy("No exchange rate"),
    "nul_byte": gettext_lazy("NUL character in a cell"),
    "bad_text": gettext_lazy("Unreadable characters"),
    "extra_cells": gettext_lazy("More cells than the header has columns"),
}


def reason_label(code: str) -> str:
    return str(REASONS.get(code, code))


def problem_text(reason: str, value: str) -> str:
    """What is wrong with one cell, as a sentence fragment."""
    params = {"value": value}
    if reason == "no_exchange_rate":
        # The value is "EUR 2026-01-15": the currency and the first day that needs a rate.
        currency, _sep, day = value.partition(" ")
        return _(
            "there is no exchange rate for %(currency)s on %(day)s, so this subscription's MRR "
            "cannot be counted in %(reporting)s; add one with “tend rates set %(currency)s RATE "
            "--from %(day)s” or on the Exchange rates page, then import the row again"
        ) % {"currency": currency, "day": day, "reporting": settings.TEND_CURRENCY}
    texts = {
        "missing_value": _("a value is required but the cell is empty"),
        "bad_date": _("“%(value)s” is not a date (try 2024-03-01, 01/03/2024 or 2024年3月1日)"),
        "bad_number": _("“%(value)s” is not a number"),
        "negative_amount": _("%(value)s is negative; amounts must be zero or more"),
        "bad_email": _("“%(value)s” is not an email address"),
        "unknown_plan": _("there is no plan with the code or name “%(value)s”"),
        "unknown_customer": _("no customer has the external id “%(value)s”"),
        "duplicate_in_file": _("“%(value)s” already appeared in an earlier row of this file"),
        "bad_json": _("“%(value)s” is not a JSON object"),
        "bad_choice": _("“%(value)s” is not one of the allowed values"),
        "too_long": _("“%(value)s” is too long"),
        "nul_byte": _("“%(value)s” holds a NUL character (\\x00), which no text field can store"),
        "bad_text": _("“%(value)s” holds characters that are not text (lone surrogates)"),
        "extra_cells": _(
            "the row has more cells than the header has columns (%(value)s); quote values "
            "that contain the delimiter, or name the extra columns in the header row"
        ),
    }
    return texts.get(reason, reason) % params


def problem_sentence(*, row: int, column: str, reason: str, value: str) -> str:
    """``Row 7, column “Signup date”: “31/31/2024” is not a date…``"""
    if not column:
        return _("Row %(row)s: %(problem)s") % {
            "row": row,
            "problem": problem_text(reason, value),
        }
    return _("Row %(row)s, column “%(column)s”: %(problem)s") % {
        "row": row,
        "column": column,
        "problem": problem_text(reason, value),
    }


CLEANING = {
    "trimmed_whitespace": gettext_lazy("trimmed whitespace"),
    "formula_quote_removed": gettext_lazy(
        "removed the ' Tend puts before text a spreadsheet would run as a formula"
    ),
    "lowercased_email": gettext_lazy("lower-cased the email address"),
    "removed_thousands_separator": gettext_lazy(
        "removed thousands separators (1,234.50 → 1234.50)"
    ),
    "read_decimal_comma": gettext_lazy("read a decimal comma (1.234,50 → 1234.50)"),
    "removed_currency_symbol": gettext_lazy("removed a currency symbol"),
    "read_date_dmy": gettext_lazy("read a date as day/month/year"),
    "read_date_mdy": gettext_lazy("read a date as month/day/year"),
    "read_date": gettext_lazy("read a date written as year/month/day"),
    "read_chinese_date": gettext_lazy("read a Chinese date (2024年3月1日)"),
    "read_choice": gettext_lazy("read a status or interval written another way"),
    # Flagged: the value stored is not the one in the file (data-quality: "stored with a warning").
    "rounded_to_cents": gettext_lazy(
        "rounded to whole cents (9.999 → 10.00); stored with a warning"
    ),
    "cut_to_fit_name": gettext_lazy(
        "used as the customer's name and cut to 200 characters; stored with a warning"
    ),
}


ENCODINGS = {
    "gb18030": "GB18030 (GBK)",
    "big5": "Big5",
    "cp1252": "Windows-1252 (Latin-1)",
    "utf-16": "UTF-16",
}


def cleaning_lines(cleaning: dict[str, int], columns: dict[str, str]) -> list[dict[str, object]]:
    """[{"column": header, "what": sentence, "count": n}] for the summary page and CLI."""
    lines: list[dict[str, object]] = []
    for key, count in sorted(cleaning.items()):
        field, _sep, code = key.partition(": ")
        if code.startswith("encoding_"):  # once per file, not per cell
            encoding = ENCODINGS.get(code[9:], code[9:])
            what = _("read the file as %(encoding)s: it is not UTF-8") % {"encoding": encoding}
            lines.append({"column": _("(whole file)"), "what": what, "count": count})
            continue
        lines.append(
            {
                "column": columns.get(field, field),
                "what": str(CLEANING.get(code, code)),
                "count": count,
            }
        )
    return lines
