"""REST endpoints for lifecycle rules (owners change them, everyone reads), the board's
totals, a dry run, and clearing a stage override.

Authorised by tend.api.auth before they run (read keys and viewers only read); rule writes
also need an owner (configuration). ValidationError from the actions becomes a 422 naming the
field; a condition error names the path inside the condition.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.api.auth import Principal
from tend.api.errors import FieldError
from tend.api.schemas import (
    ERRORS,
    ERRORS_404,
    UNSET,
    InputSchema,
    Money,
    Page,
    PageParams,
    PathId,
    QueryId,
    StrictBool,
    StrictInt,
    UtcDatetime,
    money,
    paginate,
)
from tend.customers.models import Customer, Stage
from tend.lib.access import require_manage, require_write
from tend.lifecycle.actions import (
    rule_create,
    rule_delete,
    rule_update,
    rules_reorder,
    stage_override_clear,
)
from tend.lifecycle.engine import lifecycle_evaluate, lifecycle_react
from tend.lifecycle.models import LifecycleRule, StageOverride
from tend.lifecycle.queries import board_totals
from tend.segments.conditions import ConditionError, customers_matching
from tend.segments.models import Segment

router = Router(tags=["lifecycle"])

CONDITION_DOC = (
    "A condition in the language shared with segments (docs/lifecycle.md): "
    '`{"all": [...]}`, `{"any": [...]}`, `{"not": ...}`, leaves '
    '`{"field": "mrr", "op": "gt", "value": 100}`. Errors name the path, e.g. `all[1].op`.'
)


class RuleOut(Schema):
    id: int
    name: str = Field(..., description="In the reader's language for a built-in rule.")
    key: str = Field(..., description="The built-in rule it was seeded from, or empty.")
    position: int = Field(..., description="Rules are evaluated in ascending position.")
    enabled: bool
    condition: dict[str, Any]
    stage: str = Field(..., description="The stage a matching customer is moved to.")
    from_stages: list[str] = Field(..., description="Only customers now in these; [] = any.")
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @staticmethod
    def resolve_name(obj: LifecycleRule) -> str:
        return obj.label


class RulePage(Page):
    items: list[RuleOut]


# A rule's name has something besides blanks; its stages are lifecycle stages. The document
# says so, so a client (and the API's property test) knows before sending.
RuleName = Annotated[str, Field(min_length=1, max_length=120, pattern=r"\S")]
StageName = Literal[tuple(Stage.values)]  # type: ignore[valid-type]


class RuleIn(InputSchema):
    name: RuleName
    condition: dict[str, Any] = Field(..., description=CONDITION_DOC)
    stage: StageName = Field(..., description="The stage a matching customer is moved to.")  # type: ignore[valid-type]
    from_stages: list[StageName] = Field([], max_length=len(Stage.values))  # type: ignore[valid-type]
    enabled: StrictBool = True
    position: StrictInt | None = Field(
        None, ge=0, le=1_000_000, description="Default: after every other rule."
    )


class RulePatch(InputSchema):
    name: RuleName = UNSET
    condition: dict[str, Any] = Field(UNSET, description=CONDITION_DOC)
    stage: StageName = UNSET  # type: ignore[valid-type]
    from_stages: list[StageName] = Field(UNSET, max_length=len(Stage.values))  # type: ignore[valid-type]
    enabled: StrictBool = UNSET


class OrderIn(InputSchema):
    order: list[StrictInt] = Field(..., max_length=10_000, description="Every rule id once.")


class StageTotal(Schema):
    stage: str
    label: str
    count: int
    mrr: Money = Field(..., description="Sum of the MRR of the stage's customers.")


class BoardOut(Schema):
    segment_id: int | None
    mrr_formula: str
    stages: list[StageTotal]


class BoardParams(Schema):
    segment: QueryId | None = Field(None, description="Only customers of this saved segment.")


class MoveOut(Schema):
    customer_id: int
    name: str
    from_stage: str
    to_stage: str
    rule_id: int | None
    rule: str


class RunOut(Schema):
    dry_run: bool
    matched: int
    moved: int
    moves: list[MoveOut] = Field(..., description="At most 500 of the moves, by rule.")


class RunIn(InputSchema):
    dry_run: StrictBool = True


class OverrideOut(Schema):
    customer_id: int
    stage: str
    by: str | None = Field(..., description="Username.")
    at: UtcDatetime
    reason: str

    @staticmethod
    def resolve_by(obj: StageOverride) -> str | None:
        return obj.by.username if obj.by is not None else None


class OverridePage(Page):
    items: list[OverrideOut]


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def _rule(pk: int) -> LifecycleRule:
    rule = LifecycleRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404(f"Lifecycle rule {pk} not found.")
    return rule


@router.get("/lifecycle/rules", response={200: RulePage, **ERRORS})
def lifecycle_rule_list(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    """The rules in evaluation order (first match wins)."""
    return paginate(LifecycleRule.objects.in_order(), paging)


@router.post("/lifecycle/rules", response={201: RuleOut, **ERRORS})
def lifecycle_rule_create(request: HttpRequest, payload: RuleIn) -> Status[LifecycleRule]:
    """Add a rule (owners). A bad condition is a 422 naming its path; nothing is saved."""
    who = _principal(request)
    require_manage(who.user)
    rule = rule_create(by=who.user, label=who.label, **payload.model_dump())
    return Status(201, rule)


@router.post("/lifecycle/rules/order", response={200: RulePage, **ERRORS})
def lifecycle_rule_reorder(request: HttpRequest, payload: OrderIn) -> dict[str, Any]:
    """Set the evaluation order (owners): every rule's id exactly once."""
    who = _principal(request)
    require_manage(who.user)
    rules_reorder(order=payload.order, by=who.user, label=who.label)
    return paginate(LifecycleRule.objects.in_order(), PageParams(limit=200, offset=0))


@router.get("/lifecycle/rules/{rule_id}", response={200: RuleOut, **ERRORS_404})
def lifecycle_rule_retrieve(request: HttpRequest, rule_id: PathId) -> LifecycleRule:
    """One rule."""
    return _rule(rule_id)


@router.patch("/lifecycle/rules/{rule_id}", response={200: RuleOut, **ERRORS_404})
def lifecycle_rule_update(
    request: HttpRequest, rule_id: PathId, payload: RulePatch
) -> LifecycleRule:
    """Change the fields sent (owners); all or nothing."""
    who = _principal(request)
    require_manage(who.user)
    rule = _rule(rule_id)
    rule_update(rule=rule, by=who.user, label=who.label, **payload.model_dump(exclude_unset=True))
    return _rule(rule_id)


@router.delete("/lifecycle/rules/{rule_id}", response={204: None, **ERRORS_404})
def lifecycle_rule_delete(request: HttpRequest, rule_id: PathId) -> Status[None]:
    """Delete a rule (owners); the moves it made stay in the customers' history."""
    who = _principal(request)
    require_manage(who.user)
    rule_delete(rule=_rule(rule_id), by=who.user, label=who.label)
    return Status(204, None)


@router.post("/lifecycle/run", response={200: RunOut, **ERRORS})
def lifecycle_run(request: HttpRequest, payload: RunIn) -> dict[str, Any]:
    """Evaluate the enabled rules for every customer now. ``dry_run`` (the default) only
    reports who would move; a real run needs an owner."""
    who = _principal(request)
    if not payload.dry_run:
        require_manage(who.user)
        lifecycle_react(evaluate=False)  # a stage set by hand minutes ago is an override first
    evaluation = lifecycle_evaluate(apply=not payload.dry_run)
    moves: list[dict[str, Any]] = []
    for outcome in evaluation.outcomes:
        for customer in outcome.moved:
            if len(moves) >= 500:
                break
            moves.append(
                {
                    "customer_id": customer.pk,
                    "name": customer.name,
                    "from_stage": outcome.previous.get(customer.pk, ""),
                    "to_stage": outcome.rule.stage,
                    "rule_id": outcome.rule.pk,
                    "rule": outcome.rule.label,
                }
            )
    return {
        "dry_run": payload.dry_run,
        "matched": evaluation.matched,
        "moved": evaluation.moved,
        "moves": moves,
    }


@router.get("/lifecycle/board", response={200: BoardOut, **ERRORS_404})
def lifecycle_board(request: HttpRequest, params: Query[BoardParams]) -> dict[str, Any]:
    """Customers and MRR per stage, in lifecycle order (optionally of one segment)."""
    customers: QuerySet[Customer] = Customer.objects.all()
    if params.segment is not None:
        segment = Segment.objects.filter(pk=params.segment).first()
        if segment is None:
            raise FieldError("segment", f"No segment with id {params.segment}.", code="unknown")
        try:
            customers = customers_matching(segment.condition)
        except ConditionError as exc:
            raise FieldError("segment", exc.text()) from None
    totals = board_totals(customers)
    currency = settings.TEND_CURRENCY
    return {
        "segment_id": params.segment,
        "mrr_formula": "stage MRR = sum of customer MRR (active and past-due subscriptions, "
        "normalised to a month) over the customers in the stage",
        "stages": [
            {
                "stage": value,
                "label": str(label),
                "count": totals.get(value, (0, Decimal("0")))[0],
                "mrr": money(totals.get(value, (0, Decimal("0")))[1], currency),
            }
            for value, label in Stage.choices
        ],
    }


@router.get("/lifecycle/overrides", response={200: OverridePage, **ERRORS})
def lifecycle_override_list(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    """Customers whose stage was set by hand (rules paused for them), newest first."""
    qs = StageOverride.objects.active().select_related("by").order_by("-at", "customer_id")
    return paginate(qs, paging)


@router.delete("/lifecycle/overrides/{customer_id}", response={204: None, **ERRORS_404})
def lifecycle_override_clear(request: HttpRequest, customer_id: PathId) -> Status[None]:
    """Clear a customer's override (owners and members): the rules apply to them again at
    once. 404 when the customer has no override."""
    who = _principal(request)
    require_write(who.user)
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None or not stage_override_clear(
        customer=customer, by=who.user, label=who.label
    ):
        raise Http404(f"Customer {customer_id} has no stage override.")
    return Status(204, None)
