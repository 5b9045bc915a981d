"""Countries as customers store them: ISO 3166-1 alpha-2 codes, named in the reader's language.

pycountry is the maintained list (and ships the names' translations), so a code is valid when
pycountry knows it — "XX" and "UK" are not country codes, "GB" is.
"""

from __future__ import annotations

import gettext
from functools import cache

import pycountry
from django.utils.translation import get_language


@cache
def _codes() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


def is_country_code(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code pycountry knows (capitals only)."""
    return code in _codes()


@cache
def _translator(language: str) -> gettext.NullTranslations:
    # Django says "zh-hans"; pycountry's catalogs are named by territory (zh_CN).
    locale = {"zh-hans": "zh_CN", "zh-hant": "zh_TW"}.get(language, language.replace("-", "_"))
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[locale], fallback=True
    )


def _name(country: object, language: str) -> str:
    english = str(getattr(country, "common_name", None) or country.name)  # type: ignore[attr-defined]
    translated = _translator(language).gettext(english)
    if translated == english and english != country.name:  # type: ignore[attr-defined]
        translated = _translator(language).gettext(country.name)  # type: ignore[attr-defined]
    return translated


@cache
def _choices(language: str) -> tuple[tuple[str, str], ...]:
    pairs = [(c.alpha_2, _name(c, language)) for c in pycountry.countries]
    return tuple(sorted(pairs, key=lambda pair: pair[1]))


def country_choices() -> list[tuple[str, str]]:
    """``(code, name)`` for every country, sorted by its name in the active language."""
    return list(_choices(get_language() or "en"))


def country_name(code: str) -> str:
    """The country's name in the active language; an unknown code is shown as it is."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return _name(country, get_language() or "en")
