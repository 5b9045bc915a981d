"""Lifecycle pages: the board (columns by stage), moving a card by hand, clearing an override,
and the owners' rules editor with its dry run."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.customers.models import Customer, Stage
from tend.lib.access import can_manage, can_write, require_manage, write_view
from tend.lifecycle.actions import (
    customer_set_stage_by_hand,
    rule_create,
    rule_delete,
    rule_move,
    rule_update,
    stage_override_clear,
)
from tend.lifecycle.engine import Evaluation, lifecycle_evaluate
from tend.lifecycle.forms import MoveForm, RuleForm, condition_from_text
from tend.lifecycle.models import LifecycleRule
from tend.lifecycle.queries import CARDS_PER_COLUMN, board_columns
from tend.segments.conditions import (
    ConditionError,
    condition_describe,
    condition_parse,
    customers_matching,
)
from tend.segments.models import Segment

PREVIEW_ROWS = 50


def _segment(request: HttpRequest) -> Segment | None:
    raw = request.GET.get("segment", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise Http404(_("No segment with id “%(id)s”.") % {"id": raw[:40]})
    segment = Segment.objects.filter(pk=int(raw)).first()
    if segment is None:
        raise Http404(_("No segment with id “%(id)s”.") % {"id": raw})
    return segment


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """Columns by stage with each one's count and MRR; the customers of highest MRR as cards."""
    segment = _segment(request)
    customers: QuerySet[Customer] = Customer.objects.all()
    segment_error = ""
    if segment is not None:
        try:
            customers = customers_matching(segment.condition)
        except ConditionError as exc:
            segment_error = exc.text()
            customers = Customer.objects.none()
    columns = board_columns(customers, per_column=CARDS_PER_COLUMN)
    return render(
        request,
        "lifecycle/board.html",
        {
            "columns": columns,
            "segment": segment,
            "segment_error": segment_error,
            "segments": list(Segment.objects.order_by("name").values_list("pk", "name")[:200]),
            "stages": Stage.choices,
            "total": sum(c.count for c in columns),
            "can_move": can_write(request.user),
            "per_column": CARDS_PER_COLUMN,
        },
    )


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_POST
@write_view
def card_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a customer to a stage by hand (a card dragged, or the card's form): an override."""
    customer = get_object_or_404(Customer, pk=pk)
    form = MoveForm(request.POST)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if not form.is_valid():
        if wants_json:
            return JsonResponse({"errors": form.errors.get_json_data()}, status=422)
        for error in form.errors.get("stage", []):
            messages.error(request, _("Stage: %(error)s") % {"error": error})
        return redirect(_safe_next(request, reverse("lifecycle:board")))
    stage = form.cleaned_data["stage"]
    customer_set_stage_by_hand(customer=customer, stage=stage, by=request.user)  # type: ignore[arg-type]
    if wants_json:
        return JsonResponse({"id": customer.pk, "stage": customer.stage})
    messages.success(
        request,
        _("%(name)s moved to %(stage)s; lifecycle rules leave them there until you clear it.")
        % {"name": customer.name, "stage": customer.get_stage_display()},
    )
    return redirect(_safe_next(request, reverse("lifecycle:board")))


@require_POST
@write_view
def override_clear(request: HttpRequest, pk: int) -> HttpResponse:
    """Clear a customer's stage override; the rules apply to them again at once."""
    customer = get_object_or_404(Customer, pk=pk)
    if stage_override_clear(customer=customer, by=request.user):  # type: ignore[arg-type]
        customer.refresh_from_db()
        messages.success(
            request,
            _("Override cleared; the lifecycle rules put %(name)s in %(stage)s.")
            % {"name": customer.name, "stage": customer.get_stage_display()},
        )
    return redirect(_safe_next(request, reverse("customers:detail", args=[customer.pk])))


# --- rules editor (owners) ---------------------------------------------------------------------


@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    """The rules in evaluation order; owners change them, everyone may read them."""
    rules = list(LifecycleRule.objects.in_order().select_related("created_by"))
    rows = []
    for rule in rules:
        try:
            text = condition_describe(condition_parse(rule.condition))
            error = ""
        except ConditionError as exc:
            text, error = "", exc.text()
        rows.append({"rule": rule, "describe": text, "error": error})
    return render(
        request,
        "lifecycle/rules.html",
        {"rows": rows, "can_manage": can_manage(request.user)},
    )


def _preview(form: RuleForm, rule: LifecycleRule | None) -> tuple[Evaluation, Any]:
    """Evaluate every enabled rule with the edited one in its place (or last when new), and
    return the evaluation and the outcome of the edited rule. Nothing is written."""
    values = form.values()
    candidate = LifecycleRule(
        pk=rule.pk if rule else None,
        key=rule.key if rule else "",
        position=rule.position if rule else 10**9,
        **values,
    )
    rules = [r for r in LifecycleRule.objects.active() if rule is None or r.pk != rule.pk]
    if candidate.enabled:
        rules.append(candidate)
    rules.sort(key=lambda r: (r.position, r.pk or 10**18))
    evaluation = lifecycle_evaluate(rules=rules, apply=False)
    mine = next((o for o in evaluation.outcomes if o.rule is candidate), None)
    return evaluation, mine


def _render_form(
    request: HttpRequest,
    form: RuleForm,
    rule: LifecycleRule | None,
    *,
    status: int = 200,
    preview: tuple[Evaluation, Any] | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "rule": rule,
        "preview_rows": PREVIEW_ROWS,
        # The live check's first answer (a condition error is shown by the form instead).
        **(_check(str(form["condition"].value() or "")) if "condition" not in form.errors else {}),
    }
    if preview is not None:
        evaluation, mine = preview
        context["evaluation"] = evaluation
        context["mine"] = mine
        context["mine_moves"] = mine.moved[:PREVIEW_ROWS] if mine else []
    return render(request, "lifecycle/rule_form.html", context, status=status)


def _save_or_preview(request: HttpRequest, rule: LifecycleRule | None) -> HttpResponse:
    form = RuleForm(request.POST)
    if not form.is_valid():
        return _render_form(request, form, rule, status=422)
    if request.POST.get("action") == "preview":
        return _render_form(request, form, rule, preview=_preview(form, rule))
    try:
        if rule is None:
            rule = rule_create(by=request.user, **form.values())  # type: ignore[arg-type]
            messages.success(request, _("Rule “%(name)s” added.") % {"name": rule.label})
        else:
            values = form.values()
            if rule.key and values["name"] == rule.label:
                values["name"] = rule.name  # unchanged: keep the message id
            rule_update(rule=rule, by=request.user, **values)  # type: ignore[arg-type]
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.label})
    except ValidationError as exc:
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        if rule is not None:
            rule.refresh_from_db()
        return _render_form(request, form, rule, status=422)
    return redirect("lifecycle:rules")


@require_http_methods(["GET", "POST"])
def rule_new(request: HttpRequest) -> HttpResponse:
    """Add a rule (owners): it is evaluated after the existing ones."""
    require_manage(request.user)
    if request.method != "POST":
        initial = {"enabled": True, "condition": '{\n  "all": [\n  ]\n}'}
        return _render_form(request, RuleForm(initial=initial), None)
    return _save_or_preview(request, None)


@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a rule (owners); "Preview" shows who would move before saving."""
    require_manage(request.user)
    rule = get_object_or_404(LifecycleRule, pk=pk)
    if request.method != "POST":
        return _render_form(request, RuleForm(initial=RuleForm.initial_for(rule)), rule)
    return _save_or_preview(request, rule)


@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Enable or disable a rule (owners)."""
    require_manage(request.user)
    rule = get_object_or_404(LifecycleRule, pk=pk)
    rule_update(rule=rule, by=request.user, enabled=not rule.enabled)  # type: ignore[arg-type]
    return redirect(reverse("lifecycle:rules") + f"#rule-{rule.pk}")


@require_POST
def rule_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a rule one place earlier or later in the evaluation order (owners)."""
    require_manage(request.user)
    rule = get_object_or_404(LifecycleRule, pk=pk)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        messages.error(request, _("Direction: choose up or down."))
    else:
        rule_move(rule=rule, by=request.user, up=direction == "up")  # type: ignore[arg-type]
    return redirect(reverse("lifecycle:rules") + f"#rule-{rule.pk}")


@require_POST
def rule_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a rule (owners); the moves it made stay in customers' history."""
    require_manage(request.user)
    rule = get_object_or_404(LifecycleRule, pk=pk)
    label = rule.label
    rule_delete(rule=rule, by=request.user)  # type: ignore[arg-type]
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": label})
    return redirect("lifecycle:rules")


@require_POST
def condition_check(request: HttpRequest) -> HttpResponse:
    """The editor's live check (htmx): the condition's error naming its path, or its meaning."""
    require_manage(request.user)
    return render(
        request, "lifecycle/_condition_check.html", _check(request.POST.get("condition", ""))
    )


def _check(text: str) -> dict[str, str]:
    """What the editor says under the condition: the first problem with its path, or what the
    condition means."""
    if not text.strip():
        return {"error": "", "meaning": ""}
    try:
        meaning = condition_describe(condition_parse(condition_from_text(text)))
    except ValidationError as exc:
        return {"error": " ".join(exc.messages), "meaning": ""}
    except ConditionError as exc:
        return {"error": exc.text(), "meaning": ""}
    except RecursionError:
        return {"error": _("The condition is nested too deeply."), "meaning": ""}
    return {"error": "", "meaning": meaning}
