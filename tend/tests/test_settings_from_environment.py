"""Settings come from TEND_* variables and fail loudly on bad values."""

import os
import subprocess
import sys
from decimal import Decimal

import pytest

from tend.lib.env import ConfigError, env_bool, env_decimal, env_fraction, env_int, env_list


def test_booleans_accept_the_usual_spellings(monkeypatch):
    for raw, expected in [("1", True), ("yes", True), ("On", True), ("0", False), ("off", False)]:
        monkeypatch.setenv("TEND_X", raw)
        assert env_bool("TEND_X") is expected


def test_a_bad_boolean_names_the_variable(monkeypatch):
    monkeypatch.setenv("TEND_DEBUG", "maybe")
    with pytest.raises(ConfigError, match="TEND_DEBUG"):
        env_bool("TEND_DEBUG")


def test_a_bad_integer_names_the_variable(monkeypatch):
    monkeypatch.setenv("TEND_N", "ten")
    with pytest.raises(ConfigError, match="TEND_N"):
        env_int("TEND_N", 1)


def test_lists_are_comma_separated_and_trimmed(monkeypatch):
    monkeypatch.setenv("TEND_ALLOWED_HOSTS", " a.example.com, ,b.example.com ")
    assert env_list("TEND_ALLOWED_HOSTS", []) == ["a.example.com", "b.example.com"]


def test_fractions_and_bounded_decimals_name_the_variable(monkeypatch):
    monkeypatch.setenv("TEND_GROSS_MARGIN", "0.65")
    assert env_fraction("TEND_GROSS_MARGIN", "0.8") == Decimal("0.65")
    for bad in ("65", "0", "lots"):
        monkeypatch.setenv("TEND_GROSS_MARGIN", bad)
        with pytest.raises(ConfigError, match="TEND_GROSS_MARGIN"):
            env_fraction("TEND_GROSS_MARGIN", "0.8")
    monkeypatch.setenv("TEND_CLV_GROWTH_RATE", "-0.5")
    assert env_decimal("TEND_CLV_GROWTH_RATE", "0", low="-0.99", high="1") == Decimal("-0.5")
    monkeypatch.setenv("TEND_CLV_GROWTH_RATE", "-1")
    with pytest.raises(ConfigError, match="TEND_CLV_GROWTH_RATE"):
        env_decimal("TEND_CLV_GROWTH_RATE", "0", low="-0.99", high="1")


def _check(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("TEND_")}
    full.update({"TEND_DATA_DIR": str(tmp_path), **env})
    full.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.run(
        [sys.executable, "-m", "tend.cli", "check", "--fail-level", "ERROR"],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unsupported_database_url_stops_start_up_with_its_name(tmp_path):
    result = _check({"TEND_DATABASE_URL": "mysql://root@localhost/tend"}, tmp_path)
    assert result.returncode != 0
    assert "TEND_DATABASE_URL" in result.stderr


def test_debug_on_a_public_host_is_an_error_with_a_stable_id(tmp_path):
    result = _check({"TEND_DEBUG": "1", "TEND_ALLOWED_HOSTS": "tend.example.com"}, tmp_path)
    assert result.returncode != 0
    assert "tend.E001" in result.stderr


def test_a_public_host_without_a_secret_key_or_https_is_warned_about(tmp_path):
    result = _check({"TEND_ALLOWED_HOSTS": "tend.example.com"}, tmp_path)
    assert result.returncode == 0
    assert "tend.W002" in result.stderr and "tend.W003" in result.stderr


def test_a_generated_secret_key_is_kept_private_in_the_data_folder(tmp_path):
    result = _check({}, tmp_path)
    assert result.returncode == 0, result.stderr
    key = tmp_path / "secret_key"
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600


def test_a_file_email_url_writes_each_email_into_a_folder_under_the_data_folder(tmp_path):
    full = {k: v for k, v in os.environ.items() if not k.startswith("TEND_")}
    full.update({"TEND_DATA_DIR": str(tmp_path), "TEND_EMAIL_URL": "file:sent-mail"})
    full.pop("PYTEST_CURRENT_TEST", None)
    code = (
        "from django.core.mail import send_mail; send_mail('Hi', 'Body', 'a@x.test', ['b@x.test'])"
    )
    result = subprocess.run(
        [sys.executable, "-m", "tend.cli", "shell", "-c", code],
        env=full, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [written] = (tmp_path / "sent-mail").iterdir()
    assert "Subject: Hi" in written.read_text()


def test_an_unknown_email_url_names_the_variable(tmp_path):
    result = _check({"TEND_EMAIL_URL": "carrier-pigeon://coop"}, tmp_path)
    assert result.returncode != 0
    assert "TEND_EMAIL_URL" in result.stderr
