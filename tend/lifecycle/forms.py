"""Forms of the lifecycle pages: a rule (its condition as JSON text) and a card's move."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tend.customers.models import Stage
from tend.lifecycle.actions import MAX_NAME, rule_clean
from tend.lifecycle.models import LifecycleRule

MAX_CONDITION_TEXT = 100_000


def condition_from_text(text: str) -> Any:
    """The JSON of a condition typed in the editor; ValidationError naming the spot."""
    if len(text) > MAX_CONDITION_TEXT:
        raise ValidationError(
            _("The condition is longer than %(max)s characters.") % {"max": MAX_CONDITION_TEXT}
        )
    if "\x00" in text:
        raise ValidationError(_("Text cannot contain a NUL character."))
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            _("Not valid JSON: %(error)s (line %(line)s, column %(col)s).")
            % {"error": exc.msg, "line": exc.lineno, "col": exc.colno}
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ValidationError(_("Not valid JSON: %(error)s.") % {"error": str(exc)[:200]}) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(_("%(name)s is not a number JSON allows") % {"name": name})


class RuleForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=MAX_NAME)
    stage = forms.ChoiceField(label=gettext_lazy("Move to stage"), choices=Stage.choices)
    from_stages = forms.MultipleChoiceField(
        label=gettext_lazy("Only customers now in"),
        choices=Stage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Leave all unticked for customers in any stage."),
    )
    enabled = forms.BooleanField(label=gettext_lazy("Enabled"), required=False, initial=True)
    condition = forms.CharField(
        label=gettext_lazy("Condition (JSON)"),
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        max_length=MAX_CONDITION_TEXT,
    )

    def clean_condition(self) -> Any:
        return condition_from_text(self.cleaned_data["condition"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            values = rule_clean(
                name=data.get("name"),
                condition=data.get("condition"),
                stage=data.get("stage"),
                from_stages=list(data.get("from_stages") or []),
                enabled=bool(data.get("enabled")),
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
            return data
        data.update(values)
        return data

    @staticmethod
    def initial_for(rule: LifecycleRule) -> dict[str, Any]:
        return {
            "name": rule.label,
            "stage": rule.stage,
            "from_stages": rule.from_stages,
            "enabled": rule.enabled,
            "condition": json.dumps(rule.condition, indent=2, ensure_ascii=False),
        }

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {k: data[k] for k in ("name", "condition", "stage", "from_stages", "enabled")}


class MoveForm(forms.Form):
    stage = forms.ChoiceField(label=gettext_lazy("Move to"), choices=Stage.choices)
