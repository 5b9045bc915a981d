"""Revenue & retention pages: the dashboard, its table downloads and the monthly KPI report.

Parse the filters → authorize (every role reads; refreshing needs a role that writes) → read
the series readers (``tend.metrics.kpis`` and its siblings; never the snapshot tables) →
render. A filter that cannot be used answers 400 with a message naming the parameter, never a 500.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django_tasks import TaskResultStatus

from tend.billing.models import MrrMovement, Plan
from tend.customers.channels import channel_choices
from tend.customers.models import Tag
from tend.lib.access import can_write, require_write
from tend.lib.money import currency_label
from tend.metrics import display, exports
from tend.metrics.filters import FilterError, Filters
from tend.metrics.kpis import ON_DEMAND_SECONDS, freshness
from tend.metrics.tasks import metrics_refresh
from tend.segments.models import Segment

# --- parsing ----------------------------------------------------------------------------------


def _choices() -> dict[str, Any]:
    """What the filter bar offers: plans, channels, tags and saved segments (small tables,
    one query each)."""
    return {
        "plans": list(Plan.objects.order_by("name").values_list("pk", "name")),
        "channels": channel_choices(include_archived=True),
        "tags": list(Tag.objects.order_by("name").values_list("name", flat=True)),
        "segments": list(Segment.objects.order_by("name").values_list("pk", "name")),
        "periods": [("month", _("Months")), ("quarter", _("Quarters")), ("year", _("Years"))],
    }


def _parse(data: Mapping[str, Any], plans: list[tuple[int, str]]) -> Filters:
    filters = Filters.parse(data)
    if filters.start and filters.start.replace(day=1) > timezone.now().date().replace(day=1):
        raise FilterError(
            "start", gettext("must not be after this month: there are no figures yet")
        )
    known = {pk for pk, _name in plans}
    for pk in filters.plans:
        if pk not in known:
            raise FilterError("plan", gettext("no plan with id %(value)s") % {"value": pk})
    return filters


def _query(filters: Filters, **extra: Any) -> str:
    return urlencode({**filters.as_query(), **extra}, doseq=True)


def _error_text(exc: FilterError) -> str:
    return _("Filter “%(field)s”: %(message)s") % {
        "field": exc.label,
        "message": exc.message,
    }


# --- dashboard ------------------------------------------------------------------------------


def _state() -> dict[str, Any]:
    """Where the data stand: no billing at all, snapshots never built, or ready."""
    fresh = freshness()
    built_at = fresh["built_at"]
    now = timezone.now()
    return {
        "freshness": fresh,
        "has_billing": MrrMovement.objects.exists(),
        "built": built_at is not None,
        "stale": built_at is not None and fresh["stale_after"] < now,
    }


def _goals_panel() -> str | None:
    try:
        return reverse("goals:panel")
    except NoReverseMatch:
        return None


def _base_context(request: HttpRequest, choices: dict[str, Any]) -> dict[str, Any]:
    return {
        **choices,
        "can_write": can_write(request.user),
        "currency": settings.TEND_CURRENCY,
        "currency_label": currency_label(),
        "export_formats": exports.FORMATS,
        "goals_panel_url": _goals_panel(),
    }


def _body_key(context: dict[str, Any], filters: Filters) -> str:
    """What the tiles, charts and tables of the page depend on besides the user: the
    snapshot build, the filters (with the saved segments' state, as ``kpis.on_demand``),
    today, the language, time zone, currency and margin, the filter bar's names (plans,
    channels, tags, segments) and the role."""
    now = timezone.now()
    parts = (
        context["freshness"]["built_at"].isoformat(),
        repr(filters),
        context["filter_query"],
        now.date().isoformat(),
        timezone.localdate(now).isoformat(),
        get_language(),
        timezone.get_current_timezone_name(),
        settings.TEND_CURRENCY,
        str(context["currency_label"]),
        str(settings.TEND_GROSS_MARGIN),
        repr([context[name] for name in ("plans", "channels", "tags", "segments")]),
        context["goals_panel_url"],
        context["can_write"],
        repr(context["export_formats"]),
    )
    return "tend-metrics-body:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _dashboard_body(request: HttpRequest, context: dict[str, Any], filters: Filters) -> None:
    """The tiles, charts and tables, rendered once per snapshot build and view.

    The figures only change when a refresh writes a new build (its time is part of the key),
    so a repeat of a view reuses the HTML this process rendered for it; the page around it
    (navigation, user, CSRF token, freshness) is rendered for every request.
    """
    key = _body_key(context, filters)
    found = cache.get(key)
    if found is None:
        context.update(display.dashboard_data(filters))
        html = render_to_string("metrics/_dashboard_body.html", context, request)
        found = (html, bool(context["kpis"]))
        cache.set(key, found, timeout=ON_DEMAND_SECONDS)
    html, has_kpis = found
    body: SafeString = mark_safe(html)  # rendered by our own template above
    context.update(dashboard_body=body, has_kpis=has_kpis)


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    """Revenue & retention: KPI tiles, charts and tables for the chosen filters."""
    choices = _choices()
    context = _base_context(request, choices)
    context["raw"] = request.GET
    context.update(_state())
    try:
        filters = _parse(request.GET, choices["plans"])
        context.update(filters=filters, filter_query=_query(filters))
        first, last = filters.months()
        context.update(range_start=first, range_end=last)
        if context["has_billing"] and context["built"]:
            _dashboard_body(request, context, filters)
    except FilterError as exc:
        context.update(error=_error_text(exc), error_field=exc.field, filter_query="")
        return render(request, "metrics/dashboard.html", context, status=400)
    return render(request, "metrics/dashboard.html", context)


@require_safe
def survival_panel(request: HttpRequest) -> HttpResponse:
    """The survival card for another grouping (htmx swaps it in place)."""
    choices = _choices()
    try:
        filters = _parse(request.GET, choices["plans"])
        by = request.GET.get("by") or "all"
        if by not in ("all", "plan", "channel"):
            raise FilterError("by", gettext("must be all, plan or channel"))
        context = {**display.survival_context(filters, by), "filter_query": _query(filters)}
    except FilterError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain; charset=utf-8")
    context["export_formats"] = exports.FORMATS
    return render(request, "metrics/_survival.html", context)


@require_POST
def refresh(request: HttpRequest) -> HttpResponse:
    """Queue a rebuild of the snapshots (owners and members; a viewer gets 403)."""
    require_write(request.user)
    result = metrics_refresh.enqueue()
    if result.status == TaskResultStatus.SUCCESSFUL:
        messages.success(request, _("The figures were recomputed."))
    else:
        messages.info(
            request,
            _("The figures are being recomputed in the background; reload in a minute."),
        )
    target = reverse("metrics:dashboard")
    try:
        query = _query(Filters.parse(QueryDict(request.POST.get("query", ""))))
    except FilterError:
        query = ""
    return redirect(f"{target}?{query}" if query else target)


@require_safe
def export(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    """One table of the page as CSV or XLSX, for the same filters."""
    if name not in exports.TABLES or fmt not in exports.FORMATS:
        raise Http404(_("No such table or format."))
    try:
        filters = _parse(request.GET, list(Plan.objects.values_list("pk", "name")))
        built = exports.build(name, filters)
        first, last = filters.months()
    except FilterError as exc:
        return HttpResponse(_error_text(exc), status=400, content_type="text/plain; charset=utf-8")
    stem = f"tend-{slugify(name)}-{first:%Y-%m}-{last:%Y-%m}"
    if fmt == "csv":
        response = HttpResponse(exports.to_csv(built), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            exports.to_xlsx(built),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


# --- monthly report ---------------------------------------------------------------------------


def _report_month(raw: str | None, today: date) -> date:
    """The month asked for, or the last full month; FilterError names "month"."""
    if not raw:
        return today.replace(day=1) - relativedelta(months=1)
    try:
        month = datetime.strptime(raw.strip(), "%Y-%m").date()
    except ValueError:
        raise FilterError(
            "month", gettext("“%(value)s” is not a month (YYYY-MM)") % {"value": raw}
        ) from None
    if month > today.replace(day=1):
        raise FilterError("month", gettext("must not be in the future"))
    return month


@require_safe
def report(request: HttpRequest) -> HttpResponse:
    """One month's KPIs against the month before, movements, cohorts and every formula."""
    choices = _choices()
    context = _base_context(request, choices)
    context["raw"] = request.GET
    today = timezone.now().date()
    context.update(_state())
    try:
        month = _report_month(request.GET.get("month"), today)
        data = request.GET.copy()
        for name in ("period", "start", "end", "month"):
            data.pop(name, None)
        filters = _parse(data, choices["plans"])
        context.update(month=month, filters=filters)
        context["filter_query"] = _query(filters)
        if context["has_billing"] and context["built"]:
            context.update(display.report_data(filters, month))
    except FilterError as exc:
        context.update(error=_error_text(exc), error_field=exc.field)
        return render(request, "metrics/report.html", context, status=400)
    context["filter_labels"] = display.filter_labels(filters, choices)
    return render(request, "metrics/report.html", context)
