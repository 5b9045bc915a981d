"""Control-group assignment: stable, stateless, and close to the asked share."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from tend.playbooks.experiments import assign_bucket, assign_group


def test_the_bucket_is_sha256_of_playbook_and_customer() -> None:
    # sha256("7:42") → first 8 bytes as an unsigned integer ÷ 2⁶⁴ × 100
    digest = hashlib.sha256(b"7:42").digest()
    assert assign_bucket(7, 42) == int.from_bytes(digest[:8], "big") / 2**64 * 100


def test_the_same_customer_always_gets_the_same_group() -> None:
    first = [assign_group(3, c, 20) for c in range(500)]
    assert first == [assign_group(3, c, 20) for c in range(500)]


def test_the_share_held_out_is_close_to_the_percent() -> None:
    # 10,000 customers at 20 %: a binomial share within ±1.2 points (≈ 3 standard errors of 0.4).
    control = sum(assign_group(11, c, 20) == "control" for c in range(10_000))
    assert 1_880 <= control <= 2_120


def test_groups_differ_between_playbooks() -> None:
    a = [assign_group(1, c, 50) for c in range(200)]
    b = [assign_group(2, c, 50) for c in range(200)]
    assert a != b


@given(st.integers(1, 2**63 - 1), st.integers(1, 2**63 - 1), st.integers(0, 90))
def test_raising_the_percent_only_moves_customers_into_control(pb: int, c: int, p: int) -> None:
    assert assign_group(pb, c, 0) == "treated"
    if assign_group(pb, c, p) == "control":
        assert assign_group(pb, c, min(p + 10, 100)) == "control"
    assert 0 <= assign_bucket(pb, c) < 100
