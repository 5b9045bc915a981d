"""Schemas and helpers shared by every endpoint: money, UTC datetimes, errors and paging."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict


def _to_utc(value: datetime) -> datetime:
    # A datetime without an offset is taken to be UTC; every datetime leaves the API in UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]


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


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"Items per page, 1–{MAX_LIMIT}.")
    offset: int = Field(0, ge=0, description="How many items to skip.")


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
