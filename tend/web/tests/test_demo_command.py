"""`tend demo` (what `make demo` runs): set up once, print a login, reuse everything next time."""

import os
import re
import subprocess
import sys

import pytest


def _demo(tmp_path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEND_")}
    env.pop("PYTEST_CURRENT_TEST", None)
    env["TEND_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tend.cli",
            "demo",
            "--no-serve",
            "--customers",
            "40",
            "--months",
            "3",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_demo_sets_up_a_populated_database_and_prints_a_login_that_works(tmp_path):
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "http://127.0.0.1:8000/" in first.stdout
    password = re.search(r"Password\s+(\S+)", first.stdout)
    assert password is not None
    assert (tmp_path / "tend.sqlite3").exists()
    login_file = tmp_path / "demo-login.txt"
    assert (login_file.stat().st_mode & 0o777) == 0o600
    assert login_file.read_text() == f"username: owner\npassword: {password.group(1)}\n"

    second = _demo(tmp_path)
    assert second.returncode == 0, second.stderr
    assert "Reusing 40 customers" in second.stdout
    assert re.search(r"Password\s+(\S+)", second.stdout).group(1) == password.group(1)

    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='tend.settings';"
            "django.setup();"
            "from django.contrib.auth import authenticate;"
            f"print(bool(authenticate(username='owner', password={password.group(1)!r})))",
        ],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("TEND_")},
            "TEND_DATA_DIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.stdout.strip() == "True", check.stderr
