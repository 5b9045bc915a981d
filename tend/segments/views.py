"""Segment pages: the list, the rule builder (new and edit), the detail page with history and
members, and the builder's live count.

Everyone logged in reads; owners and members create, change, refresh and delete (viewers get
403 on every POST and nothing changes). Writes go through ``tend.segments.actions``.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.lib.access import can_write, require_write, write_view
from tend.segments.actions import (
    DESCRIPTION_MAX,
    NAME_MAX,
    segment_create,
    segment_delete,
    segment_update,
)
from tend.segments.builder import builder_context
from tend.segments.conditions import (
    ConditionError,
    condition_describe,
    condition_parse,
    customers_matching,
)
from tend.segments.membership import segments_refresh, today_utc
from tend.segments.models import Segment
from tend.segments.queries import (
    CHANGE_DAYS,
    ConditionTextError,
    change_window,
    condition_from_text,
    daily_history,
    members_figure,
    members_page_qs,
    moves_by_segment,
    moves_figure,
)

MEMBERS_PAGE = 50


class SegmentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    condition = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_condition(self) -> Any:
        text = self.cleaned_data.get("condition") or ""
        if not text.strip():
            return {"all": []}
        try:
            return condition_from_text(text)
        except ConditionTextError as exc:
            raise ValidationError(str(exc), "condition") from None

    def condition_problem(self) -> dict[str, str] | None:
        """The condition's error as the builder shows it: its path and message."""
        problem: dict[str, str] | None = getattr(self, "_condition_problem", None)
        if problem is None and self.errors.get("condition"):
            problem = {"path": "", "message": " ".join(str(e) for e in self.errors["condition"])}
        return problem

    def add_action_errors(self, exc: ValidationError) -> None:
        for field, errors in exc.error_dict.items():
            for error in errors:
                if field == "condition" and error.params:
                    self._condition_problem = {
                        "path": str(error.params.get("path", "")),
                        "message": str(error.params.get("message", "")),
                    }
                message = " ".join(error.messages)
                self.add_error(field if field in self.fields else None, message)


def _condition_text(condition: Any) -> str:
    return json.dumps(condition, ensure_ascii=False)


@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    """Every segment: members at the last refresh and who entered and left in 30 days."""
    segments = list(Segment.objects.order_by("name", "pk"))
    moves = moves_by_segment([s.pk for s in segments])
    start, _end = change_window()
    rows = [{"segment": s, "moves": moves.get(s.pk)} for s in segments]
    return render(
        request,
        "segments/list.html",
        {
            "rows": rows,
            "can_write": can_write(request.user),
            "change_days": CHANGE_DAYS,
            "window_start": start,
            "window_last": today_utc(),
        },
    )


def _render_builder(
    request: HttpRequest, form: SegmentForm, segment: Segment | None, *, status: int = 200
) -> HttpResponse:
    raw = form.data.get("condition") if form.is_bound else None
    if raw is None:
        raw = _condition_text(form.initial.get("condition") or {"all": []})
    return render(
        request,
        "segments/builder.html",
        {
            "form": form,
            "segment": segment,
            "condition_text": raw,
            "condition_problem": form.condition_problem() if form.is_bound else None,
            **builder_context(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@write_view
def segment_new(request: HttpRequest) -> HttpResponse:
    """Build a new segment (owners and members)."""
    user = require_write(request.user)
    if request.method != "POST":
        return _render_builder(request, SegmentForm(initial={"condition": {"all": []}}), None)
    form = SegmentForm(request.POST)
    if form.is_valid():
        try:
            segment = segment_create(by=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            messages.success(
                request,
                _("Segment “%(name)s” saved: %(count)s customers match.")
                % {"name": segment.name, "count": f"{segment.member_count:,}"},
            )
            return redirect("segments:detail", pk=segment.pk)
    return _render_builder(request, form, None, status=422)


@require_http_methods(["GET", "POST"])
@write_view
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a segment's name, description or rule; a new rule refreshes its members."""
    user = require_write(request.user)
    segment = get_object_or_404(Segment, pk=pk)
    if request.method != "POST":
        initial = {
            "name": segment.name,
            "description": segment.description,
            "condition": segment.condition,
        }
        return _render_builder(request, SegmentForm(initial=initial), segment)
    form = SegmentForm(request.POST)
    if form.is_valid():
        try:
            segment_update(segment=segment, by=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_action_errors(exc)
            segment.refresh_from_db()
        else:
            messages.success(request, _("Segment “%(name)s” saved.") % {"name": segment.name})
            return redirect("segments:detail", pk=segment.pk)
    return _render_builder(request, form, segment, status=422)


@require_GET
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A segment: its rule in words, membership history and members."""
    segment = get_object_or_404(Segment.objects.select_related("created_by"), pk=pk)
    try:
        sentence = condition_describe(condition_parse(segment.condition))
        condition_error = ""
    except ConditionError as exc:
        sentence = ""
        condition_error = exc.text()
    history = daily_history(segment)
    start, end = change_window()
    recent = [h for h in history if start <= h.day < end and not h.first]
    paginator = Paginator(members_page_qs(segment), MEMBERS_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "segments/detail.html",
        {
            "segment": segment,
            "sentence": sentence,
            "condition_error": condition_error,
            "entered_30": sum(h.entered for h in recent),
            "left_30": sum(h.left for h in recent),
            "change_days": CHANGE_DAYS,
            "moves_figure": moves_figure(history),
            "members_figure": members_figure(history),
            "first_day": history[0].day if history else None,
            "first_members": history[0].members if history else 0,
            "page": page,
            "members": list(page.object_list),
            "can_write": can_write(request.user),
            "currency": settings.TEND_CURRENCY,
            "condition_json": json.dumps(segment.condition, ensure_ascii=False, indent=2),
        },
    )


@require_POST
@write_view
def segment_refresh_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Recompute the members now (the daily pipeline does it for every segment)."""
    segment = get_object_or_404(Segment, pk=pk)
    [result] = segments_refresh(segments=[segment])
    if result.error:
        messages.error(
            request, _("The segment could not be refreshed: %(error)s") % {"error": result.error}
        )
    elif result.skipped:
        messages.warning(request, _("Not refreshed: it was refreshed for a later day already."))
    else:
        messages.success(
            request,
            _("Refreshed: %(entered)s entered, %(left)s left, %(members)s members.")
            % {
                "entered": f"{result.entered:,}",
                "left": f"{result.left:,}",
                "members": f"{result.members:,}",
            },
        )
    return redirect("segments:detail", pk=segment.pk)


@require_POST
@write_view
def segment_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a segment with its history (refused while another segment uses it)."""
    segment = get_object_or_404(Segment, pk=pk)
    name = segment.name
    try:
        segment_delete(segment=segment, by=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("segments:detail", pk=pk)
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": name})
    return redirect("segments:list")


@require_http_methods(["GET", "POST"])
@write_view
def segment_count(request: HttpRequest) -> HttpResponse:
    """The builder's live preview (htmx partial): how many customers match the posted
    condition now, the rule in words, or the error at its path. Reads only; the builder
    POSTs (only writers have it), anyone may GET with ``?condition=``."""
    data = request.POST if request.method == "POST" else request.GET
    context: dict[str, Any] = {"count": None, "sentence": "", "problem": None}
    try:
        raw = condition_from_text(data.get("condition") or '{"all": []}')
        condition = condition_parse(raw)
    except ConditionTextError as exc:
        context["problem"] = {"path": "", "message": str(exc), "text": str(exc)}
    except ConditionError as exc:
        context["problem"] = {"path": exc.path, "message": exc.message, "text": exc.text()}
    except RecursionError:
        message = _("The condition is nested too deeply.")
        context["problem"] = {"path": "", "message": message, "text": message}
    else:
        context["count"] = customers_matching(condition).count()
        context["sentence"] = condition_describe(condition)
    return render(request, "segments/_preview.html", context)
