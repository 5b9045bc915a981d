"""Parse and check Segment messages: the shapes, the limits and the clock-skew correction.

Nothing here touches the database; ``actions`` stores what this module accepts.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

# Segment's own limits (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/).
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
# A gzip body may not inflate beyond this; a small bomb must not fill the memory.
MAX_INFLATED_BYTES = 2 * MAX_BATCH_BYTES
# Timestamps further ahead than this are a broken clock: stored at the arrival time, flagged.
FUTURE_TOLERANCE = timedelta(days=1)
# Timestamps before this are a broken clock too (phones reset to 1970): kept, flagged.
OLDEST = datetime(2000, 1, 1, tzinfo=UTC)

IDENTITY_TYPES = frozenset({"identify", "group", "alias"})
EVENT_TYPES = frozenset({"track", "page", "screen"})
TYPES = IDENTITY_TYPES | EVENT_TYPES


class Rejected(Exception):
    """A message (or a whole request) Tend will not store, with the field at fault."""

    def __init__(self, code: str, reason: str, field: str = "", status: int = 400) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.field = field
        self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "reason": self.reason}


@dataclass
class Message:
    """One accepted Segment message, normalised."""

    index: int
    type: str
    message_id: str
    timestamp: datetime
    user_id: str = ""
    anonymous_id: str = ""
    group_id: str = ""
    previous_id: str = ""
    name: str = ""
    traits: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    flag: str = ""  # "", "future_timestamp" or "old_timestamp"
    original_timestamp: str = ""  # as sent, kept when flagged


def parse_time(value: Any, name: str) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime; None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Rejected("wrong_type", f"{name} must be an ISO 8601 string", name)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Rejected(
            "bad_timestamp", f"{name} is not an ISO 8601 date-time: {value[:40]!r}", name
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _id(raw: dict[str, Any], name: str, max_length: int = 120) -> str:
    value = raw.get(name)
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Rejected("wrong_type", f"{name} must be a string", name)
    text = str(value)
    if len(text) > max_length:
        raise Rejected("too_long", f"{name} is longer than {max_length} characters", name)
    return text


def _object(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Rejected("wrong_type", f"{name} must be a JSON object", name)
    return value


def _text(raw: dict[str, Any], name: str, max_length: int = 200) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Rejected("wrong_type", f"{name} must be a string", name)
    return value.strip()[:max_length]


def event_name(message_type: str, raw: dict[str, Any]) -> str:
    """The event name rollups count: ``event`` for track, Segment's page/screen names otherwise."""
    if message_type == "track":
        name = _text(raw, "event")
        if not name:
            raise Rejected("missing_event", "a track call needs an event name", "event")
        return name
    label = _text(raw, "name") or _text(raw, "category")
    noun = "Page" if message_type == "page" else "Screen"
    return (f"Viewed {label} {noun}" if label else f"Loaded a {noun}")[:200]


def parse_message(
    raw: Any,
    *,
    index: int,
    received_at: datetime,
    default_type: str | None = None,
    batch_sent_at: datetime | None = None,
    batch_context: dict[str, Any] | None = None,
    check_size: bool = False,
) -> Message:
    """Check one message and return it normalised; raise ``Rejected`` naming the field."""
    if not isinstance(raw, dict):
        raise Rejected("wrong_type", "a message must be a JSON object")
    if check_size and len(json.dumps(raw, separators=(",", ":"))) > MAX_MESSAGE_BYTES:
        raise Rejected("too_large", f"a message may not exceed {MAX_MESSAGE_BYTES} bytes")
    message_type = raw.get("type", default_type)
    if default_type and message_type != default_type:
        raise Rejected("wrong_type", f"type must be {default_type!r} on this endpoint", "type")
    if message_type not in TYPES:
        raise Rejected("bad_type", f"type must be one of {', '.join(sorted(TYPES))}", "type")
    user_id = _id(raw, "userId")
    anonymous_id = _id(raw, "anonymousId")
    if message_type == "alias":
        previous_id = _id(raw, "previousId")
        if not previous_id:
            raise Rejected("missing_id", "an alias call needs previousId", "previousId")
        if not user_id:
            raise Rejected("missing_id", "an alias call needs userId", "userId")
    else:
        previous_id = ""
        if not user_id and not anonymous_id:
            raise Rejected("missing_id", "userId or anonymousId is required", "userId")
    context = _object(raw, "context")
    if batch_context:
        context = {**batch_context, **context}
    group_id = _id(raw, "groupId")
    if message_type == "group" and not group_id:
        raise Rejected("missing_id", "a group call needs groupId", "groupId")
    if not group_id and context.get("groupId") is not None:
        group_id = _id(context, "groupId")
    _object(raw, "integrations")
    traits = _object(raw, "traits")
    if not traits and message_type == "identify":
        traits = _object(context, "traits")
    properties = _object(raw, "properties")
    name = event_name(message_type, raw) if message_type in EVENT_TYPES else ""
    message_id = _id(raw, "messageId", max_length=100) or f"tend-{uuid.uuid4()}"
    timestamp, flag = corrected_time(raw, received_at=received_at, batch_sent_at=batch_sent_at)
    return Message(
        index=index,
        type=message_type,
        message_id=message_id,
        timestamp=timestamp,
        user_id=user_id,
        anonymous_id=anonymous_id,
        group_id=group_id,
        previous_id=previous_id,
        name=name,
        traits=traits,
        properties=properties,
        context=context,
        flag=flag,
        original_timestamp=str(raw.get("timestamp") or "")[:40] if flag else "",
    )


def corrected_time(
    raw: dict[str, Any], *, received_at: datetime, batch_sent_at: datetime | None = None
) -> tuple[datetime, str]:
    """When the message happened on the server's clock, and a flag if the clock was broken.

    As Segment does: ``timestamp = receivedAt - (sentAt - timestamp)``, so a device whose clock
    is off by an hour still puts its events at the right moment. Without sentAt the client's
    timestamp is trusted; without a timestamp the arrival time is used.
    """
    timestamp = parse_time(raw.get("timestamp"), "timestamp") or parse_time(
        raw.get("originalTimestamp"), "originalTimestamp"
    )
    sent_at = parse_time(raw.get("sentAt"), "sentAt") or batch_sent_at
    if timestamp is None:
        return received_at, ""
    if sent_at is not None:
        timestamp = received_at - (sent_at - timestamp)
    if timestamp > received_at + FUTURE_TOLERANCE:
        return received_at, "future_timestamp"
    if timestamp < OLDEST:
        return timestamp, "old_timestamp"
    return timestamp, ""
