"""The settings in force that shape the numbers, for the read-only Settings page.

Settings come from ``TEND_*`` environment variables (tend/settings.py, README's
configuration table); this only reads them. Secrets (the signing key, database and email
URLs with their passwords, the Stripe signing secret) are never shown, only whether they
are set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class SettingRow:
    label: str | Promise
    value: str
    variable: str
    meaning: str | Promise
    from_environment: bool


def _percent(value: Decimal) -> str:
    return f"{(Decimal(value) * 100).normalize():f} %"


def _row(label: Any, value: str, variable: str, meaning: Any) -> SettingRow:
    return SettingRow(label, value, variable, meaning, variable in os.environ)


def _language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code))


def business_settings() -> list[SettingRow]:
    """The settings that change what Tend counts or shows, with the variable that sets each."""
    model = settings.TEND_BUSINESS_MODEL
    return [
        _row(
            _("Reporting currency"),
            settings.TEND_CURRENCY,
            "TEND_CURRENCY",
            _("MRR and acquisition costs are counted in it; other currencies need a rate."),
        ),
        _row(
            _("Time zone"),
            settings.TIME_ZONE,
            "TEND_TIME_ZONE",
            _("Dates are shown in it; data is stored in UTC."),
        ),
        _row(
            _("Business model"),
            str(
                _("B2B: customers are companies")
                if model == "b2b"
                else _("B2C: customers are people")
            ),
            "TEND_BUSINESS_MODEL",
            _("b2b or b2c. In B2C a tracked person becomes a customer of their own."),
        ),
        _row(
            _("Gross margin"),
            _percent(settings.TEND_GROSS_MARGIN),
            "TEND_GROSS_MARGIN",
            _("Share of revenue left after the cost of serving it; used by CLV and CAC payback."),
        ),
        _row(
            _("CLV discount rate"),
            _percent(settings.TEND_CLV_DISCOUNT_RATE) + " " + str(_("a year")),
            "TEND_CLV_DISCOUNT_RATE",
            _("Yearly discount rate of the discounted customer lifetime value."),
        ),
        _row(
            _("CLV growth rate"),
            _percent(settings.TEND_CLV_GROWTH_RATE) + " " + str(_("a year")),
            "TEND_CLV_GROWTH_RATE",
            _("Yearly growth of revenue per account in the discounted CLV."),
        ),
        _row(
            _("Default language"),
            _language_name(settings.LANGUAGE_CODE),
            "TEND_LANGUAGE",
            _("For people who chose no language and whose browser asks for neither."),
        ),
    ]


def _yes(flag: bool) -> str:
    return str(_("set") if flag else _("not set"))


def _rate(value: Any) -> str:
    if value is None:
        return str(_("off"))
    return str(_("%(limit)s per %(seconds)s s") % {"limit": value.limit, "seconds": value.seconds})


def operational_settings() -> list[SettingRow]:
    """Settings about connections and limits; secrets only say whether they are set."""
    return [
        _row(
            _("Stripe webhook signing secret"),
            _yes(bool(settings.TEND_STRIPE_WEBHOOK_SECRET)),
            "TEND_STRIPE_WEBHOOK_SECRET",
            _("Unset turns /webhooks/stripe off. The value is never shown."),
        ),
        _row(
            _("Login failures before a lockout"),
            str(settings.TEND_LOGIN_FAILURE_LIMIT),
            "TEND_LOGIN_FAILURE_LIMIT",
            _("Per user name and address; 0 turns the lockout off."),
        ),
        _row(
            _("Lockout"),
            str(_("%(n)s min") % {"n": settings.TEND_LOGIN_LOCKOUT_MINUTES}),
            "TEND_LOGIN_LOCKOUT_MINUTES",
            _("How long a locked-out user name and address wait."),
        ),
        _row(
            _("Tracking API rate limit"),
            _rate(settings.TEND_RATE_LIMIT_TRACKING),
            "TEND_RATE_LIMIT_TRACKING",
            _("Calls per write key on /v1/*."),
        ),
        _row(
            _("Import files kept"),
            str(_("%(n)s days") % {"n": settings.TEND_IMPORT_FILE_RETENTION_DAYS}),
            "TEND_IMPORT_FILE_RETENTION_DAYS",
            _("After an import ends; its record and rejected rows stay."),
        ),
    ]
