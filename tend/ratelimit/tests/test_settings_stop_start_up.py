"""A rate-limit, lockout or retention setting Tend cannot use stops start-up with its name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TEND_RATE_LIMIT_TRACKING", "fast"),
        ("TEND_RATE_LIMIT_LOGIN", "10/w"),
        ("TEND_LOGIN_LOCKOUT_MINUTES", "0"),
        ("TEND_PROXY_COUNT", "-1"),
        ("TEND_IMPORT_FILE_RETENTION_DAYS", "-2"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(
    name: str, value: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEND_")}
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(TEND_DATA_DIR=str(tmp_path), **{name: value})
    result = subprocess.run(
        [sys.executable, "-m", "tend.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert name in result.stderr
    assert repr(value) in result.stderr or value in result.stderr
