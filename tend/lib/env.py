"""Typed readers for ``TEND_*`` environment variables.

Each helper fails loudly with the variable's name when a value cannot be parsed, so a typo
in production configuration stops the process at start-up instead of surfacing later.
"""

from __future__ import annotations

import os
import re
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tend.lib.private import private_dir


class ConfigError(RuntimeError):
    """A ``TEND_*`` variable holds a value that cannot be used."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return the variable as text, or ``default`` when unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """Return the variable as a boolean; accepts 1/0, true/false, yes/no, on/off."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(name: str, default: int) -> int:
    """Return the variable as an integer."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer; got {raw!r}") from None


def env_fraction(name: str, default: str) -> Decimal:
    """Return the variable as a decimal fraction in (0, 1], e.g. 0.8 for 80 %."""
    raw = os.environ.get(name)
    text = default if raw is None or raw.strip() == "" else raw.strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ConfigError(f"{name} must be a number between 0 and 1; got {raw!r}") from None
    if not Decimal(0) < value <= Decimal(1):
        raise ConfigError(f"{name} must be more than 0 and at most 1 (0.8 = 80 %); got {raw!r}")
    return value


def env_decimal(name: str, default: str, *, low: str, high: str) -> Decimal:
    """Return the variable as a decimal between ``low`` and ``high`` (inclusive)."""
    raw = os.environ.get(name)
    text = default if raw is None or raw.strip() == "" else raw.strip()
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ConfigError(f"{name} must be a number; got {raw!r}") from None
    if not Decimal(low) <= value <= Decimal(high):
        raise ConfigError(f"{name} must be between {low} and {high}; got {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list of trimmed, non-empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: set[str]) -> str:
    """Return the variable, which must be one of ``choices``."""
    value = os.environ.get(name, default)
    if value not in choices:
        raise ConfigError(f"{name} must be one of {sorted(choices)}; got {value!r}")
    return value


def data_dir() -> Path:
    """The folder holding the SQLite database, the generated secret key and uploads."""
    path = Path(env_str("TEND_DATA_DIR", "var")).expanduser().resolve()
    return private_dir(path)  # 0700 when Tend creates it


def secret_key(folder: Path) -> tuple[str, bool]:
    """Return ``(key, generated)``: ``TEND_SECRET_KEY`` or a key kept in the data folder.

    The key is created on first run with mode 0600 so a demo install is safe without
    configuration; ``generated`` lets the system check warn when production relies on it.
    """
    key = env_str("TEND_SECRET_KEY")
    if key:
        return key, False
    path = folder / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip(), True


def env_origins(name: str, default: list[str]) -> list[str]:
    """Return a comma list of web origins (``https://www.example.com``, no path), or ``*``."""
    origins = []
    for item in env_list(name, default):
        origin = item.rstrip("/")
        if origin != "*" and not re.fullmatch(r"https?://[^/?#\s*]+", origin):
            raise ConfigError(
                f"{name} must be * or a comma list of origins like https://www.example.com "
                f"(scheme and host, optional port, no path); got {item!r}"
            )
        origins.append(origin)
    return origins
