"""Parse and check Segment messages: the shapes, the limits and the clock-skew correction.

Nothing here touches the database; ``actions`` stores what this module accepts.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import orjson
from django.conf import settings

# Segment's own limits (https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/).
MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
# A gzip body may not inflate beyond this; a small bomb must not fill the memory.
MAX_INFLATED_BYTES = 2 * MAX_BATCH_BYTES
# Timestamps further ahead than this are a broken clock: stored at the arrival time, flagged.
FUTURE_TOLERANCE = timedelta(days=1)
# Timestamps before this are a broken clock too (phones reset to 1970): kept, flagged.
OLDEST = datetime(2000, 1, 1, tzinfo=UTC)
# Before this no clock meant what it said (Go's zero time is 0001-01-01): arrival time, flagged.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# What one message may hold, checked before anything is written (docs/tracking.md, "Limits").
MAX_DEPTH = 32  # nesting levels; the message object itself is level 1
MAX_KEY_LENGTH = 256  # characters in one object key
MAX_INTEGER = 2**63 - 1  # integers must fit 64 bits signed: jsonb, SQLite JSON, every SDK
MAX_INTEGER_DIGITS = 20  # a longer literal is refused without being converted
# NUL: PostgreSQL text and jsonb cannot hold it. Lone surrogates: not Unicode, unencodable.
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")

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


@dataclass(frozen=True)
class Flag:
    """A change Tend made to a stored message (a cut name, an unknown country…): never silent."""

    code: str
    field: str
    reason: str

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
    flag: str = ""  # the timestamp's: "", "future_timestamp", "old_timestamp", "ancient_timestamp"
    original_timestamp: str = ""  # as sent, kept when flagged
    flags: list[Flag] = field(default_factory=list)  # every change, the timestamp's included


# --- JSON ----------------------------------------------------------------------------------


class BadNumber:
    """A number JSON (and jsonb) cannot carry, kept as its text until its message is checked."""

    def __init__(self, text: str) -> None:
        self.text = text


def _float(text: str) -> float | BadNumber:
    value = float(text)
    return value if math.isfinite(value) else BadNumber(text)  # 1e400 parses as inf


def _int(text: str) -> int | BadNumber:
    # Length first: int() of a 5,000-digit literal is slow and then raises (int_max_str_digits).
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        return BadNumber(text[:24] + "…")
    value = int(text)
    return value if -MAX_INTEGER - 1 <= value <= MAX_INTEGER else BadNumber(text)


def json_parse(body: bytes) -> Any:
    """The body as JSON; numbers JSON cannot carry (NaN, ±Infinity, 1e400, huge integers) become
    ``BadNumber`` so only the message holding one is rejected, not the whole batch. (The
    standard parser: on a realistic 95 KB batch it took 1.3 ms, orjson 1.2 ms plus the scan a
    fallback for out-of-range numbers needs, so orjson is used for sizing messages only.)"""
    try:
        return json.loads(body, parse_constant=BadNumber, parse_float=_float, parse_int=_int)
    except UnicodeDecodeError:
        raise Rejected("bad_json", "the body is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise Rejected(
            "bad_json",
            f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
        ) from None
    except RecursionError:
        raise Rejected(
            "bad_json",
            f"the body is nested too deeply to parse (a message may nest {MAX_DEPTH} levels)",
        ) from None


def _shown(key: str) -> str:
    """An object key as it can be echoed in a path: escaped, and short."""
    shown = key[:40].encode("utf-8", "backslashreplace").decode().replace("\x00", "\\u0000")
    return shown + ("…" if len(key) > 40 else "")


def _bad_text(text: str, path: str) -> Rejected:
    char = BAD_TEXT.search(text)
    assert char is not None
    if char.group() == "\x00":
        why = "contains a NUL character (\\u0000), which Tend cannot store"
    else:
        why = (
            f"contains a lone UTF-16 surrogate (\\u{ord(char.group()):04x}), which is not valid "
            "Unicode text"
        )
    return Rejected("bad_text", f"{path or 'a key'} {why}", path)


def _text_ok(text: str) -> bool:
    # Surrogates are never ASCII: most text is settled by two C-speed scans.
    return "\x00" not in text and (text.isascii() or not BAD_TEXT.search(text))


def _clean(container: dict[str, Any] | list[Any], depth: int) -> bool:
    """Whether a container passes ``value_check``; fast: scalars are checked inline and no
    paths are built (nearly every message passes; ``_locate`` explains the others)."""
    if depth > MAX_DEPTH:
        return False
    if type(container) is dict:
        for key in container:
            if len(key) > MAX_KEY_LENGTH or not _text_ok(key):
                return False
        items: Any = container.values()
    else:
        items = container
    for item in items:
        kind = type(item)
        if kind is str:
            if "\x00" in item or (not item.isascii() and BAD_TEXT.search(item)):
                return False
        elif kind is dict or kind is list:
            if not _clean(item, depth + 1):
                return False
        elif kind is BadNumber:
            return False
    return True


def value_check(value: Any, path: str = "", depth: int = 1) -> None:
    """Refuse what cannot be stored faithfully anywhere in ``value``: NUL and lone surrogates in
    text or keys, keys over MAX_KEY_LENGTH, numbers JSON cannot carry, containers nested past
    MAX_DEPTH (``depth`` is that of ``value``; a message is level 1)."""
    if isinstance(value, dict | list):
        clean = _clean(value, depth)
    else:
        clean = _text_ok(value) if isinstance(value, str) else not isinstance(value, BadNumber)
    if not clean:
        _locate(value, path, depth)
        raise Rejected("bad_value", f"{path or 'the message'} cannot be stored", path)


def _locate(value: Any, path: str, depth: int) -> None:
    """Raise Rejected naming the first thing in ``value`` that ``_clean`` refused."""
    if isinstance(value, str):
        if BAD_TEXT.search(value):
            raise _bad_text(value, path)
    elif isinstance(value, BadNumber):
        raise Rejected(
            "bad_number",
            f"{path} is {value.text}: numbers must be finite and integers within "
            f"±{MAX_INTEGER} (64 bits)",
            path,
        )
    elif isinstance(value, dict | list):
        if depth > MAX_DEPTH:
            raise Rejected("too_deep", f"{path} nests deeper than {MAX_DEPTH} levels", path)
        if isinstance(value, list):
            for n, item in enumerate(value):
                _locate(item, f"{path}[{n}]", depth + 1)
            return
        for key, item in value.items():
            at = f"{path}.{_shown(key)}" if path else _shown(key)
            if BAD_TEXT.search(key):
                raise _bad_text(key, at)
            if len(key) > MAX_KEY_LENGTH:
                raise Rejected(
                    "too_long", f"the key {at} is longer than {MAX_KEY_LENGTH} characters", at
                )
            _locate(item, at, depth + 1)


# --- time ----------------------------------------------------------------------------------


def _since_epoch(value: Any, name: str) -> timedelta | None:
    """An ISO 8601 string as time since 1970 (a timedelta, which cannot overflow where a
    datetime near year 1 or 9999 does); None when absent."""
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
    return parsed - EPOCH


def parse_time(value: Any, name: str) -> datetime | None:
    """An ISO 8601 string as an aware UTC datetime; None when absent; Rejected when it is not
    one or lies outside 1900-01-01 … 9999-12-30."""
    since = _since_epoch(value, name)
    if since is None:
        return None
    if not EARLIEST - EPOCH <= since <= datetime(9999, 12, 30, tzinfo=UTC) - EPOCH:
        raise Rejected(
            "bad_timestamp", f"{name} lies outside 1900-01-01 … 9999-12-30: {value[:40]!r}", name
        )
    return EPOCH + since


def corrected_time(
    raw: dict[str, Any], *, received_at: datetime, batch_sent_at: datetime | None = None
) -> tuple[datetime, str]:
    """When the message happened on the server's clock, and a flag if the clock was broken.

    As Segment does: ``timestamp = receivedAt - (sentAt - timestamp)``, so a device whose clock
    is off by an hour still puts its events at the right moment. Without sentAt the client's
    timestamp is trusted; without a timestamp the arrival time is used. The arithmetic is done
    on time since 1970, so no date a client sends (year 1, year 9999) can overflow it.
    """
    timestamp = _since_epoch(raw.get("timestamp"), "timestamp")
    if timestamp is None:
        timestamp = _since_epoch(raw.get("originalTimestamp"), "originalTimestamp")
    sent_at = _since_epoch(raw.get("sentAt"), "sentAt")
    if sent_at is None and batch_sent_at is not None:
        sent_at = batch_sent_at - EPOCH
    if timestamp is None:
        return received_at, ""
    now = received_at - EPOCH
    if sent_at is not None:
        timestamp = now - (sent_at - timestamp)
    if timestamp > now + FUTURE_TOLERANCE:
        return received_at, "future_timestamp"
    if timestamp < EARLIEST - EPOCH:
        return received_at, "ancient_timestamp"
    at = EPOCH + timestamp
    return (at, "old_timestamp") if at < OLDEST else (at, "")


TIME_FLAGS = {
    "future_timestamp": "timestamp is more than a day in the future; stored at the arrival time",
    "old_timestamp": "timestamp is before 2000-01-01; kept as sent",
    "ancient_timestamp": "timestamp is before 1900-01-01; stored at the arrival time",
}


# --- fields --------------------------------------------------------------------------------


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


def _cut(text: str, max_length: int, name: str, flags: list[Flag]) -> str:
    """``text`` cut to ``max_length`` characters; a cut is flagged, never silent."""
    if len(text) <= max_length:
        return text
    flags.append(
        Flag(
            "truncated",
            name,
            f"{name} was {len(text)} characters; stored cut to {max_length}",
        )
    )
    return text[:max_length]


def _text(raw: dict[str, Any], name: str, max_length: int, flags: list[Flag]) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Rejected("wrong_type", f"{name} must be a string", name)
    return _cut(value.strip(), max_length, name, flags)


def event_name(message_type: str, raw: dict[str, Any], flags: list[Flag] | None = None) -> str:
    """The event name rollups count: ``event`` for track, Segment's page/screen names otherwise."""
    flags = [] if flags is None else flags
    if message_type == "track":
        name = _text(raw, "event", 200, flags)
        if not name:
            raise Rejected("missing_event", "a track call needs an event name", "event")
        return name
    label = _text(raw, "name", 200, flags) or _text(raw, "category", 200, flags)
    noun = "Page" if message_type == "page" else "Screen"
    name = f"Viewed {label} {noun}" if label else f"Loaded a {noun}"
    return _cut(name, 200, "name", flags)


# --- traits --------------------------------------------------------------------------------

CUSTOMER_TRAITS = {"name", "email", "phone", "industry", "employees", "country", "createdAt"}
CONTACT_TRAITS = {"name", "firstName", "lastName", "email", "phone", "title"}
MAX_EMPLOYEES = 2**31 - 1  # the size column (PositiveIntegerField) on every database
# Not names pycountry knows, but what people write.
COUNTRY_ALIASES = {"uk": "GB", "great britain": "GB", "russia": "RU", "turkey": "TR"}


def text_trait(
    traits: dict[str, Any], name: str, max_length: int | None, flags: list[Flag]
) -> str | None:
    """A text trait, stripped and (if ``max_length``) cut to it with a flag; None when absent."""
    value = traits.get(name)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise Rejected("wrong_type", f"traits.{name} must be a string", f"traits.{name}")
    text = str(value).strip()
    return text if max_length is None else _cut(text, max_length, f"traits.{name}", flags)


@cache
def _country_names() -> dict[str, str]:
    """Country names (English and Chinese, as pycountry's ISO 3166 catalogs spell them) → code."""
    import gettext

    import pycountry

    names: dict[str, str] = {}
    translations = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
        for lang in ("zh_CN", "zh_TW", "zh_HK")
    ]
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                for translation in translations:
                    names.setdefault(translation.gettext(name).casefold(), country.alpha_2)
    return names


def country_code(value: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country code (DE, DEU) or name (Germany, 德国); None
    when it is none of these."""
    import pycountry

    text = " ".join(value.split())
    if not text:
        return None
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    key = text.casefold()
    return COUNTRY_ALIASES.get(key) or _country_names().get(key)


def customer_fields(traits: dict[str, Any], *, kind: str) -> tuple[dict[str, Any], list[Flag]]:
    """Customer fields from Segment traits, and a flag for each value Tend changed or could not
    use (that value is kept, as sent, in ``traits``). Raises Rejected for a wrong type."""
    flags: list[Flag] = []
    fields: dict[str, Any] = {}
    extra = {k: v for k, v in traits.items() if k not in CUSTOMER_TRAITS}
    # An email is never cut: a cut address is a wrong one, so it is refused when too long.
    for name, max_length in (("name", 200), ("email", None), ("phone", 40), ("industry", 80)):
        value = text_trait(traits, name, max_length, flags)
        if value is not None:
            fields[name] = value
    employees = traits.get("employees")
    if employees is not None:
        size = _employees(employees)
        if size is None:
            extra["employees"] = employees
            flags.append(
                Flag(
                    "bad_employees",
                    "traits.employees",
                    f"traits.employees must be a whole number from 0 to {MAX_EMPLOYEES}, "
                    f"not {str(employees)[:40]!r}; kept in traits, size left unchanged",
                )
            )
        else:
            fields["size"] = size
    country = text_trait(traits, "country", None, flags)
    if country:
        code = country_code(country)
        if code is None:
            extra["country"] = traits["country"]
            flags.append(
                Flag(
                    "unknown_country",
                    "traits.country",
                    f"traits.country {country[:40]!r} is not an ISO 3166 country code or name; "
                    "kept in traits, country left unchanged",
                )
            )
        else:
            fields["country"] = code
    created = traits.get("createdAt")
    if created is not None and created != "":
        try:
            fields["signed_up_at"] = _created_at(created)
        except Rejected as error:
            extra["createdAt"] = created
            flags.append(
                Flag("bad_created_at", "traits.createdAt", f"{error.reason}; kept in traits")
            )
    if extra:
        fields["traits"] = extra
    if kind == "person" and "name" not in fields:
        first = text_trait(traits, "firstName", 100, flags) or ""
        last = text_trait(traits, "lastName", 100, flags) or ""
        if first or last:
            fields["name"] = f"{first} {last}".strip()
    return fields, flags


def _employees(value: Any) -> int | None:
    """A head count, or None when ``value`` is not a whole number in range; Rejected when it is
    not a number at all."""
    if isinstance(value, bool):
        raise Rejected("wrong_type", "traits.employees must be a number", "traits.employees")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise Rejected(
                "wrong_type", "traits.employees must be a number", "traits.employees"
            ) from None
    if not isinstance(value, int | float):
        raise Rejected("wrong_type", "traits.employees must be a number", "traits.employees")
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    return value if 0 <= value <= MAX_EMPLOYEES else None


def _created_at(value: Any) -> datetime:
    """A sign-up time from ``traits.createdAt``: ISO 8601, 1900 up to a day from now."""
    if not isinstance(value, str):
        raise Rejected("wrong_type", "traits.createdAt must be an ISO 8601 string")
    at = parse_time(value, "traits.createdAt")
    assert at is not None
    if at > datetime.now(UTC) + FUTURE_TOLERANCE:
        raise Rejected("bad_timestamp", f"traits.createdAt is in the future: {value[:40]!r}")
    return at


def contact_fields(traits: dict[str, Any]) -> tuple[dict[str, Any], list[Flag]]:
    """Contact fields from Segment traits, and a flag for each value Tend changed."""
    flags: list[Flag] = []
    fields: dict[str, Any] = {}
    for name, max_length in (("email", None), ("phone", 40), ("title", 120)):
        value = text_trait(traits, name, max_length, flags)
        if value is not None:
            fields[name] = value
    name = text_trait(traits, "name", 200, flags) or ""
    if not name:
        first = text_trait(traits, "firstName", 100, flags) or ""
        last = text_trait(traits, "lastName", 100, flags) or ""
        name = f"{first} {last}".strip()
    if name:
        fields["name"] = name
    extra = {k: v for k, v in traits.items() if k not in CONTACT_TRAITS}
    if extra:
        fields["traits"] = extra
    return fields, flags


def _trait_flags(message_type: str, traits: dict[str, Any]) -> list[Flag]:
    """Check the traits the way the write will read them, so a wrong type is refused and every
    change is flagged before anything is written."""
    b2c = settings.TEND_BUSINESS_MODEL == "b2c"
    if message_type == "identify":
        if b2c:
            return customer_fields(traits, kind="person")[1]
        return contact_fields(traits)[1]
    if message_type == "group" and not b2c:
        return customer_fields(traits, kind="company")[1]
    return []


# --- messages ------------------------------------------------------------------------------


def message_size(raw: dict[str, Any]) -> int:
    """A checked message's size as ``json.dumps(raw, separators=(",", ":"))`` counts it (ASCII,
    escaped), measured exactly only when it could be near ``MAX_MESSAGE_BYTES``: that length is
    at most six times orjson's UTF-8 length (DEL, one byte there, escapes to ``\\u007f``; a
    two-byte character to six), so a message whose orjson form is under a sixth of the limit
    is under it too."""
    try:
        compact = len(orjson.dumps(raw))
    except (TypeError, orjson.JSONEncodeError):
        compact = MAX_MESSAGE_BYTES
    if compact * 6 <= MAX_MESSAGE_BYTES:
        return compact
    return len(json.dumps(raw, separators=(",", ":")))


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
    value_check(raw)
    if check_size and message_size(raw) > MAX_MESSAGE_BYTES:
        raise Rejected("too_large", f"a message may not exceed {MAX_MESSAGE_BYTES} bytes")
    message_type = raw.get("type", default_type)
    if default_type and message_type != default_type:
        raise Rejected("wrong_type", f"type must be {default_type!r} on this endpoint", "type")
    if not isinstance(message_type, str) or message_type not in TYPES:
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
    flags: list[Flag] = []
    name = event_name(message_type, raw, flags) if message_type in EVENT_TYPES else ""
    flags += _trait_flags(message_type, traits)
    message_id = _id(raw, "messageId", max_length=100) or f"tend-{uuid.uuid4()}"
    timestamp, flag = corrected_time(raw, received_at=received_at, batch_sent_at=batch_sent_at)
    if flag:
        flags.insert(0, Flag(flag, "timestamp", TIME_FLAGS[flag]))
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
        flags=flags,
    )
