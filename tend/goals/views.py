"""Goal pages: the list with progress and timeline, the form, and the dashboard panel."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.billing.models import Plan
from tend.customers.models import Tag
from tend.goals.actions import goal_archive, goal_create, goal_update
from tend.goals.display import plan_names, scope_text, segment_names
from tend.goals.forms import GoalForm
from tend.goals.models import Goal, stored_filters
from tend.goals.queries import GoalStatus, goal_statuses, goals_with_timeline
from tend.lib.access import can_write, require_write, write_view
from tend.metrics.filters import FilterError, Filters
from tend.metrics.formulas import FORMULAS
from tend.segments.models import Segment


def _rows(statuses: list[GoalStatus]) -> list[dict[str, Any]]:
    plans = plan_names()
    segments = segment_names() if any(s.goal.filters.get("segment") for s in statuses) else {}
    return [
        {
            "goal": status.goal,
            "formula": status.goal.formula,
            "scope": scope_text(status.goal.filters, plans, segments),
            "current": status.current,
            "previous": status.previous,
            "error": status.error,
            "timeline": getattr(status.goal, "timeline", []),
        }
        for status in statuses
    ]


@require_GET
def goal_list(request: HttpRequest) -> HttpResponse:
    """Every active goal with its progress this period, last period, and its timeline."""
    goals = goals_with_timeline(active=True)
    archived = list(Goal.objects.filter(active=False).order_by("-updated_at", "-pk")[:50])
    return render(
        request,
        "goals/list.html",
        {
            "rows": _rows(goal_statuses(goals)),
            "archived": archived,
            "can_write": can_write(request.user),
        },
    )


@require_GET
def goal_panel(request: HttpRequest) -> HttpResponse:
    """The dashboard's goals panel (htmx partial): each goal's progress this period.

    Takes the dashboard's filter query. Goals carry their own customer slice, so every goal
    is listed; those whose slice and period equal the dashboard's come first.
    """
    goals = list(Goal.objects.active().order_by("created_at", "pk"))
    try:
        shown = Filters.parse(request.GET)
    except FilterError:
        shown = Filters()
    wanted = stored_filters(shown)

    def matches(goal: Goal) -> bool:
        return goal.period == shown.period and goal.filters == wanted

    goals.sort(key=lambda goal: not matches(goal))
    return render(
        request,
        "goals/_panel.html",
        {"rows": _rows(goal_statuses(goals)), "can_write": can_write(request.user)},
    )


def _form(data: Any = None, *, initial: dict[str, Any] | None = None) -> GoalForm:
    plans = list(Plan.objects.order_by("name").values_list("id", "name"))
    tags = list(Tag.objects.order_by("name").values_list("name", flat=True))
    segments = list(Segment.objects.order_by("name").values_list("id", "name"))
    return GoalForm(data, plans=plans, tags=tags, segments=segments, initial=initial)


def _render_form(
    request: HttpRequest, form: GoalForm, goal: Goal | None = None, status: int = 200
) -> HttpResponse:
    formulas = [FORMULAS[key] for key, _label in form.fields["metric"].choices]  # type: ignore[attr-defined]
    return render(
        request,
        "goals/form.html",
        {"form": form, "goal": goal, "formulas": formulas},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@write_view
def goal_new(request: HttpRequest) -> HttpResponse:
    """Create a goal (owners and members; viewers do not get the form either)."""
    require_write(request.user)
    if request.method != "POST":
        initial = {k: v for k, v in request.GET.items() if k in GoalForm.base_fields}
        return _render_form(request, _form(initial=initial))
    form = _form(request.POST)
    if form.is_valid():
        try:
            goal = goal_create(by=request.user, **form.values())  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            messages.success(request, _("Goal “%(goal)s” created.") % {"goal": goal.title})
            return redirect("goals:list")
    return _render_form(request, form, status=422)


@require_http_methods(["GET", "POST"])
@write_view
def goal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a goal; a new definition starts a fresh status history."""
    require_write(request.user)
    goal = get_object_or_404(Goal, pk=pk)
    if request.method != "POST":
        return _render_form(request, _form(initial=GoalForm.initial_for(goal)), goal)
    form = _form(request.POST)
    if form.is_valid():
        try:
            goal_update(goal=goal, by=request.user, **form.values())  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_action_errors(exc)
            goal.refresh_from_db()
        else:
            messages.success(request, _("Goal “%(goal)s” saved.") % {"goal": goal.title})
            return redirect("goals:list")
    return _render_form(request, form, goal, status=422)


@require_POST
@write_view
def goal_archive_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Archive a goal: no longer evaluated or shown; its timeline is kept."""
    goal = get_object_or_404(Goal, pk=pk)
    goal_archive(goal=goal, by=request.user)  # type: ignore[arg-type]
    messages.success(request, _("Goal “%(goal)s” archived.") % {"goal": goal.title})
    return redirect("goals:list")


@require_POST
@write_view
def goal_restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Bring an archived goal back."""
    goal = get_object_or_404(Goal, pk=pk)
    try:
        goal_update(goal=goal, by=request.user, active=True)  # type: ignore[arg-type]
    except ValidationError as exc:
        # Its customer filters no longer work (a tag was deleted): edit it instead.
        # Each message names its field already ("Tag: unknown tag …"), in the reader's words.
        problems = "; ".join(" ".join(v) for v in exc.message_dict.values())
        messages.error(
            request,
            _("Goal “%(goal)s” cannot be restored: %(problems)s")
            % {"goal": goal.title, "problems": problems},
        )
        return redirect("goals:list")
    messages.success(request, _("Goal “%(goal)s” restored.") % {"goal": goal.title})
    return redirect("goals:list")
