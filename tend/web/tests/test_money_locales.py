"""Currency symbols follow CLDR per language (no two currencies share one on a page), the
minus comes before the symbol, and chart axes use 万 in Chinese (tend.lib.money)."""

import pytest
from django.utils import translation

from tend.lib.money import compact_money, compact_number, currency_label, format_money
from tend.metrics.chart_parts import money_axis, nice_ticks


@pytest.mark.parametrize(
    ("currency", "en", "zh"),
    [
        ("USD", "$1,234.50", "US$1,234.50"),
        ("CNY", "CN¥1,234.50", "¥1,234.50"),
        ("JPY", "¥1,234.50", "JP¥1,234.50"),
        ("HKD", "HK$1,234.50", "HK$1,234.50"),
        ("CHF", "1,234.50 CHF", "1,234.50 CHF"),
    ],
)
def test_symbols_follow_cldr_in_english_and_chinese(currency: str, en: str, zh: str) -> None:
    assert format_money("1234.5", currency, language="en") == en
    assert format_money("1234.5", currency, language="zh-hans") == zh
    with translation.override("zh-hans"):
        assert format_money("1234.5", currency) == zh


def test_cny_and_jpy_never_share_a_symbol_in_one_language() -> None:
    for language in ("en", "zh-hans"):
        cny = format_money("1", "CNY", language=language)
        jpy = format_money("1", "JPY", language=language)
        assert cny.removesuffix("1.00") != jpy.removesuffix("1.00")


def test_the_minus_comes_before_the_symbol() -> None:
    assert format_money("-10", "USD", language="en") == "−$10.00"
    assert format_money("-10", "USD", language="zh-hans") == "−US$10.00"
    assert format_money("-10", "CHF", language="en") == "−10.00 CHF"
    assert compact_money(-10000, "USD", language="en") == "−$10k"
    assert compact_money(-10000, "USD", language="zh-hans") == "−US$1万"


def test_axis_numbers_use_wan_and_yi_in_chinese_and_si_in_english() -> None:
    assert compact_number(30000, language="zh-hans") == "3万"
    assert compact_number(250000, language="zh-hans") == "25万"
    assert compact_number(125000000, language="zh-hans") == "1.25亿"
    assert compact_number(5000, language="zh-hans") == "5000"
    assert compact_number(30000, language="en") == "30k"
    assert compact_number(250000, language="en") == "250k"
    assert compact_number(1500000, language="en") == "1.5M"
    assert compact_number(0, language="en") == "0"


def test_money_axis_ticks_are_written_by_the_server() -> None:
    assert nice_ticks(-12000, 31000) == [-20000, -10000, 0, 10000, 20000, 30000, 40000]
    with translation.override("zh-hans"):
        axis = money_axis(0, 250000)
        assert axis["ticktext"][:4] == ["US$0", "US$5万", "US$10万", "US$15万"]
    with translation.override("en"):
        axis = money_axis(-10000, 30000)
        assert axis["ticktext"][0] == "−$10k" and "$30k" in axis["ticktext"]
        assert axis["tickmode"] == "array" and "tickformat" not in axis


def test_currency_names_in_the_report_line() -> None:
    with translation.override("en"):
        assert currency_label("USD") == "US dollars (USD)"
        assert currency_label("CHF") == "CHF"
