"""Schemas and helpers shared by every endpoint: money, UTC datetimes, errors and paging.

Input types are strict and declare in the OpenAPI document every bound the server enforces,
so that what the document calls valid is accepted and what it calls invalid is refused:
integers are JSON integers (query parameters: digits only), booleans are ``true``/``false``,
datetimes and dates are ISO 8601 text (never a number of seconds), amounts are decimal strings.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Strict, WithJsonSchema
from pydantic import Field as PydanticField


def _to_utc(value: datetime) -> datetime:
    # A datetime without an offset is taken to be UTC; every datetime leaves the API in UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in the year 0 in UTC
        raise ValueError("The time in UTC is outside the years 1–9999.") from None


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_text(pattern: re.Pattern[str], kind: type, example: str) -> Any:
    def check(value: Any) -> Any:
        # pydantic would read 0 or "0.5" as seconds since 1970; the API takes ISO 8601 only.
        if isinstance(value, kind) or (isinstance(value, str) and pattern.match(value)):
            return value
        raise ValueError(f"Give ISO 8601 text such as {example}.")

    return BeforeValidator(check)


UtcDatetime = Annotated[
    datetime,
    _iso_text(_ISO_DATETIME, datetime, "2025-01-31T09:30:00Z"),
    AfterValidator(_to_utc),
]
IsoDate = Annotated[date, _iso_text(_ISO_DATE, date, "2025-01-31")]


def _query_int(value: Any) -> Any:
    # Query parameters arrive as text; pydantic's lax mode also takes "1.0", " 5" and "1_000".
    if isinstance(value, str) and not re.fullmatch(r"-?[0-9]+", value):
        raise ValueError("Give a whole number in digits.")
    return value


def _query_bool(value: Any) -> Any:
    # Lax pydantic also takes yes/no/on/off/1/0; the document says boolean: true or false.
    if isinstance(value, str) and value not in ("true", "false"):
        raise ValueError("Give true or false.")
    return value


# Ids are positive 64-bit integers, like the database's: larger ones are a 422, not a 500.
MAX_ID = 2**63 - 1
StrictInt = Annotated[int, Strict()]
StrictBool = Annotated[bool, Strict()]
QueryInt = Annotated[int, BeforeValidator(_query_int)]
QueryBool = Annotated[bool, BeforeValidator(_query_bool)]
Id = Annotated[StrictInt, PydanticField(ge=1, le=MAX_ID)]
# Constraints before the validator: after one, pydantic writes "ge"/"le" into the document.
QueryId = Annotated[int, PydanticField(ge=1, le=MAX_ID), BeforeValidator(_query_int)]
PathId = QueryId  # path parameters arrive as text too


class DecimalText:
    """Metadata for ``Annotated[Decimal, DecimalText(pattern)]``: the Decimal must arrive as a
    string matching ``pattern`` (a JSON number is a float on the way in: 0.1 + 0.2 …), and the
    document says so."""

    def __init__(self, pattern: str, example: str, **schema: Any) -> None:
        self.pattern = pattern
        self.schema = {"type": "string", "pattern": pattern, "examples": [example], **schema}

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        def check(value: Any) -> Any:
            if isinstance(value, Decimal):
                return value
            if isinstance(value, str) and re.fullmatch(self.pattern, value):
                return value
            raise ValueError(f"Give a decimal string matching {self.pattern}.")

        return core_schema.no_info_before_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(self, core: Any, handler: Any) -> dict[str, Any]:
        return dict(self.schema)


# Money as the API takes it: at most 10 digits before the point and 2 after (the columns'
# ``max_digits=12, decimal_places=2``), never negative.
AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
Amount = Annotated[Decimal, DecimalText(AMOUNT_PATTERN, "120.50")]

# Country codes: ISO 3166-1 alpha-2, any case (stored in capitals), or empty for none.
COUNTRY_PATTERN = r"^([A-Za-z]{2})?$"
Country = Annotated[
    str,
    PydanticField(
        pattern=COUNTRY_PATTERN, description="ISO 3166-1 alpha-2 code (stored in capitals)."
    ),
    AfterValidator(str.upper),
]
# A plan code is a slug (``Plan.code``), a username Django's (``[\w.@+-]``, ASCII here).
PLAN_CODE_PATTERN = r"^[-a-zA-Z0-9_]{1,60}$"
USERNAME_PATTERN = r"^[-a-zA-Z0-9_.@+]{1,150}$"
PlanCode = Annotated[str, PydanticField(pattern=PLAN_CODE_PATTERN, description="Plan code.")]
Username = Annotated[str, PydanticField(pattern=USERNAME_PATTERN, description="Username.")]
TagName = Annotated[str, PydanticField(min_length=1, max_length=50, description="Tag name.")]


class Money(Schema):
    """An amount as a decimal string (never a float) and its ISO 4217 currency."""

    amount: Decimal = Field(..., examples=["49.00"])
    currency: str = Field(..., examples=["USD"])


def money(amount: Decimal | None, currency: str) -> dict[str, Any] | None:
    if amount is None:
        return None
    return {"amount": amount, "currency": currency}


# Default of PATCH fields: a field not sent is left out by ``exclude_unset``, and an explicit
# null is still validated against the field's type. Typed Any so ``name: str = Field(UNSET)``
# type-checks.
UNSET: Any = None


class InputSchema(Schema):
    """Request bodies: an unknown field is an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class FieldErrorOut(Schema):
    field: str | None = Field(..., description="The field at fault, e.g. `email`, `limit`.")
    message: str
    code: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldErrorOut] = []


# Documented on every operation; the shapes come from tend.api.errors.
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
ERRORS_404: dict[int, Any] = {**ERRORS, 404: ErrorOut}
ERRORS_409: dict[int, Any] = {**ERRORS_404, 409: ErrorOut}

MAX_LIMIT = 200


MAX_OFFSET = 1_000_000_000


class PageParams(Schema):
    limit: QueryInt = Field(50, ge=1, le=MAX_LIMIT, description=f"Items per page, 1–{MAX_LIMIT}.")
    offset: QueryInt = Field(
        0, ge=0, le=MAX_OFFSET, description=f"How many items to skip, 0–{MAX_OFFSET:,}."
    )


class Page(Schema):
    """A page of a list; ``count`` is the total matching the filters."""

    count: int
    limit: int
    offset: int


def paginate(qs: QuerySet[Any], paging: PageParams) -> dict[str, Any]:
    """One page of ``qs`` in the list envelope: two queries plus the queryset's prefetches."""
    return {
        "items": list(qs[paging.offset : paging.offset + paging.limit]),
        "count": qs.count(),
        "limit": paging.limit,
        "offset": paging.offset,
    }


def _email(value: str) -> str:
    if len(value) > 254:
        raise ValueError("An email address has at most 254 characters.")
    if value:
        try:
            validate_email(value)  # Django's own check, the one the model applies
        except DjangoValidationError:
            raise ValueError("Enter a valid email address.") from None
    return value


# An email address (``format: email``, checked like Django's EmailField) or empty for none.
Email = Annotated[
    str,
    AfterValidator(_email),
    WithJsonSchema(
        {"type": "string", "maxLength": 254, "anyOf": [{"format": "email"}, {"maxLength": 0}]}
    ),
]
