"""Money on pages rounds half up, groups thousands and never shows a negative zero."""

from tend.web.templatetags.tend_ui import format_money


def test_money_rounds_half_up_instead_of_cutting_digits_off() -> None:
    assert format_money("1234.5", "USD", decimals=0) == "$1,235"
    assert format_money("99999999.995", "USD") == "$100,000,000.00"
    assert format_money("-12.345", "USD") == "−$12.35"
    assert format_money("-0.004", "USD") == "$0.00"
    assert format_money("7110", "CHF") == "7,110.00 CHF"
    assert format_money(None) == "—"
