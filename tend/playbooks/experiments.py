"""Experiments: a playbook's random control group, and whether the playbook works.

Assignment is a pure function of (playbook, customer): a customer always lands in the same
group of the same playbook, across re-entries, workers and restarts, with no state to keep.
"""

from __future__ import annotations

import hashlib
from typing import Literal

GroupName = Literal["treated", "control"]


def assign_bucket(playbook_id: int, customer_id: int) -> float:
    """A number in [0, 100) from sha256 of ``"{playbook_id}:{customer_id}"`` (uniform enough)."""
    digest = hashlib.sha256(f"{playbook_id}:{customer_id}".encode()).digest()
    # The first 8 bytes as an unsigned integer, scaled to [0, 100).
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def assign_group(playbook_id: int, customer_id: int, percent: int | float) -> GroupName:
    """``"control"`` when the customer's bucket is below ``percent`` (the hold-out share), else
    ``"treated"``. Stable: the same arguments always give the same group."""
    if percent <= 0:
        return "treated"
    return "control" if assign_bucket(playbook_id, customer_id) < percent else "treated"
