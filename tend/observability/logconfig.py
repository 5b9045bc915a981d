"""Logging configuration: plain text (the default) or one JSON object a line.

``TEND_LOG_FORMAT=json`` writes every line as a JSON object with ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message``, ``request_id`` when the line was written while a web
request was being answered, and ``exc_info`` for a traceback. Nothing else from the log
record is copied: Django attaches the whole request to its ``django.request`` lines, and its
text (the query string) is left out on purpose.

Both formats pass the finished line through ``redact``: anything shaped like a Tend API key
(``tw_…``, ``tr_…``, ``trw_…``) and the credential after ``Bearer``/``Basic`` is replaced, so a
key that lands in an exception message or a URL never reaches the log.

This module is imported by ``tend/settings.py``: it must not import Django models.
"""

from __future__ import annotations

import contextvars
import logging
import re
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# The id of the request being answered in this thread (tend.observability.middleware).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("tend_request_id", default="")

_SECRETS = re.compile(
    r"\b(?:tw|tr|trw)_[0-9a-f]{16}_[A-Za-z0-9_\-]+"  # Tend API keys (tend.accounts.models)
    r"|(?i:\b(?:bearer|basic)\s+)[^\s\"',;]+"  # Authorization header values
)


def redact(text: str) -> str:
    """``text`` with API keys and Authorization credentials replaced by ``[redacted]``."""

    def _replace(match: re.Match[str]) -> str:
        value = match.group(0)
        head, sep, _tail = value.partition(" ")
        if sep and head.lower() in {"bearer", "basic"}:
            return f"{head} [redacted]"
        return "[redacted]"

    return _SECRETS.sub(_replace, text)


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` ("" outside a request) for the formatters."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django writes "Not Found: …" after the middleware has finished, with the request
        # attached: its id is on the request then.
        request = getattr(record, "request", None)
        record.request_id = request_id_var.get() or getattr(request, "tend_request_id", "")
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(_JsonFormatter):
    """One JSON object a line with a fixed set of keys (see the module docstring)."""

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        request_id = getattr(record, "request_id", "")
        if request_id:
            log_data["request_id"] = request_id
        status = getattr(record, "status_code", None)
        if isinstance(status, int):
            log_data["status"] = status
        if message_dict.get("exc_info"):
            log_data["exc_info"] = message_dict["exc_info"]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """The ``LOGGING`` dict for ``log_format`` ("text" or "json") at ``level``."""
    formatter: dict[str, Any] = (
        {"()": "tend.observability.logconfig.JsonFormatter"}
        if log_format == "json"
        else {"()": "tend.observability.logconfig.TextFormatter"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "tend.observability.logconfig.RequestIdFilter"}},
        "formatters": {"tend": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "tend",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},
    }
