"""REST endpoints for saved segments: list, create, read, change, delete, members, history,
the live count of a condition and the catalog of fields and operators.

Authorised by tend.api.auth before they run (read keys and viewers only read; POST /count
reads but needs a write-capable caller like every POST). Writes go
through tend.segments.actions; an invalid condition is a 422 naming ``condition.<path>``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from tend.api.auth import Principal
from tend.api.errors import UNKNOWN, FieldError
from tend.api.schemas import ERRORS, ERRORS_404, ERRORS_409, PageParams, PathId, paginate
from tend.segments.actions import segment_create, segment_delete, segment_update
from tend.segments.conditions import (
    ConditionError,
    condition_catalog,
    condition_describe,
    condition_parse,
    customers_matching,
)
from tend.segments.fields import TRAIT_PREFIX, condition_fields
from tend.segments.models import Segment
from tend.segments.queries import (
    daily_history,
    members_page_qs,
    moves_by_segment,
)
from tend.segments.schemas import (
    CountIn,
    CountOut,
    FieldOut,
    HistoryOut,
    HistoryQuery,
    MemberPage,
    SegmentIn,
    SegmentOut,
    SegmentPage,
    SegmentPatch,
    condition_json,
)

router = Router(tags=["segments"])


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def _rule(segment: Segment) -> str:
    try:
        return condition_describe(segment.condition)
    except ConditionError as exc:
        return exc.text()


def _decorate(segments: list[Segment], *, rule: bool = True) -> list[Segment]:
    """Attach each segment's 30-day change (one query for the page) and, for single reads,
    its sentence."""
    moves = moves_by_segment([s.pk for s in segments])
    for segment in segments:
        found = moves.get(segment.pk)
        segment.change_30d = {  # type: ignore[attr-defined]
            "entered": found.entered if found else 0,
            "left": found.left if found else 0,
        }
        segment.rule = _rule(segment) if rule else None  # type: ignore[attr-defined]
    return segments


def _segment(pk: int) -> Segment:
    segment = Segment.objects.select_related("created_by").filter(pk=pk).first()
    if segment is None:
        raise Http404(f"Segment {pk} not found.")
    return segment


def _condition_code(field: str) -> str:
    """``unknown`` for a field nobody registered, else ``range``: the request has the shape the
    document describes, but its field, operator and value are not valid together (or name a
    plan or segment that is not stored)."""
    if field and not field.startswith(TRAIT_PREFIX) and field not in condition_fields:
        return UNKNOWN
    return "range"


def _with_condition_path(exc: ValidationError) -> ValidationError:
    """The action's error with ``condition`` renamed ``condition.<path>`` (where it failed)."""
    renamed: dict[str, list[ValidationError]] = {}
    for field, errors in exc.error_dict.items():
        for error in errors:
            key = field
            if field == "condition":
                params = error.params or {}
                path = params.get("path")
                key = f"condition.{path}" if path else "condition"
                code = _condition_code(str(params.get("field", "")))
                error = ValidationError(error.message, code, params)
            renamed.setdefault(key, []).append(error)
    return ValidationError(renamed)


def _condition_error(exc: ConditionError) -> FieldError:
    field = f"condition.{exc.path}" if exc.path else "condition"
    return FieldError(field, exc.text(), code=_condition_code(exc.field))


@router.get("/segments", response={200: SegmentPage, **ERRORS})
def segment_list(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    """Saved segments by name, with members at the last refresh and the 30-day change."""
    page = paginate(Segment.objects.select_related("created_by").order_by("name", "pk"), paging)
    page["items"] = _decorate(page["items"], rule=False)
    return page


@router.post("/segments", response={201: SegmentOut, **ERRORS_409})
def segment_create_endpoint(request: HttpRequest, payload: SegmentIn) -> Status[Segment]:
    """Save a segment; its members are computed at once (history starts today). A name
    taken (any case) is a 409; an invalid condition a 422 naming its path."""
    who = _principal(request)
    try:
        segment = segment_create(
            by=who.user,
            label=who.label,
            name=payload.name,
            description=payload.description,
            condition=condition_json(payload.condition),
        )
    except ValidationError as exc:
        raise _with_condition_path(exc) from None
    return Status(201, _decorate([_segment(segment.pk)])[0])


@router.get("/segments/catalog", response={200: list[FieldOut], **ERRORS})
def segment_catalog(request: HttpRequest) -> list[dict[str, Any]]:
    """The fields a condition can test, with their operators, value kinds and choices."""
    return condition_catalog()


def _count(raw: Any) -> dict[str, Any]:
    try:
        condition = condition_parse(raw)
    except ConditionError as exc:
        raise _condition_error(exc) from None
    return {
        "count": customers_matching(condition).count(),
        "rule": condition_describe(condition),
        "condition": condition.as_json(),
    }


@router.post("/segments/count", response={200: CountOut, **ERRORS})
def segment_count(request: HttpRequest, payload: CountIn) -> dict[str, Any]:
    """How many customers match a condition now, without saving anything."""
    return _count(condition_json(payload.condition))


@router.get("/segments/{segment_id}", response={200: SegmentOut, **ERRORS_404})
def segment_retrieve(request: HttpRequest, segment_id: PathId) -> Segment:
    """One segment."""
    return _decorate([_segment(segment_id)])[0]


@router.patch("/segments/{segment_id}", response={200: SegmentOut, **ERRORS_409})
def segment_update_endpoint(
    request: HttpRequest, segment_id: PathId, payload: SegmentPatch
) -> Segment:
    """Change the fields sent; a new condition recomputes the members at once."""
    who = _principal(request)
    segment = _segment(segment_id)
    try:
        fields = {
            name: condition_json(getattr(payload, name)) if name == "condition" else value
            for name, value in payload.model_dump(exclude_unset=True).items()
        }
        segment_update(segment=segment, by=who.user, label=who.label, **fields)
    except ValidationError as exc:
        raise _with_condition_path(exc) from None
    return _decorate([_segment(segment_id)])[0]


@router.delete("/segments/{segment_id}", response={204: None, **ERRORS_409})
def segment_delete_endpoint(request: HttpRequest, segment_id: PathId) -> Status[None]:
    """Delete a segment with its members and history; a 409 while another segment's
    condition uses it."""
    who = _principal(request)
    try:
        segment_delete(segment=_segment(segment_id), by=who.user, label=who.label)
    except ValidationError as exc:
        raise FieldError("segment", " ".join(exc.messages), status=409, code="protected") from None
    return Status(204, None)


@router.get("/segments/{segment_id}/members", response={200: MemberPage, **ERRORS_404})
def segment_members(
    request: HttpRequest, segment_id: PathId, paging: Query[PageParams]
) -> dict[str, Any]:
    """The members at the last refresh, by customer name."""
    return paginate(members_page_qs(_segment(segment_id)), paging)


@router.get("/segments/{segment_id}/history", response={200: HistoryOut, **ERRORS_404})
def segment_history(
    request: HttpRequest, segment_id: PathId, params: Query[HistoryQuery]
) -> dict[str, Any]:
    """Customers who entered and left per day, and the members at the end of each day."""
    days = daily_history(_segment(segment_id))
    if params.since is not None:
        days = [d for d in days if d.day >= params.since]
    if params.until is not None:
        days = [d for d in days if d.day < params.until]
    return {"segment_id": segment_id, "days": days}
