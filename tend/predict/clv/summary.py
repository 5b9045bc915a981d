"""From purchases to the (x, tₓ, T, m) summary the CLV models take.

``purchase_summary`` turns a table of (customer, purchase datetime, amount) into one row per
customer, for the calibration range of days [start, end):

- purchases are counted by day: several purchases by one customer on one day are one purchase
  day, whose value is the sum of their amounts;
- the first purchase day in the range is the customer's "birth" (it is not a repeat);
- ``frequency`` x = number of repeat purchase days = distinct purchase days − 1;
- ``recency`` tₓ = last purchase day − first purchase day (0 when x = 0);
- ``T`` = last day of the range (end − 1 day) − first purchase day;
- ``monetary_value`` = mean value of the repeat purchase days (0 when x = 0; the first day is
  left out, as the Gamma-Gamma model expects);
- times are in the chosen unit: "day", "week" (7 days) or "month" (365.25/12 days).

With ``holdout_end`` it also counts, per customer, the distinct purchase days in
[end, holdout_end) (``holdout_frequency``; all are repeat purchases), for checking a model's
predictions against what happened next.

Pure pandas/numpy; datetimes are taken at their calendar day as given (convert time zones first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from tend.predict.clv._common import FloatArray

Unit = Literal["day", "week", "month"]

#: Days in one period of each unit.
DAYS_PER_UNIT: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12.0}


@dataclass(frozen=True)
class PurchaseSummary:
    """One row per customer first seen in [start, end), arrays aligned by position."""

    customers: npt.NDArray[Any]
    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray
    start: dt.date | None
    end: dt.date
    unit: str
    holdout_frequency: FloatArray | None = None
    holdout_length: float | None = None

    def __len__(self) -> int:
        return int(self.frequency.size)

    @property
    def n_repeaters(self) -> int:
        return int((self.frequency > 0).sum())

    def to_frame(self) -> pd.DataFrame:
        data: dict[str, Any] = {
            "frequency": self.frequency,
            "recency": self.recency,
            "T": self.T,
            "monetary_value": self.monetary_value,
        }
        if self.holdout_frequency is not None:
            data["holdout_frequency"] = self.holdout_frequency
        return pd.DataFrame(data, index=pd.Index(self.customers, name="customer"))


def _as_day(value: Any, field: str) -> dt.date:
    if value is None:
        raise ValueError(f"{field}: missing")
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field}: not a date ({exc})") from exc
    if pd.isna(ts):
        raise ValueError(f"{field}: missing")
    day: dt.date = ts.date()
    return day


def _table(
    transactions: pd.DataFrame | Iterable[tuple[Any, Any, Any]],
    customer: str,
    when: str,
    amount: str,
) -> pd.DataFrame:
    if isinstance(transactions, pd.DataFrame):
        missing = [c for c in (customer, when, amount) if c not in transactions.columns]
        if missing:
            raise ValueError(f"{', '.join(missing)}: no such column")
        df = pd.DataFrame(
            {
                "customer": transactions[customer].to_numpy(),
                "when": transactions[when].to_numpy(),
                "amount": transactions[amount].to_numpy(),
            }
        )
    else:
        rows = list(transactions)
        for row in rows[:1]:
            if len(row) != 3:
                raise ValueError(
                    f"transactions: expected (customer, when, amount) rows, got {len(row)} values"
                )
        df = pd.DataFrame(rows, columns=["customer", "when", "amount"])
    if df["customer"].isna().any():
        raise ValueError("customer: missing")
    try:
        days = pd.to_datetime(df["when"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"when: not a date/time ({exc})") from exc
    if days.isna().any():
        raise ValueError("when: missing")
    if getattr(days.dt, "tz", None) is not None:
        days = days.dt.tz_localize(None)
    try:
        amounts = pd.to_numeric(df["amount"]).astype("float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"amount: not numbers ({exc})") from exc
    if amounts.isna().any():
        raise ValueError("amount: contains NaN")
    if not np.isfinite(amounts.to_numpy()).all():
        raise ValueError("amount: contains an infinite value")
    if (amounts < 0).any():
        raise ValueError("amount: negative value (leave refunds out)")
    return pd.DataFrame({"customer": df["customer"], "day": days.dt.normalize(), "amount": amounts})


def purchase_summary(
    transactions: pd.DataFrame | Iterable[tuple[Any, Any, Any]],
    *,
    end: dt.date | dt.datetime | str,
    start: dt.date | dt.datetime | str | None = None,
    unit: Unit = "week",
    holdout_end: dt.date | dt.datetime | str | None = None,
    customer: str = "customer",
    when: str = "when",
    amount: str = "amount",
) -> PurchaseSummary:
    """The calibration summary of ``transactions`` over the days [start, end) (see the module doc).

    ``transactions``: a DataFrame with columns ``customer``, ``when``, ``amount`` (other names
    via the keyword arguments) or an iterable of (customer, when, amount) tuples. ``start`` None
    means from the earliest purchase. Purchases before ``start`` are ignored (a customer's first
    purchase in the range is their first), so pass the start of the history for true cohorts.
    Customers are sorted by id. No purchases in range → an empty summary (the fits then raise).
    """
    if unit not in DAYS_PER_UNIT:
        raise ValueError(f"unit: must be one of {', '.join(DAYS_PER_UNIT)}, got {unit!r}")
    end_day = _as_day(end, "end")
    start_day = _as_day(start, "start") if start is not None else None
    if start_day is not None and start_day >= end_day:
        raise ValueError("start: must be before end")
    hold_day = _as_day(holdout_end, "holdout_end") if holdout_end is not None else None
    if hold_day is not None and hold_day < end_day:
        raise ValueError("holdout_end: must not be before end")
    per = DAYS_PER_UNIT[unit]

    df = _table(transactions, customer, when, amount)
    end_ts = pd.Timestamp(end_day)
    in_range = df["day"] < end_ts
    if start_day is not None:
        in_range &= df["day"] >= pd.Timestamp(start_day)
    cal = df[in_range]
    # One row per (customer, purchase day), the day's total value.
    days = cal.groupby(["customer", "day"], sort=True)["amount"].sum().reset_index()
    g = days.groupby("customer", sort=True)
    first = g["day"].min()
    last = g["day"].max()
    n_days = g["day"].size()
    total = g["amount"].sum()
    first_value = days.drop_duplicates("customer", keep="first").set_index("customer")["amount"]

    last_day = end_ts - pd.Timedelta(days=1)
    x = (n_days - 1).to_numpy(dtype=np.float64)
    tx = ((last - first).dt.days.to_numpy(dtype=np.float64)) / per
    t_ = ((last_day - first).dt.days.to_numpy(dtype=np.float64)) / per
    with np.errstate(invalid="ignore", divide="ignore"):
        mv = np.where(
            x > 0,
            (total - first_value.reindex(total.index)).to_numpy(dtype=np.float64)
            / np.maximum(x, 1),
            0.0,
        )

    holdout = None
    holdout_length = None
    if hold_day is not None:
        hold = df[(df["day"] >= end_ts) & (df["day"] < pd.Timestamp(hold_day))]
        counts = hold.drop_duplicates(["customer", "day"]).groupby("customer").size()
        holdout = counts.reindex(first.index, fill_value=0).to_numpy(dtype=np.float64)
        holdout_length = (hold_day - end_day).days / per

    return PurchaseSummary(
        customers=first.index.to_numpy(),
        frequency=x,
        recency=tx,
        T=t_,
        monetary_value=np.asarray(mv, dtype=np.float64),
        start=start_day,
        end=end_day,
        unit=unit,
        holdout_frequency=holdout,
        holdout_length=holdout_length,
    )
