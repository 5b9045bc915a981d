"""Money: rounding to the cent and writing amounts for people, in one place.

Everything that rounds money to the cent or shows an amount (pages, tables, chart axes and
hovers, goals, reports) uses these helpers, so "$1,234.50", "−US$10" and "3万" read the same
on every surface.

Currency symbols follow CLDR for each interface language (a small table of the currencies
founders use rather than a locale library: Babel is not a dependency, and a handful of symbols
does not justify one). The point is that one page never shows two currencies with the same
symbol: English writes "$" for USD, "CN¥" for CNY and "¥" for JPY; Chinese writes "US$" for
USD, "¥" for CNY and "JP¥" for JPY. Other currencies show their ISO code after the amount.
The minus sign always comes before the symbol: "−$10", never "$−10".
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.translation import get_language, gettext, pgettext_lazy

CENT = Decimal("0.01")
MINUS = "−"  # U+2212, as typeset: the same width as the plus sign

# CLDR symbols (common/main/en.xml and zh.xml, currency "symbol"), per interface language.
SYMBOLS: dict[str, dict[str, str]] = {
    "en": {
        "USD": "$",
        "EUR": "€",
        "GBP": "£",
        "CNY": "CN¥",
        "JPY": "¥",
        "AUD": "A$",
        "CAD": "CA$",
        "HKD": "HK$",
        "SGD": "S$",  # CLDR en has "SGD"; S$ is what Singapore itself writes
        "INR": "₹",
    },
    "zh-hans": {
        "USD": "US$",
        "EUR": "€",
        "GBP": "£",
        "CNY": "¥",
        "JPY": "JP¥",
        "AUD": "AU$",
        "CAD": "CA$",
        "HKD": "HK$",
        "SGD": "S$",
        "INR": "₹",
    },
}

# Currency names for "Amounts in US dollars (USD)" / "金额单位：美元（USD）".
NAMES: dict[str, Any] = {
    "USD": pgettext_lazy("currency", "US dollars"),
    "EUR": pgettext_lazy("currency", "euros"),
    "GBP": pgettext_lazy("currency", "British pounds"),
    "CNY": pgettext_lazy("currency", "Chinese yuan"),
    "JPY": pgettext_lazy("currency", "Japanese yen"),
    "AUD": pgettext_lazy("currency", "Australian dollars"),
    "CAD": pgettext_lazy("currency", "Canadian dollars"),
    "HKD": pgettext_lazy("currency", "Hong Kong dollars"),
    "SGD": pgettext_lazy("currency", "Singapore dollars"),
    "INR": pgettext_lazy("currency", "Indian rupees"),
}


def to_cents(amount: Decimal | int | str) -> Decimal:
    """``amount`` rounded to the cent, half up (2.345 → 2.35)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def reporting_currency() -> str:
    """The business's reporting currency (``TEND_CURRENCY``), upper case."""
    return str(settings.TEND_CURRENCY).upper()


def _language(language: str | None) -> str:
    code = (language or get_language() or "en").lower()
    return "zh-hans" if code.startswith("zh") else "en"


def currency_symbol(currency: str | None = None, *, language: str | None = None) -> str | None:
    """The symbol of ``currency`` in the interface language, or None (then the ISO code is
    written after the amount)."""
    code = (currency or reporting_currency()).upper()
    return SYMBOLS[_language(language)].get(code)


def currency_label(currency: str | None = None) -> str:
    """ "US dollars (USD)" / "美元（USD）"; the bare code for a currency without a name here."""
    code = (currency or reporting_currency()).upper()
    name = NAMES.get(code)
    if name is None:
        return code
    return gettext("%(name)s (%(code)s)") % {"name": name, "code": code}


def format_money(
    value: Any, currency: str | None = None, decimals: int = 2, *, language: str | None = None
) -> str:
    """``$1,234.50`` / ``−US$20.00`` / ``1,234.50 CHF``; "—" for no value.

    Money reads the same in both languages: comma thousands, point decimals; Django's zh-Hans
    number format has no thousands separator at all.
    """
    if value is None or value == "":
        return "—"
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    amount = amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = MINUS if amount < 0 else ""  # a rounded zero has no sign: no "−$0.00"
    text = f"{abs(amount):,.{decimals}f}"
    code = (currency or reporting_currency()).upper()
    symbol = currency_symbol(code, language=language)
    if symbol:
        return f"{sign}{symbol}{text}"
    return f"{sign}{text} {code}"


def compact_number(value: float, *, language: str | None = None) -> str:
    """A short axis label: 30k, 1.5M in English; 3万, 1.5亿 in Chinese (万 = 10⁴, 亿 = 10⁸)."""
    size = abs(value)
    sign = MINUS if value < 0 else ""
    steps: tuple[tuple[Decimal, str], ...]
    if _language(language) == "zh-hans":
        steps = ((Decimal(10**8), "亿"), (Decimal(10**4), "万"))
    else:
        steps = ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "k"))
    number = Decimal(str(size))
    for unit, suffix in steps:
        if number >= unit:
            return f"{sign}{_short(number / unit)}{suffix}"
    return f"{sign}{_short(number)}"


def _short(number: Decimal) -> str:
    """At most three significant digits, no trailing zeros: 2.5, 25, 250, 1.25."""
    digits = 2 if number < 10 else 1 if number < 100 else 0
    text = f"{number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def compact_money(value: float, currency: str | None = None, *, language: str | None = None) -> str:
    """An axis tick for money: "−$10k", "US$250k", "¥3万", "25万 CHF"."""
    code = (currency or reporting_currency()).upper()
    text = compact_number(value, language=language)
    sign = MINUS if text.startswith(MINUS) else ""
    text = text.removeprefix(MINUS)
    symbol = currency_symbol(code, language=language)
    if symbol:
        return f"{sign}{symbol}{text}"
    return f"{sign}{text} {code}"
