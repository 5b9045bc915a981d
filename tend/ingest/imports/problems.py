"""Sentences for rejection reasons and cleaning notes, in the reader's language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from tend.ingest.imports.values import listed

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
    "unknown_channel": gettext_lazy("Unknown acquisition channel"),
    "bad_country": gettext_lazy("Unknown country"),
    "bad_currency": gettext_lazy("Unknown currency"),
    "bad_stage": gettext_lazy("Unknown lifecycle stage"),
    "bad_kind": gettext_lazy("Neither company nor person"),
    "unknown_owner": gettext_lazy("Unknown owner"),
    "bad_status": gettext_lazy("Unknown status"),
    "bad_interval": gettext_lazy("Unknown billing interval"),
    "bad_order_status": gettext_lazy("Unknown status"),
    "bad_stripe_status": gettext_lazy("Unknown status"),
    "bad_stripe_interval": gettext_lazy("Unknown billing interval"),
    "bad_consent": gettext_lazy("Unknown marketing consent"),
}


class Allowed:
    """The values each refusal lists, read from the database once per page or file."""

    @cached_property
    def plans(self) -> str:
        from tend.billing.models import Plan

        return listed(list(Plan.objects.order_by("code").values_list("code", flat=True)))

    @cached_property
    def channels(self) -> str:
        from tend.customers.channels import channel_choices

        return listed([code for code, _label in channel_choices()])

    @cached_property
    def users(self) -> str:
        from tend.accounts.models import User

        names = User.objects.filter(is_active=True).order_by("username")
        return listed(list(names.values_list("username", flat=True)))

    def choices(self, reason: str) -> str:
        from tend.billing.models import Interval, OrderStatus, SubscriptionStatus
        from tend.customers.models import Kind, MarketingConsent, Stage
        from tend.ingest.imports.stripe_export import STRIPE_INTERVALS, STRIPE_STATUSES

        values: dict[str, Sequence[str]] = {
            "bad_stripe_status": [k for k, v in STRIPE_STATUSES.items() if k == v],
            "bad_stripe_interval": [k for k, v in STRIPE_INTERVALS.items() if k == v],
            "bad_stage": Stage.values,
            "bad_kind": Kind.values,
            "bad_status": SubscriptionStatus.values,
            "bad_interval": Interval.values,
            "bad_order_status": OrderStatus.values,
            "bad_consent": MarketingConsent.values,
        }
        return listed(list(values.get(reason, [])), first=20)


def reason_label(code: str) -> str:
    return str(REASONS.get(code, code))


def problem_text(reason: str, value: str, allowed: Allowed | None = None) -> str:
    """What is wrong with one cell, as a sentence fragment; a value not allowed is told
    with the values that are (the first few, when there are many)."""
    params = {"value": value}
    listing: dict[str, Callable[[Allowed], str]] = {
        "unknown_plan": lambda a: (
            _(
                "there is no plan with the code or name “%(value)s”; plans: %(allowed)s. Map the "
                "value to a plan, or let the import create missing plans"
            )
            % {"value": value, "allowed": a.plans}
        ),
        "unknown_channel": lambda a: (
            _(
                "“%(value)s” is not one of your acquisition channels (%(allowed)s). Map the value "
                "to one of them, or let the import create missing channels"
            )
            % {"value": value, "allowed": a.channels}
        ),
        "unknown_owner": lambda a: (
            _("no active user has the user name “%(value)s”; users: %(allowed)s")
            % {"value": value, "allowed": a.users}
        ),
        "bad_stage": lambda a: (
            _("“%(value)s” is not a lifecycle stage; stages: %(allowed)s (or their names)")
            % {"value": value, "allowed": a.choices("bad_stage")}
        ),
        "bad_kind": lambda a: (
            _("“%(value)s” is not a kind of customer; kinds: %(allowed)s")
            % {"value": value, "allowed": a.choices("bad_kind")}
        ),
        "bad_status": lambda a: (
            _("“%(value)s” is not a status; statuses: %(allowed)s")
            % {"value": value, "allowed": a.choices("bad_status")}
        ),
        "bad_order_status": lambda a: (
            _("“%(value)s” is not a status; statuses: %(allowed)s")
            % {"value": value, "allowed": a.choices("bad_order_status")}
        ),
        "bad_interval": lambda a: (
            _("“%(value)s” is not a billing interval; intervals: %(allowed)s")
            % {"value": value, "allowed": a.choices("bad_interval")}
        ),
        "bad_consent": lambda a: (
            _(
                "“%(value)s” is not a marketing consent; use %(allowed)s (or yes / no, "
                "opted in / opted out)"
            )
            % {"value": value, "allowed": a.choices("bad_consent")}
        ),
        "bad_stripe_status": lambda a: (
            _("“%(value)s” is not a status; statuses: %(allowed)s")
            % {"value": value, "allowed": a.choices("bad_stripe_status")}
        ),
        "bad_stripe_interval": lambda a: (
            _("“%(value)s” is not a billing interval; intervals: %(allowed)s")
            % {"value": value, "allowed": a.choices("bad_stripe_interval")}
        ),
    }
    if reason in listing:
        return listing[reason](allowed or Allowed())
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
        "bad_country": _(
            "“%(value)s” is not a country: use a two-letter ISO 3166-1 code like DE, or a "
            "country name such as Germany or 德国"
        ),
        "bad_currency": _(
            "“%(value)s” is not a currency: use a three-letter ISO 4217 code like EUR or USD"
        ),
        "too_long": _("“%(value)s” is too long"),
        "nul_byte": _("“%(value)s” holds a NUL character (\\x00), which no text field can store"),
        "bad_text": _("“%(value)s” holds characters that are not text (lone surrogates)"),
        "extra_cells": _(
            "the row has more cells than the header has columns (%(value)s); quote values "
            "that contain the delimiter, or name the extra columns in the header row"
        ),
    }
    return texts.get(reason, reason) % params


def problem_sentence(
    *, row: int, column: str, reason: str, value: str, allowed: Allowed | None = None
) -> str:
    """``Row 7, column “Signup date”: “31/31/2024” is not a date…``"""
    if not column:
        return _("Row %(row)s: %(problem)s") % {
            "row": row,
            "problem": problem_text(reason, value, allowed),
        }
    return _("Row %(row)s, column “%(column)s”: %(problem)s") % {
        "row": row,
        "column": column,
        "problem": problem_text(reason, value, allowed),
    }


def problems_sentence(
    *, row: int, problems: Sequence[Sequence[str]], allowed: Allowed | None = None
) -> str:
    """Every problem of one row, [[column, reason, value], …], in one sentence."""
    if len(problems) == 1:
        column, reason, value = problems[0]
        return problem_sentence(row=row, column=column, reason=reason, value=value, allowed=allowed)
    allowed = allowed or Allowed()
    parts = [
        _("column “%(column)s”: %(problem)s")
        % {"column": column, "problem": problem_text(reason, value, allowed)}
        if column
        else problem_text(reason, value, allowed)
        for column, reason, value in problems
    ]
    return _("Row %(row)s has %(n)s problems: %(problems)s") % {
        "row": row,
        "n": len(problems),
        "problems": pgettext("between the problems of one row", "; ").join(parts),
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
    "mapped_value": gettext_lazy("read a value through the value map (e.g. “Germany” → DE)"),
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
        if code.startswith(("new_plan ", "new_channel ")):  # one line per plan or channel made
            made, _sep, name = code.partition(" ")
            if made == "new_plan":
                what = _(
                    "new plan “%(code)s” (price from the rows, else 0 per month: set it on "
                    "the Plans page)"
                ) % {"code": name}
            else:
                what = _("new acquisition channel “%(code)s”") % {"code": name}
            lines.append({"column": columns.get(field, field), "what": what, "count": count})
            continue
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
