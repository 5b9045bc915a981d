"""TEND_LOG_FORMAT=json: every line is a JSON object with time, level, logger, message and the
request id; an API key sent with a failing request never reaches the log, in either format."""

import json
import logging
import logging.config

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.observability.logconfig import logging_config, redact


@pytest.fixture
def log_format(capsys):
    """Configure logging like settings.py does for the given format; stderr is captured."""

    def configure(fmt: str) -> None:
        logging.config.dictConfig(logging_config(fmt, "INFO"))

    yield configure
    logging.config.dictConfig(django_settings.LOGGING)


def _lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.mark.django_db
def test_json_lines_parse_and_carry_time_level_logger_message_and_request_id(log_format, capsys):
    log_format("json")
    Client().get("/no/such/page/", headers={"X-Request-ID": "req-123"})  # 404: logged after
    Client().get("/metrics", headers={"X-Request-ID": "req-456"})  # 401: django.request warns
    logging.getLogger("tend.test").error("outside any request")
    lines = _lines(capsys)
    assert lines
    records = [json.loads(line) for line in lines]  # every line parses
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record)
        assert record["time"].endswith("+00:00")
    not_found = next(r for r in records if r["message"] == "Not Found: /no/such/page/")
    assert not_found["request_id"] == "req-123"
    unauthorized = next(r for r in records if r["message"] == "Unauthorized: /metrics")
    assert unauthorized["level"] == "WARNING"
    assert unauthorized["request_id"] == "req-456"
    assert unauthorized["status"] == 401
    assert "request" not in unauthorized  # Django's request object (and its query) is left out
    outside = next(r for r in records if r["logger"] == "tend.test")
    assert "request_id" not in outside


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_an_api_key_in_a_failing_request_never_appears_in_the_log(owner, log_format, capsys, fmt):
    _key, raw = apikey_create(name="leaky", kind="read", by=owner)
    log_format(fmt)
    client = Client(raise_request_exception=False)
    # A 404 with a valid key, a 401 with a broken one, and the key in the query string.
    client.get("/api/v1/customers/999999", headers={"Authorization": f"Bearer {raw}"})
    client.get("/metrics", headers={"Authorization": f"Bearer {raw}x"})
    client.get(f"/api/v1/customers/999998?key={raw}", headers={"Authorization": f"Bearer {raw}"})
    logging.getLogger("tend.test").warning("a task failed with key %s", raw)
    logging.getLogger("tend.test").warning("header was Authorization: Bearer %s", "opaque-token")
    output = "\n".join(_lines(capsys))
    assert "Not Found" in output and "Unauthorized" in output
    assert raw not in output
    assert raw.split("_", 2)[2] not in output  # not even the secret part
    assert "opaque-token" not in output
    assert "[redacted]" in output


def test_redact_keeps_ordinary_text():
    text = "customer tr_acme renewed; Bearer of good news"
    assert redact("GET /customers/42 200") == "GET /customers/42 200"
    assert redact("tw_0123456789abcdef_AbC-_9") == "[redacted]"
    assert redact(text) == "customer tr_acme renewed; Bearer [redacted] good news"
