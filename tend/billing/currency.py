"""Converting subscription money into the reporting currency with the stored exchange rates.

The rule (docs/metrics.md, *Currencies*): an amount in currency C at moment t is multiplied by
the rate of C whose ``valid_from`` is the latest on or before t's date (UTC), and rounded to
the cent, half up. There is no rate before a currency's first one: a date that no rate covers
is refused with ``CurrencyError``, never converted with a rate from the future. Amounts in the
reporting currency (``TEND_CURRENCY``) and amounts of zero never need a rate.

Nothing here writes; ``RateBook`` reads the (small) rate table once, so bulk loaders convert
thousands of rows with one query.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal

from django.conf import settings

from tend.billing.models import ExchangeRate
from tend.lib.money import to_cents


def reporting_currency() -> str:
    """The currency every MRR figure is kept in (``TEND_CURRENCY``)."""
    return str(settings.TEND_CURRENCY).upper()


def day_of(at: datetime | date) -> date:
    """The UTC calendar day of a moment (a date is its own day)."""
    if isinstance(at, datetime):
        return at.astimezone(UTC).date() if at.tzinfo is not None else at.date()
    return at


class CurrencyError(ValueError):
    """No exchange rate covers this currency on this day, so the amount cannot be counted."""

    def __init__(self, *, currency: str, day: date) -> None:
        self.currency = currency
        self.day = day
        reporting = reporting_currency()
        super().__init__(
            f"currency: no exchange rate for {currency} on {day.isoformat()}, so its MRR "
            f"cannot be counted in {reporting}. Add a rate in force on that day with "
            f"`tend rates set {currency} <{reporting} per 1 {currency}> --from "
            f"{day.isoformat()}` or on the Exchange rates page (/billing/rates/), then send "
            "the change again."
        )

    @property
    def value(self) -> str:
        """``EUR 2026-01-15``: the currency and the day, as an import's rejected value."""
        return f"{self.currency} {self.day.isoformat()}"


class RateBook:
    """Every stored rate, by currency and start day; converts amounts without further queries."""

    def __init__(self, rates: Iterable[tuple[str, date, Decimal]]) -> None:
        # Read once: bulk loaders convert every subscription of thousands of customers.
        self._reporting = reporting_currency()
        by: dict[str, list[tuple[date, Decimal]]] = {}
        for currency, valid_from, rate in rates:
            by.setdefault(currency.upper(), []).append((valid_from, rate))
        self._days: dict[str, list[date]] = {}
        self._rates: dict[str, list[Decimal]] = {}
        for currency, items in by.items():
            items.sort()
            self._days[currency] = [d for d, _r in items]
            self._rates[currency] = [r for _d, r in items]

    @classmethod
    def load(cls, currencies: Iterable[str] | None = None) -> RateBook:
        """The stored rates (of ``currencies`` only, when given): one query, none if not needed."""
        qs = ExchangeRate.objects.all()
        if currencies is not None:
            wanted = {c.upper() for c in currencies} - {reporting_currency()}
            if not wanted:
                return cls([])
            qs = qs.filter(currency__in=sorted(wanted))
        return cls(qs.values_list("currency", "valid_from", "rate"))

    def rate(self, currency: str, at: datetime | date) -> Decimal:
        """Reporting-currency units per 1 ``currency`` on ``at``'s day; raises CurrencyError."""
        code = currency.upper()
        if code == self._reporting:
            return Decimal(1)
        day = day_of(at)
        days = self._days.get(code, [])
        i = bisect_right(days, day)
        if i == 0:
            raise CurrencyError(currency=code, day=day)
        return self._rates[code][i - 1]

    def covers(self, currency: str, at: datetime | date) -> bool:
        """True when ``currency`` can be converted on ``at``'s day."""
        try:
            self.rate(currency, at)
        except CurrencyError:
            return False
        return True

    def convert(self, amount: Decimal, currency: str, at: datetime | date) -> Decimal:
        """``amount`` of ``currency`` in the reporting currency on ``at``, to the cent (half up)."""
        if amount == 0 or currency.upper() == self._reporting:
            return to_cents(amount)
        value = Decimal(amount) * self.rate(currency, at)
        return to_cents(value)


def to_reporting(amount: Decimal, currency: str, at: datetime | date) -> Decimal:
    """``amount`` of ``currency`` at ``at`` in the reporting currency: amount × the rate in force
    on that day (the latest rate whose ``valid_from`` ≤ the day), rounded to the cent, half up.

    Raises CurrencyError naming the currency and the day when no rate covers it. Reads at most
    one query; never writes.
    """
    return RateBook.load([currency]).convert(amount, currency, at)
