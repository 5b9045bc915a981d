"""REST endpoints of playbooks: list, get, create, update, change status, dry run, start by
hand; runs (list with filters, get with each step's outcome, cancel, pause, resume, retry);
the gallery of built-in playbooks (list, install); the trigger and action catalog.

Authorised by tend.api.auth before they run: read keys and viewers only read; changes need a
member or owner with a read_write key or a session. The engine validates a playbook as a
whole; its ``PlaybookError`` becomes a 422 whose errors name each field's path
(``steps[2].config.template``) and nothing is saved.
"""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.responses import Status
from pydantic import Field as PydanticField

from tend.api.auth import Principal
from tend.api.errors import UNKNOWN, FieldError
from tend.api.schemas import ERRORS, ERRORS_404, ERRORS_409, PathId, paginate
from tend.customers.models import Customer
from tend.lib.access import require_write
from tend.playbooks.actions import (
    PlaybookError,
    playbook_create,
    playbook_dry_run,
    playbook_install,
    playbook_set_status,
    playbook_start,
    playbook_update,
    run_cancel,
    run_pause,
    run_resume,
    run_retry,
)
from tend.playbooks.forms import MAX_STEPS, count_steps
from tend.playbooks.models import Playbook, PlaybookRun, RunStatus
from tend.playbooks.schemas import (
    PlaybookCatalogOut,
    PlaybookDryRunOut,
    PlaybookDryRunParams,
    PlaybookGalleryOut,
    PlaybookIn,
    PlaybookListParams,
    PlaybookOut,
    PlaybookPage,
    PlaybookPatch,
    PlaybookRunDetailOut,
    PlaybookRunListParams,
    PlaybookRunPage,
    PlaybookStartIn,
    PlaybookStartOut,
    PlaybookStatusIn,
)
from tend.playbooks.ui_catalog import action_catalog, trigger_catalog
from tend.playbooks.ui_queries import (
    gallery_cards,
    outcome_text,
    playbooks_with_counts,
    runs_of,
    step_at,
    step_text,
    trigger_text,
)
from tend.segments.conditions import customers_matching
from tend.segments.models import Segment

router = Router(tags=["playbooks"])

# A built-in playbook's key (``Playbook.key``: a slug).
GalleryKey = Annotated[
    str, PydanticField(pattern=r"^[-a-zA-Z0-9_]{1,60}$", description="The built-in's key.")
]


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def _playbook(pk: int) -> Playbook:
    playbook = Playbook.objects.filter(pk=pk).first()
    if playbook is None:
        raise Http404(f"Playbook {pk} not found.")
    return playbook


def _run(pk: int) -> PlaybookRun:
    run = PlaybookRun.objects.select_related("playbook", "customer").filter(pk=pk).first()
    if run is None:
        raise Http404(f"Run {pk} not found.")
    return run


# Codes of refusals the OpenAPI document cannot predict (tend/api/errors.py, docs/api.md):
# a trigger is a registry name ("unknown" when nothing by that name is registered); the
# re-entry days and the outcome's event are required only with some values of another field
# ("range": valid alone, not together).
_CODES = {"trigger": UNKNOWN, "reentry_days": "range", "outcome.event": "range"}


def _raise(exc: PlaybookError) -> NoReturn:
    """The engine's errors as a 422 whose errors name each path (tend.api.errors)."""
    by_path: dict[str, list[ValidationError]] = {}
    for path, message in exc.errors:
        code = _CODES.get(str(path), "invalid")
        by_path.setdefault(str(path) or NON_FIELD_ERRORS, []).append(
            ValidationError(str(message), code=code)
        )
    raise ValidationError(by_path) from exc  # type: ignore[arg-type]


def _check_name(name: str | None, *, instance: Playbook | None = None) -> None:
    """A name another playbook has is a 409, like every other unique value of the API."""
    if name is None:
        return
    clash = Playbook.objects.filter(name=name.strip())
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise FieldError("name", "Another playbook has this name.", status=409, code="unique")


def _check_steps(steps: Any) -> None:
    if isinstance(steps, list) and count_steps(steps) > MAX_STEPS:
        raise FieldError("steps", f"At most {MAX_STEPS} steps in all, branches included.")


def _out(playbook: Playbook, *, counts: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": playbook.pk,
        "name": playbook.name,
        "description": playbook.description,
        "key": playbook.key,
        "status": playbook.status,
        "trigger": playbook.trigger,
        "trigger_text": trigger_text(playbook),
        "trigger_config": playbook.trigger_config or {},
        "condition": playbook.condition,
        "steps": playbook.steps or [],
        "reentry": playbook.reentry,
        "reentry_days": playbook.reentry_days,
        "holdout_percent": playbook.holdout_percent,
        "outcome": playbook.outcome or {},
        "version": playbook.version,
        "created_at": playbook.created_at,
        "updated_at": playbook.updated_at,
        "enabled_at": playbook.enabled_at,
    }
    if counts:
        data["runs"] = {
            "active": playbook.runs_active,  # type: ignore[attr-defined]
            "paused": playbook.runs_paused,  # type: ignore[attr-defined]
            "done": playbook.runs_done,  # type: ignore[attr-defined]
            "failed": playbook.runs_failed,  # type: ignore[attr-defined]
            "control": playbook.runs_control,  # type: ignore[attr-defined]
        }
        data["last_run_at"] = playbook.last_run_at  # type: ignore[attr-defined]
    return data


def _run_out(run: PlaybookRun) -> dict[str, Any]:
    current = ""
    if run.status in (RunStatus.ACTIVE, RunStatus.PAUSED, RunStatus.FAILED):
        step = step_at(run.playbook.steps, run.position)
        current = step_text(step) if step else ""
    return {
        "id": run.pk,
        "playbook_id": run.playbook_id,
        "customer_id": run.customer_id,
        "customer_name": run.customer.name,
        "occurrence": run.occurrence,
        "group": run.group,
        "status": run.status,
        "position": [str(p) for p in (run.position or [])],
        "current_step": current,
        "next_at": run.next_at,
        "attempts": run.attempts,
        "last_error": run.last_error,
        "playbook_version": run.playbook_version,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


# --- catalog and gallery (before /playbooks/{id} so their paths are not read as ids) --------


@router.get("/playbooks/catalog", response={200: PlaybookCatalogOut, **ERRORS})
def playbook_catalog(request: HttpRequest) -> dict[str, Any]:
    """Every trigger and action: name, label in the caller's language and its settings."""
    return {"triggers": trigger_catalog(), "actions": action_catalog()}


@router.get("/playbooks/gallery", response={200: list[PlaybookGalleryOut], **ERRORS})
def playbook_gallery_list(request: HttpRequest) -> list[dict[str, Any]]:
    """The built-in playbooks (English and Chinese, with their email texts)."""
    return [
        {
            "key": card.key,
            "name": card.name,
            "description": card.description,
            "trigger": card.trigger,
            "trigger_text": card.trigger_text,
            "steps": card.steps_text,
            "installed_id": card.installed_id,
        }
        for card in gallery_cards()
    ]


@router.post(
    "/playbooks/gallery/{key}/install",
    response={201: PlaybookOut, **ERRORS_404},
)
def playbook_gallery_install(request: HttpRequest, key: GalleryKey) -> Status[dict[str, Any]]:
    """Add a built-in playbook as a draft (with its email templates)."""
    who = _principal(request)
    require_write(who.user)
    if key not in {card.key for card in gallery_cards()}:
        raise Http404(f"No built-in playbook “{key[:60]}”.")
    try:
        playbook = playbook_install(key=key, by=who.user, label=who.label)
    except PlaybookError as exc:
        _raise(exc)
    return Status(201, _out(playbook))


# --- runs -----------------------------------------------------------------------------------


@router.get("/playbooks/runs", response={200: PlaybookRunPage, **ERRORS})
def playbook_run_list(request: HttpRequest, params: Query[PlaybookRunListParams]) -> dict[str, Any]:
    """Runs, newest first; filter by playbook, customer and status."""
    filters: dict[str, Any] = {}
    if params.playbook is not None:
        filters["playbook_id"] = params.playbook
    if params.customer is not None:
        filters["customer_id"] = params.customer
    if params.status is not None:
        filters["status"] = params.status
    page = paginate(runs_of(**filters), params)
    page["items"] = [_run_out(r) for r in page["items"]]
    return page


@router.get("/playbooks/runs/{pk}", response={200: PlaybookRunDetailOut, **ERRORS_404})
def playbook_run_get(request: HttpRequest, pk: PathId) -> dict[str, Any]:
    """One run with every step's outcome."""
    run = _run(pk)
    data = _run_out(run)
    data["steps"] = [
        {
            "step_id": e.step_id,
            "step_type": e.step_type,
            "outcome": e.outcome,
            "text": outcome_text(e),
            "detail": e.detail or {},
            "error": e.error,
            "at": e.at,
        }
        for e in run.step_log.all()
    ]
    return data


def _run_change(request: HttpRequest, pk: int, action: Any) -> dict[str, Any]:
    who = _principal(request)
    require_write(who.user)
    run = _run(pk)
    try:
        action(run=run, by=who.user, label=who.label)
    except PlaybookError as exc:
        _raise(exc)
    return playbook_run_get(request, pk)


@router.post("/playbooks/runs/{pk}/cancel", response={200: PlaybookRunDetailOut, **ERRORS_404})
def playbook_run_cancel(request: HttpRequest, pk: PathId) -> dict[str, Any]:
    """Cancel a run: no further step runs."""
    return _run_change(request, pk, run_cancel)


@router.post("/playbooks/runs/{pk}/pause", response={200: PlaybookRunDetailOut, **ERRORS_404})
def playbook_run_pause(request: HttpRequest, pk: PathId) -> dict[str, Any]:
    """Pause a run until it is resumed."""
    return _run_change(request, pk, run_pause)


@router.post("/playbooks/runs/{pk}/resume", response={200: PlaybookRunDetailOut, **ERRORS_404})
def playbook_run_resume(request: HttpRequest, pk: PathId) -> dict[str, Any]:
    """Resume a paused run."""
    return _run_change(request, pk, run_resume)


@router.post("/playbooks/runs/{pk}/retry", response={200: PlaybookRunDetailOut, **ERRORS_404})
def playbook_run_retry(request: HttpRequest, pk: PathId) -> dict[str, Any]:
    """Run a failed run's failed step again."""
    return _run_change(request, pk, run_retry)


# --- playbooks ------------------------------------------------------------------------------


@router.get("/playbooks", response={200: PlaybookPage, **ERRORS})
def playbook_list(request: HttpRequest, params: Query[PlaybookListParams]) -> dict[str, Any]:
    """Every playbook by name, with its runs counted by status."""
    qs = playbooks_with_counts()
    if params.status is not None:
        qs = qs.filter(status=params.status)
    page = paginate(qs, params)
    page["items"] = [_out(p, counts=True) for p in page["items"]]
    return page


@router.post("/playbooks", response={201: PlaybookOut, **ERRORS_409})
def playbook_create_endpoint(request: HttpRequest, payload: PlaybookIn) -> Status[dict[str, Any]]:
    """Create a playbook as a draft. Any error is a 422 naming its path; nothing is saved."""
    who = _principal(request)
    require_write(who.user)
    values = payload.model_dump()
    _check_steps(values["steps"])
    _check_name(values["name"])
    try:
        playbook = playbook_create(by=who.user, label=who.label, **values)
    except PlaybookError as exc:
        _raise(exc)
    return Status(201, _out(playbook))


@router.get("/playbooks/{pk}", response={200: PlaybookOut, **ERRORS_404})
def playbook_get(request: HttpRequest, pk: PathId) -> dict[str, Any]:
    return _out(_playbook(pk))


@router.patch("/playbooks/{pk}", response={200: PlaybookOut, **ERRORS_409})
def playbook_update_endpoint(
    request: HttpRequest, pk: PathId, payload: PlaybookPatch
) -> dict[str, Any]:
    """Change the fields sent; the version goes up by one. Nothing is saved on an error."""
    who = _principal(request)
    require_write(who.user)
    playbook = _playbook(pk)
    values = payload.model_dump(exclude_unset=True)
    if "steps" in values:
        _check_steps(values["steps"])
    if isinstance(values.get("name"), str):
        _check_name(values["name"], instance=playbook)
    for name in ("name", "trigger", "trigger_config", "steps", "reentry"):
        if name in values and values[name] is None:
            raise FieldError(name, "May not be null.")
    if values:
        try:
            playbook_update(playbook=playbook, by=who.user, label=who.label, **values)
        except PlaybookError as exc:
            _raise(exc)
        playbook.refresh_from_db()
    return _out(playbook)


@router.post("/playbooks/{pk}/status", response={200: PlaybookOut, **ERRORS_404})
def playbook_status(request: HttpRequest, pk: PathId, payload: PlaybookStatusIn) -> dict[str, Any]:
    """Switch on (`active`), pause (`paused`) or archive (`archived`)."""
    who = _principal(request)
    require_write(who.user)
    playbook = _playbook(pk)
    try:
        playbook_set_status(playbook=playbook, status=payload.status, by=who.user, label=who.label)
    except PlaybookError as exc:
        _raise(exc)
    playbook.refresh_from_db()
    return _out(playbook)


@router.get("/playbooks/{pk}/dry-run", response={200: PlaybookDryRunOut, **ERRORS_404})
def playbook_dry_run_endpoint(
    request: HttpRequest, pk: PathId, params: Query[PlaybookDryRunParams]
) -> dict[str, Any]:
    """Who would enter now (or: which customers of a segment) and what each step would do for
    them. Nothing is written."""
    playbook = _playbook(pk)
    customers = None
    if params.segment is not None:
        segment = Segment.objects.filter(pk=params.segment).first()
        if segment is None:
            raise FieldError("segment", "No such segment.", code=UNKNOWN)
        customers = customers_matching(segment.condition)
    try:
        dry = playbook_dry_run(playbook=playbook, limit=params.limit, customers=customers)
    except PlaybookError as exc:
        _raise(exc)
    return {
        "trigger": dry.trigger,
        "candidates": dry.candidates,
        "not_matching": dry.not_matching,
        "already": dry.already,
        "notes": [str(n) for n in dry.notes],
        "customers": [
            {
                "customer_id": row.customer.pk,
                "customer_name": row.customer.name,
                "occurrence": row.occurrence,
                "group": row.group,
                "steps": [
                    {"step_id": s.step_id, "type": s.type, "text": s.text} for s in row.steps
                ],
            }
            for row in dry.customers
        ],
    }


@router.post("/playbooks/{pk}/start", response={200: PlaybookStartOut, **ERRORS_404})
def playbook_start_endpoint(
    request: HttpRequest, pk: PathId, payload: PlaybookStartIn
) -> dict[str, Any]:
    """Start a playbook by hand for the customers listed or every customer of a segment."""
    who = _principal(request)
    require_write(who.user)
    playbook = _playbook(pk)
    if bool(payload.customer_ids) == (payload.segment_id is not None):
        raise FieldError("customer_ids", "Send customer_ids or segment_id (one of them).")
    if payload.segment_id is not None:
        segment = Segment.objects.filter(pk=payload.segment_id).first()
        if segment is None:
            raise FieldError("segment_id", "No such segment.", code=UNKNOWN)
        customers: Any = customers_matching(segment.condition)
    else:
        ids = set(payload.customer_ids)
        customers = list(Customer.objects.filter(pk__in=ids))
        missing = ids - {c.pk for c in customers}
        if missing:
            raise FieldError("customer_ids", f"No customer with id {min(missing)}.", code=UNKNOWN)
    try:
        started = playbook_start(
            playbook=playbook, customers=customers, by=who.user, label=who.label
        )
    except PlaybookError as exc:
        _raise(exc)
    return {"started": started}
