"""REST endpoints for goals: list, create, change, archive, progress, and the alert timeline.

Authorised by tend.api.auth before they run (read keys and viewers only read); writes go
through tend.goals.actions, whose ValidationError becomes a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from tend.api.auth import Principal
from tend.api.schemas import ERRORS, ERRORS_404, PageParams, PathId, paginate
from tend.goals.actions import goal_archive, goal_create, goal_update
from tend.goals.models import Goal, GoalAlert
from tend.goals.queries import goal_statuses
from tend.goals.schemas import (
    AlertFilters,
    AlertPage,
    GoalFilters,
    GoalIn,
    GoalOut,
    GoalPage,
    GoalPatch,
    ProgressOut,
)

router = Router(tags=["goals"])


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def _goals() -> QuerySet[Goal]:
    latest = GoalAlert.objects.filter(goal=OuterRef("pk")).order_by("-at", "-pk").values("pk")
    return Goal.objects.select_related("created_by").annotate(last_alert_id=Subquery(latest[:1]))


def _with_last_alert(goals: list[Goal]) -> list[Goal]:
    """Attach each goal's latest alert, read in one query for the whole page."""
    ids = [g.last_alert_id for g in goals if g.last_alert_id]  # type: ignore[attr-defined]
    alerts = GoalAlert.objects.in_bulk(ids)
    for goal in goals:
        goal.last_alert = alerts.get(goal.last_alert_id)  # type: ignore[attr-defined]
    return goals


def _goal(pk: int) -> Goal:
    goal = _goals().filter(pk=pk).first()
    if goal is None:
        raise Http404(f"Goal {pk} not found.")
    return _with_last_alert([goal])[0]


@router.get("/goals", response={200: GoalPage, **ERRORS})
def goal_list(
    request: HttpRequest, filters: Query[GoalFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """Goals, oldest first; active ones unless ``active=false``."""
    qs = _goals()
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    if filters.metric:
        qs = qs.filter(metric=filters.metric)
    page = paginate(qs.order_by("created_at", "pk"), paging)
    page["items"] = _with_last_alert(page["items"])
    return page


@router.post("/goals", response={201: GoalOut, **ERRORS})
def goal_create_endpoint(request: HttpRequest, payload: GoalIn) -> Status[Goal]:
    """Create a goal. An unknown metric or a target out of range is a 422 naming the field."""
    who = _principal(request)
    data = payload.model_dump()
    data["comparator"] = data["comparator"] or ""
    goal = goal_create(by=who.user, label=who.label, **data)
    return Status(201, _goal(goal.pk))


@router.get("/goals/alerts", response={200: AlertPage, **ERRORS})
def goal_alert_list(
    request: HttpRequest, filters: Query[AlertFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """The goals' timeline, newest first: first readings and crossings of the target."""
    qs = GoalAlert.objects.all()
    if filters.goal is not None:
        qs = qs.filter(goal_id=filters.goal)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.since:
        qs = qs.filter(at__gte=filters.since)
    return paginate(qs.order_by("-at", "-pk"), paging)


@router.get("/goals/{goal_id}", response={200: GoalOut, **ERRORS_404})
def goal_retrieve(request: HttpRequest, goal_id: PathId) -> Goal:
    """One goal."""
    return _goal(goal_id)


@router.patch("/goals/{goal_id}", response={200: GoalOut, **ERRORS_404})
def goal_update_endpoint(request: HttpRequest, goal_id: PathId, payload: GoalPatch) -> Goal:
    """Change the fields sent."""
    who = _principal(request)
    data = payload.model_dump(exclude_unset=True)
    if "comparator" in data:
        data["comparator"] = data["comparator"] or ""
    goal_update(goal=_goal(goal_id), by=who.user, label=who.label, **data)
    return _goal(goal_id)


@router.post("/goals/{goal_id}/archive", response={200: GoalOut, **ERRORS_404})
def goal_archive_endpoint(request: HttpRequest, goal_id: PathId) -> Goal:
    """Archive a goal: no longer evaluated; its alerts are kept."""
    who = _principal(request)
    goal_archive(goal=_goal(goal_id), by=who.user, label=who.label)
    return _goal(goal_id)


@router.get("/goals/{goal_id}/progress", response={200: ProgressOut, **ERRORS_404})
def goal_progress(request: HttpRequest, goal_id: PathId) -> dict[str, Any]:
    """The goal's value in its previous and current period, read now from the snapshots."""
    status = goal_statuses([_goal(goal_id)])[0]
    return {
        "goal_id": goal_id,
        "previous": status.previous,
        "current": status.current,
        "error": status.error,
    }
