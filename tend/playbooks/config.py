"""Readers of trigger and step settings shared by the built-in triggers and actions: each
returns the cleaned value or raises ``ConfigError`` naming the setting."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from tend.customers.models import Stage
from tend.playbooks.registry import ConfigError


def config_text(config: dict[str, Any], name: str, *, required: bool, limit: int) -> str:
    raw = config.get(name, "")
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise ConfigError(_("Give text."), field=name)
    if "\x00" in raw or any(0xD800 <= ord(ch) <= 0xDFFF for ch in raw):
        raise ConfigError(_("The text holds characters that cannot be stored."), field=name)
    text = raw.strip()
    if required and not text:
        raise ConfigError(_("This cannot be empty."), field=name)
    if len(text) > limit:
        raise ConfigError(_("At most %(n)s characters.") % {"n": limit}, field=name)
    return text


def config_int(
    config: dict[str, Any], name: str, low: int, high: int, default: int | None = None
) -> int:
    """A whole number in [low, high]; "12" and 12.0 are read as 12, True is not a number."""
    raw = config.get(name, default)
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) < 10:
        raw = int(raw.strip())
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise ConfigError(
            _("Give a whole number from %(low)s to %(high)s.") % {"low": low, "high": high},
            field=name,
        )
    return raw


def stage_label(value: str) -> str:
    """A stage's name in the reader's language; an unknown value as it is."""
    try:
        return str(Stage(value).label)
    except ValueError:
        return value
