"""The CDNOW sample (tests/data/cdnow/, see its README) as the CLV tests use it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

CDNOW = Path(__file__).parent / "data" / "cdnow"


@cache
def transactions() -> pd.DataFrame:
    """CDNOW_sample.txt: one row per order; ``customer`` is the sample's 1..2357 id."""
    raw = pd.read_csv(
        CDNOW / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer", "date", "cds", "amount"],
        dtype={"date": str},
    )
    raw["when"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw


@cache
def published_summary() -> pd.DataFrame:
    """cdnow_customers_summary_with_transactions.csv: ID, x, t_x, T (weeks), zbar."""
    return pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")


@cache
def published_rft() -> pd.DataFrame:
    """cdnow_customers_summary.csv: ID, frequency, recency, T (weeks, 2 decimals)."""
    return pd.read_csv(CDNOW / "cdnow_customers_summary.csv")


def xtt() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = published_rft()
    return (
        d["frequency"].to_numpy(dtype=float),
        d["recency"].to_numpy(dtype=float),
        d["T"].to_numpy(dtype=float),
    )
