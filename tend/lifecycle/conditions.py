"""The condition language, as lifecycle rules use it (TEMPORARY shim until h-cond merges)."""

from __future__ import annotations

try:
    from tend.segments.conditions import (  # type: ignore[import-not-found,unused-ignore]
        ConditionError,
        condition_describe,
        condition_parse,
        condition_q,
        customers_matching,
    )
except ImportError:  # pragma: no cover - until h-cond is merged
    from tend.lifecycle._cond_stub import (
        ConditionError,
        condition_describe,
        condition_parse,
        condition_q,
        customers_matching,
    )

__all__ = [
    "ConditionError",
    "condition_describe",
    "condition_parse",
    "condition_q",
    "customers_matching",
]
