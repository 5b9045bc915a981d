"""Writes for lifecycle rules and stage overrides; every one validated, atomic and audited.

Rules are configuration: owners change them (the views and endpoints check the role). A
``ValidationError`` names the field at fault (``condition`` errors name the path inside the
condition too), and nothing is saved when one is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record, audit_record_bulk
from tend.accounts.models import User
from tend.customers.actions import customer_change_stage
from tend.customers.models import Customer, Stage
from tend.lifecycle.models import LifecycleRule, StageOverride
from tend.segments.conditions import ConditionError, condition_parse

MAX_NAME = 120
MAX_REASON = 500


def _text_error(value: str) -> str | None:
    if "\x00" in value:
        return _("Text cannot contain a NUL character.")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return _("Text cannot contain a lone surrogate.")
    return None


def rule_clean(
    *,
    name: Any,
    condition: Any,
    stage: Any,
    from_stages: Any = (),
    enabled: Any = True,
) -> dict[str, Any]:
    """Validated field values of a rule; raises ValidationError naming every field at fault."""
    errors: dict[str, list[str]] = {}
    if not isinstance(name, str) or not name.strip():
        errors["name"] = [_("Give the rule a name.")]
    else:
        name = name.strip()
        problem = _text_error(name)
        if problem:
            errors["name"] = [problem]
        elif len(name) > MAX_NAME:
            errors["name"] = [_("A name has at most %(max)s characters.") % {"max": MAX_NAME}]
    try:
        condition = condition_parse(condition).as_json()
    except ConditionError as exc:
        errors["condition"] = [exc.text()]
    except RecursionError:
        errors["condition"] = [_("The condition is nested too deeply.")]
    if not isinstance(stage, str) or stage not in Stage.values:
        errors["stage"] = [
            _("“%(value)s” is not a lifecycle stage; stages: %(stages)s.")
            % {"value": str(stage)[:40], "stages": ", ".join(Stage.values)}
        ]
    froms: list[str] = []
    if from_stages is None:
        from_stages = []
    if not isinstance(from_stages, list | tuple) or len(from_stages) > len(Stage.values):
        errors["from_stages"] = [_("Give a list of lifecycle stages.")]
    else:
        for value in from_stages:
            if not isinstance(value, str) or value not in Stage.values:
                errors["from_stages"] = [
                    _("“%(value)s” is not a lifecycle stage; stages: %(stages)s.")
                    % {"value": str(value)[:40], "stages": ", ".join(Stage.values)}
                ]
                break
            if value not in froms:
                froms.append(value)
    if not isinstance(enabled, bool):
        errors["enabled"] = [_("Enabled is true or false.")]
    if errors:
        raise ValidationError(errors)
    # Stored in Stage order, so two equal lists compare equal.
    froms = [s for s in Stage.values if s in froms]
    return {
        "name": name,
        "condition": condition,
        "stage": stage,
        "from_stages": froms,
        "enabled": enabled,
    }


@transaction.atomic
def rule_create(
    *,
    by: User | None,
    name: Any,
    condition: Any,
    stage: Any,
    from_stages: Any = (),
    enabled: Any = True,
    position: int | None = None,
    label: str = "",
) -> LifecycleRule:
    """Add a rule; by default it goes last (evaluated after every other rule)."""
    values = rule_clean(
        name=name, condition=condition, stage=stage, from_stages=from_stages, enabled=enabled
    )
    if position is None:
        last = LifecycleRule.objects.aggregate(top=Max("position"))["top"] or 0
        position = last + 10
    rule = LifecycleRule.objects.create(
        **values, position=position, created_by=by if by is not None and by.pk else None
    )
    audit_record(
        by=by,
        label=label,
        action="lifecycle.rule.create",
        obj=rule,
        changes={"name": rule.name, "stage": rule.stage},
    )
    return rule


@transaction.atomic
def rule_update(
    *, rule: LifecycleRule, by: User | None, label: str = "", **fields: Any
) -> LifecycleRule:
    """Change the given fields (name, condition, stage, from_stages, enabled); all or none."""
    unknown = set(fields) - {"name", "condition", "stage", "from_stages", "enabled"}
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed.")] for f in sorted(unknown)})
    current = {
        "name": rule.name,
        "condition": rule.condition,
        "stage": rule.stage,
        "from_stages": rule.from_stages,
        "enabled": rule.enabled,
    }
    values = rule_clean(**{**current, **fields})
    changes = {k: (current[k], v) for k, v in values.items() if current[k] != v}
    if not changes:
        return rule
    for key, value in values.items():
        setattr(rule, key, value)
    rule.updated_at = timezone.now()
    rule.save()
    audit_record(
        by=by,
        label=label,
        action="lifecycle.rule.update",
        obj=rule,
        changes={k: v for k, v in changes.items() if k != "condition"}
        | ({"condition": "changed"} if "condition" in changes else {}),
    )
    return rule


@transaction.atomic
def rule_delete(*, rule: LifecycleRule, by: User | None, label: str = "") -> None:
    """Remove a rule. Stage changes it made stay in the customers' history."""
    audit_record(
        by=by, label=label, action="lifecycle.rule.delete", obj=rule, changes={"name": rule.name}
    )
    rule.delete()


@transaction.atomic
def rules_reorder(*, order: Sequence[int], by: User | None, label: str = "") -> None:
    """Put the rules in ``order`` (every rule's id exactly once); positions become 10, 20, …"""
    ids = list(LifecycleRule.objects.values_list("pk", flat=True))
    if sorted(order) != sorted(ids) or len(set(order)) != len(order):
        # Which ids are right depends on the rules stored now: "range", like other values
        # that are each well-formed but wrong together.
        raise ValidationError(
            {
                "order": ValidationError(
                    _("Give every rule's id exactly once, in the new order."), code="range"
                )
            }
        )
    rules = LifecycleRule.objects.in_bulk(list(order))
    moved: list[tuple[LifecycleRule, dict[str, Any]]] = []
    for i, pk in enumerate(order, 1):
        if rules[pk].position != i * 10:
            moved.append((rules[pk], {"position": (rules[pk].position, i * 10)}))
            rules[pk].position = i * 10
    if moved:
        LifecycleRule.objects.bulk_update([r for r, _c in moved], ["position"])
        audit_record_bulk(by=by, label=label, action="lifecycle.rule.reorder", rows=moved)


@transaction.atomic
def rule_move(*, rule: LifecycleRule, by: User | None, up: bool, label: str = "") -> None:
    """Swap a rule with the one before (``up``) or after it in evaluation order."""
    order = list(LifecycleRule.objects.in_order().values_list("pk", flat=True))
    i = order.index(rule.pk)
    j = i - 1 if up else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
        rules_reorder(order=order, by=by, label=label)


# --- overrides --------------------------------------------------------------------------------


@transaction.atomic
def customer_set_stage_by_hand(
    *,
    customer: Customer,
    stage: str,
    by: User,
    reason: str = "",
    label: str = "",
) -> Customer:
    """A person moves a customer: the stage change, and an override so rules leave it there."""
    if stage not in Stage.values:
        raise ValidationError(
            {
                "stage": [
                    _("“%(value)s” is not a lifecycle stage; stages: %(stages)s.")
                    % {"value": str(stage)[:40], "stages": ", ".join(Stage.values)}
                ]
            }
        )
    problem = _text_error(reason)
    if problem or len(reason) > MAX_REASON:
        raise ValidationError({"reason": [problem or _("A reason has at most 500 characters.")]})
    at = timezone.now()
    customer_change_stage(customer=customer, stage=stage, by=by, reason=reason, at=at, label=label)
    stage_override_set(customer_id=customer.pk, stage=stage, by=by, at=at, reason=reason)
    return customer


def stage_override_set(
    *, customer_id: int, stage: str, by: User | None, at: datetime, reason: str = ""
) -> StageOverride:
    """Record (or renew) the override of a customer's stage."""
    row, _created = StageOverride.objects.update_or_create(
        customer_id=customer_id,
        defaults={
            "stage": stage,
            "by": by if by is not None and by.pk else None,
            "at": at,
            "reason": reason[:MAX_REASON],
            "cleared_at": None,
            "cleared_by": None,
        },
    )
    return row


@transaction.atomic
def stage_override_clear(*, customer: Customer, by: User | None, label: str = "") -> bool:
    """Let the rules move the customer again; False when there was no override to clear.

    The rules are applied to the customer at once, so the page shows where they now belong."""
    now = timezone.now()
    cleared = (
        StageOverride.objects.active()
        .filter(customer=customer)
        .update(cleared_at=now, cleared_by=by if by is not None and by.pk else None)
    )
    if not cleared:
        return False
    audit_record(
        by=by,
        label=label,
        action="lifecycle.override.clear",
        obj=customer,
        changes={"override": "cleared"},
    )
    from tend.lifecycle.engine import lifecycle_evaluate

    lifecycle_evaluate(customer_ids=[customer.pk])
    return True
