"""Playbook pages: the list, the gallery of built-in templates, the editor, a playbook's page
(trigger and steps in words, status buttons, dry run, manual start, runs, per-step funnel,
experiment results) and a run's page. Everyone reads; owners and members write.

Thin: parse with a form, authorise (``write_view``), call the engine's action, render. The
engine validates a playbook as a whole and raises ``PlaybookError`` naming each field's path;
the editor shows each error next to its field and nothing is saved.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.customers.models import Customer
from tend.lib.access import can_write, require_write, write_view
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
from tend.playbooks.experiments import experiment_results
from tend.playbooks.forms import CustomerStartForm, PlaybookForm, StartForm, field_of
from tend.playbooks.models import Playbook, PlaybookRun, PlaybookStatus, RunStatus
from tend.playbooks.registry import triggers
from tend.playbooks.ui_catalog import editor_context
from tend.playbooks.ui_queries import (
    gallery_cards,
    outcome_text,
    playbooks_with_counts,
    runs_of,
    step_at,
    step_funnel,
    step_text,
    steps_outline,
    trigger_text,
)
from tend.segments.conditions import (
    ConditionError,
    condition_describe,
    condition_parse,
    customers_matching,
)
from tend.segments.models import Segment

RUNS_PER_PAGE = 50
DRY_RUN_LIMIT = 50

# Which status each button asks for, and from which statuses it is offered.
STATUS_BUTTONS = {
    "activate": (PlaybookStatus.ACTIVE, {PlaybookStatus.DRAFT}),
    "pause": (PlaybookStatus.PAUSED, {PlaybookStatus.ACTIVE}),
    "resume": (PlaybookStatus.ACTIVE, {PlaybookStatus.PAUSED}),
    "archive": (
        PlaybookStatus.ARCHIVED,
        {PlaybookStatus.DRAFT, PlaybookStatus.ACTIVE, PlaybookStatus.PAUSED},
    ),
    "restore": (PlaybookStatus.DRAFT, {PlaybookStatus.ARCHIVED}),
}
RUN_ACTIONS = {"cancel": run_cancel, "pause": run_pause, "resume": run_resume, "retry": run_retry}
RUN_ACTIONS_FROM = {
    "cancel": {RunStatus.ACTIVE, RunStatus.PAUSED, RunStatus.FAILED},
    "pause": {RunStatus.ACTIVE},
    "resume": {RunStatus.PAUSED},
    "retry": {RunStatus.FAILED},
}


def _errors_text(exc: PlaybookError) -> str:
    return " ".join(f"{path}: {message}" if path else str(message) for path, message in exc.errors)


@require_GET
def playbook_list(request: HttpRequest) -> HttpResponse:
    """Every playbook: trigger in words, status, runs active/finished/failed, last run."""
    show = request.GET.get("show", "")
    qs = playbooks_with_counts()
    if show != "archived":
        qs = qs.exclude(status=PlaybookStatus.ARCHIVED)
    rows = [{"playbook": p, "trigger": trigger_text(p)} for p in qs]
    return render(
        request,
        "playbooks/list.html",
        {
            "rows": rows,
            "show": show,
            "archived": Playbook.objects.filter(status=PlaybookStatus.ARCHIVED).count(),
            "can_write": can_write(request.user),
        },
    )


@require_GET
def gallery(request: HttpRequest) -> HttpResponse:
    """The built-in templates; "Use this" installs one as a draft and opens its editor."""
    return render(
        request,
        "playbooks/gallery.html",
        {"entries": gallery_cards(), "can_write": can_write(request.user)},
    )


@require_POST
@write_view
def gallery_install(request: HttpRequest) -> HttpResponse:
    key = request.POST.get("key", "")
    if key not in {card.key for card in gallery_cards()}:
        messages.error(request, _("No built-in playbook with that key."))
        return redirect("playbooks:gallery")
    try:
        playbook = playbook_install(key=key, by=request.user)
    except PlaybookError as exc:
        messages.error(request, _errors_text(exc))
        return redirect("playbooks:gallery")
    messages.success(
        request,
        _("“%(name)s” was added as a draft: check it, then switch it on.") % {"name": playbook},
    )
    return redirect("playbooks:edit", pk=playbook.pk)


# --- editor --------------------------------------------------------------------------------


def _render_editor(
    request: HttpRequest,
    form: PlaybookForm,
    playbook: Playbook | None,
    *,
    problems: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    def value(name: str, default: str) -> str:
        raw = form[name].value()
        return default if raw in (None, "") else str(raw)

    return render(
        request,
        "playbooks/editor.html",
        {
            "form": form,
            "playbook": playbook,
            "problems": problems or [],
            "trigger_config_text": value("trigger_config", "{}"),
            "condition_text": value("condition", ""),
            "steps_text": value("steps", "[]"),
            "editor": editor_context(),
            "builder": _builder_context(),
        },
        status=status,
    )


def _builder_context() -> dict[str, Any]:
    from tend.segments.builder import builder_context

    return builder_context()


def _save(request: HttpRequest, playbook: Playbook | None) -> HttpResponse:
    form = PlaybookForm(request.POST)
    if not form.is_valid():
        problems = [
            {"path": name, "message": str(m)}
            for name, errors in form.errors.items()
            for m in errors
        ]
        return _render_editor(request, form, playbook, problems=problems, status=422)
    try:
        if playbook is None:
            playbook = playbook_create(by=request.user, **form.values())
            messages.success(request, _("Playbook “%(name)s” created.") % {"name": playbook})
        else:
            playbook_update(playbook=playbook, by=request.user, **form.values())
            messages.success(request, _("Playbook “%(name)s” saved.") % {"name": playbook})
    except PlaybookError as exc:
        problems = []
        for path, message in exc.errors:
            field = field_of(path)
            # The form field shows it; the editor's script marks the step or setting named.
            form.add_error(field or None, str(message))
            problems.append({"path": path, "message": str(message)})
        if playbook is not None:
            playbook.refresh_from_db()
        return _render_editor(request, form, playbook, problems=problems, status=422)
    return redirect("playbooks:detail", pk=playbook.pk)


@require_http_methods(["GET", "POST"])
@write_view
def playbook_new(request: HttpRequest) -> HttpResponse:
    require_write(request.user)
    if request.method != "POST":
        return _render_editor(request, PlaybookForm(initial=PlaybookForm.initial_for(None)), None)
    return _save(request, None)


@require_http_methods(["GET", "POST"])
@write_view
def playbook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_write(request.user)
    playbook = get_object_or_404(Playbook, pk=pk)
    if request.method != "POST":
        form = PlaybookForm(initial=PlaybookForm.initial_for(playbook))
        return _render_editor(request, form, playbook)
    return _save(request, playbook)


# --- a playbook's page ---------------------------------------------------------------------


def _status_buttons(playbook: Playbook) -> list[str]:
    return [name for name, (_s, sources) in STATUS_BUTTONS.items() if playbook.status in sources]


@require_GET
def playbook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    playbook = get_object_or_404(Playbook, pk=pk)
    status = request.GET.get("status", "")
    if status not in RunStatus.values:
        status = ""
    runs = runs_of(playbook, **({"status": status} if status else {}))
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"run": run, "current": _current(playbook, run)} for run in page.object_list]
    trigger = triggers.get(playbook.trigger) if playbook.trigger in triggers else None
    return render(
        request,
        "playbooks/detail.html",
        {
            "playbook": playbook,
            "trigger_text": trigger_text(playbook),
            "manual": bool(trigger and trigger.manual),
            "condition_text": _condition_text(playbook.condition),
            "funnel": _with_bars(step_funnel(playbook)),
            "page": page,
            "rows": rows,
            "status": status,
            "statuses": RunStatus.choices,
            "buttons": _status_buttons(playbook),
            "can_write": can_write(request.user),
            "results": experiment_results(playbook=playbook),
            "segments": Segment.objects.order_by("name").values_list("pk", "name")[:500],
        },
    )


def _condition_text(condition: Any) -> str:
    if not condition:
        return ""
    try:
        return condition_describe(condition_parse(condition))
    except (ConditionError, RecursionError):
        return _("(a condition that is no longer valid)")


def _pct(part: int, whole: int) -> int:
    """A share as a multiple of 5 (the CSS has a width class for each)."""
    return 0 if not whole else min(100, round(part * 20 / whole) * 5)


def _with_bars(rows: list[Any]) -> list[Any]:
    for row in rows:
        row.done_pct = _pct(row.done, row.reached)
        row.failed_pct = _pct(row.failed, row.reached)
        row.skipped_pct = _pct(row.skipped, row.reached)
        row.waiting_pct = _pct(row.waiting, row.reached)
    return rows


def _current(playbook: Playbook, run: PlaybookRun) -> str:
    if run.status in (RunStatus.DONE, RunStatus.CANCELED, RunStatus.CONTROL):
        return ""
    step = step_at(playbook.steps, run.position)
    return step_text(step) if step else ""


@require_POST
@write_view
def playbook_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch on, pause, resume or archive (owners and members)."""
    playbook = get_object_or_404(Playbook, pk=pk)
    button = request.POST.get("action", "")
    if button not in STATUS_BUTTONS or button not in _status_buttons(playbook):
        messages.error(request, _("That change of status is not possible now."))
        return redirect("playbooks:detail", pk=pk)
    try:
        playbook_set_status(playbook=playbook, status=STATUS_BUTTONS[button][0], by=request.user)
    except PlaybookError as exc:
        messages.error(request, _errors_text(exc))
        return redirect("playbooks:detail", pk=pk)
    playbook.refresh_from_db()
    messages.success(
        request,
        _("“%(name)s” is now %(status)s.")
        % {"name": playbook, "status": playbook.get_status_display()},
    )
    return redirect("playbooks:detail", pk=pk)


@require_GET
def playbook_dry_run_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Who would enter now and what each step would do for them; nothing is written."""
    playbook = get_object_or_404(Playbook, pk=pk)
    raw = request.GET.get("segment", "")
    segment = (
        Segment.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 19 else None
    )
    customers = customers_matching(segment.condition) if segment is not None else None
    try:
        dry = playbook_dry_run(playbook=playbook, limit=DRY_RUN_LIMIT, customers=customers)
        error = ""
    except (PlaybookError, ConditionError) as exc:
        dry = None
        error = _errors_text(exc) if isinstance(exc, PlaybookError) else exc.text()
    return render(
        request,
        "playbooks/dry_run.html",
        {
            "playbook": playbook,
            "dry": dry,
            "error": error,
            "limit": DRY_RUN_LIMIT,
            "segment": segment,
            "segments": Segment.objects.order_by("name").values_list("pk", "name")[:500],
        },
    )


@require_POST
@write_view
def playbook_start_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a playbook by hand for one customer or every customer of a segment."""
    playbook = get_object_or_404(Playbook, pk=pk)
    form = StartForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("playbooks:detail", pk=pk)
    customer_id, segment_id = form.cleaned_data.get("customer"), form.cleaned_data.get("segment")
    if customer_id:
        customers: Any = list(Customer.objects.filter(pk=customer_id))
        if not customers:
            messages.error(request, _("No such customer."))
            return redirect("playbooks:detail", pk=pk)
    else:
        segment = Segment.objects.filter(pk=int(segment_id or 0)).first()
        if segment is None:
            messages.error(request, _("No such segment."))
            return redirect("playbooks:detail", pk=pk)
        customers = customers_matching(segment.condition)
    try:
        started = playbook_start(playbook=playbook, customers=customers, by=request.user)
    except PlaybookError as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(
            request,
            ngettext("Started for %(n)s customer.", "Started for %(n)s customers.", started)
            % {"n": started},
        )
    return redirect("playbooks:detail", pk=pk)


@require_POST
@write_view
def customer_start(request: HttpRequest) -> HttpResponse:
    """The customer page's "Start a playbook": one manual playbook for this customer."""
    form = CustomerStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        customer_id = form.cleaned_data.get("customer") if hasattr(form, "cleaned_data") else None
        if customer_id and Customer.objects.filter(pk=customer_id).exists():
            return redirect("customers:detail", pk=customer_id)
        return redirect("playbooks:list")
    customer = get_object_or_404(Customer, pk=form.cleaned_data["customer"])
    playbook = Playbook.objects.filter(pk=form.cleaned_data["playbook"]).first()
    if playbook is None:
        messages.error(request, _("No such playbook."))
        return redirect("customers:detail", pk=customer.pk)
    try:
        started = playbook_start(playbook=playbook, customers=[customer], by=request.user)
    except PlaybookError as exc:
        messages.error(request, _errors_text(exc))
    else:
        if started:
            messages.success(
                request,
                _("“%(playbook)s” started for %(customer)s.")
                % {"playbook": playbook, "customer": customer.name},
            )
        else:
            messages.info(
                request,
                _("%(customer)s is already in “%(playbook)s” (re-entry rules).")
                % {"playbook": playbook, "customer": customer.name},
            )
    return redirect("customers:detail", pk=customer.pk)


# --- a run's page --------------------------------------------------------------------------


def _run_buttons(run: PlaybookRun) -> list[str]:
    return [name for name, sources in RUN_ACTIONS_FROM.items() if run.status in sources]


@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(PlaybookRun.objects.select_related("playbook", "customer"), pk=pk)
    log = [{"entry": e, "text": outcome_text(e)} for e in run.step_log.all()]
    names = {row.id: row.text for row in steps_outline(run.playbook.steps)}
    return render(
        request,
        "playbooks/run.html",
        {
            "run": run,
            "log": log,
            "names": names,
            "current": _current(run.playbook, run),
            "buttons": _run_buttons(run),
            "can_write": can_write(request.user),
            "context_json": json.dumps(run.context, ensure_ascii=False, indent=1)
            if run.context
            else "",
        },
    )


@require_POST
@write_view
def run_action(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(PlaybookRun, pk=pk)
    action = request.POST.get("action", "")
    if action not in RUN_ACTIONS or action not in _run_buttons(run):
        messages.error(request, _("That is not possible for this run now."))
    else:
        try:
            RUN_ACTIONS[action](run=run, by=request.user)
        except PlaybookError as exc:
            messages.error(request, _errors_text(exc))
        else:
            run.refresh_from_db()
            messages.success(
                request, _("The run is now %(status)s.") % {"status": run.get_status_display()}
            )
    if request.POST.get("back") == "customer":
        return redirect("customers:detail", pk=run.customer_id)
    return redirect(reverse("playbooks:run", args=[run.pk]))
