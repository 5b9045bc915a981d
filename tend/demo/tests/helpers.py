"""Small runs of the generator for tests: a fixed end day, so data do not move with the clock."""

from __future__ import annotations

from datetime import date
from typing import Any

from tend.demo.generator import DemoSummary, demo_generate

END = date(2026, 6, 1)


def generate(business: str = "saas", **options: Any) -> DemoSummary:
    options.setdefault("customers", 150)
    options.setdefault("months", 6)
    options.setdefault("seed", 7)
    options.setdefault("end", END)
    return demo_generate(business=business, **options)
