"""Forms of the playbook pages: the editor (its trigger settings, condition and steps arrive as
JSON in hidden fields the editor's script keeps in step) and a manual start.

The JSON is read here with limits (length, depth, no NUL, no lone surrogate); what it means is
checked by the engine (``playbook_create`` / ``playbook_update``), whose errors name a path such
as ``steps[2].config.template`` that ``field_of`` maps back to a form field.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tend.playbooks.models import Playbook, Reentry
from tend.playbooks.registry import triggers

MAX_NAME = 120
MAX_DESCRIPTION = 2000
MAX_JSON_TEXT = 200_000  # characters of one JSON field
MAX_JSON_DEPTH = 32  # nested arrays/objects; a three-level branch with a deep condition fits
MAX_STEPS = 50  # top-level steps and every branch's steps together
MAX_REENTRY_DAYS = 3650
MAX_HOLDOUT = 90
MAX_OUTCOME_DAYS = 365
OUTCOME_KINDS = ("retention", "mrr", "event")

NO_CONDITION: tuple[Any, ...] = (None, {}, {"all": []})
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_depth(value: Any) -> int:
    """How deeply ``value`` nests arrays and objects (iterative: a hostile value cannot
    exhaust the stack)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
    return deepest


def count_steps(steps: Any) -> int:
    """Every step of a steps list, branches' then/else lists included."""
    total = 0
    stack = [steps]
    while stack:
        items = stack.pop()
        if not isinstance(items, list):
            continue
        for step in items:
            total += 1
            if isinstance(step, dict):
                stack.extend(step.get(k) for k in ("then", "else"))
    return total


def has_bad_text(value: Any) -> str | None:
    """ "nul" or "surrogate" when any string (or key) in ``value`` holds one, else None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "nul"
            if _SURROGATE.search(item):
                return "surrogate"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def check_json_value(value: Any) -> None:
    """The limits every JSON value of a playbook obeys, on the form and the REST API alike."""
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValidationError(
            _("Nested more than %(max)s levels deep.") % {"max": MAX_JSON_DEPTH}, code="depth"
        )
    bad = has_bad_text(value)
    if bad == "nul":
        raise ValidationError(_("Text cannot contain a NUL character."), code="null_character")
    if bad == "surrogate":
        raise ValidationError(
            _("Text cannot contain a lone surrogate character."), code="surrogate"
        )


def json_from_text(text: str) -> Any:
    """The JSON value of a hidden field; ValidationError saying what is wrong."""
    if len(text) > MAX_JSON_TEXT:
        raise ValidationError(
            _("Longer than %(max)s characters.") % {"max": f"{MAX_JSON_TEXT:,}"}, code="length"
        )
    if "\x00" in text:
        raise ValidationError(_("Text cannot contain a NUL character."), code="null_character")
    if _SURROGATE.search(text):
        raise ValidationError(
            _("Text cannot contain a lone surrogate character."), code="surrogate"
        )
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            _("Not valid JSON: %(error)s (line %(line)s, column %(col)s).")
            % {"error": exc.msg, "line": exc.lineno, "col": exc.colno},
            code="json",
        ) from None
    except (ValueError, RecursionError):
        raise ValidationError(
            _("Not valid JSON, or nested more than %(max)s levels deep.") % {"max": MAX_JSON_DEPTH},
            code="json",
        ) from None
    check_json_value(value)
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def field_of(path: str) -> str:
    """The form field an engine error path belongs to: ``steps[2].config.days`` → ``steps``."""
    head = re.split(r"[.\[]", path or "", maxsplit=1)[0]
    if head == "outcome":
        return "outcome_kind"
    return head if head in PlaybookForm.base_fields else ""


class JSONField(forms.CharField):
    """A hidden field holding JSON text; ``clean`` gives the parsed value."""

    widget = forms.HiddenInput

    def __init__(self, *, empty: Any, **kwargs: Any) -> None:
        self.empty = empty
        super().__init__(required=False, strip=False, **kwargs)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text or not text.strip():
            return self.empty
        return json_from_text(text)

    def validate(self, value: Any) -> None:  # the engine decides what is required
        return None

    def run_validators(self, value: Any) -> None:
        return None


class PlaybookForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=MAX_NAME)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        max_length=MAX_DESCRIPTION,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    trigger = forms.ChoiceField(label=gettext_lazy("Trigger"))
    trigger_config = JSONField(empty={}, label=gettext_lazy("Trigger settings"))
    condition = JSONField(empty=None, label=gettext_lazy("Conditions"))
    steps = JSONField(empty=[], label=gettext_lazy("Steps"))
    reentry = forms.ChoiceField(label=gettext_lazy("Re-entry"), choices=Reentry.choices)
    reentry_days = forms.IntegerField(
        label=gettext_lazy("Again after (days)"),
        min_value=0,
        max_value=MAX_REENTRY_DAYS,
        required=False,
    )
    holdout_percent = forms.IntegerField(
        label=gettext_lazy("Control group %"), min_value=0, max_value=MAX_HOLDOUT, required=False
    )
    outcome_kind = forms.ChoiceField(
        label=gettext_lazy("Outcome the experiment compares"),
        required=False,
        choices=[
            ("", gettext_lazy("None")),
            ("retention", gettext_lazy("Still a customer after N days")),
            ("mrr", gettext_lazy("MRR kept after N days")),
            ("event", gettext_lazy("An event within N days")),
        ],
    )
    outcome_days = forms.IntegerField(
        label=gettext_lazy("Days"), min_value=1, max_value=MAX_OUTCOME_DAYS, required=False
    )
    outcome_event = forms.CharField(
        label=gettext_lazy("Event name"), max_length=100, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        trigger = self.fields["trigger"]
        assert isinstance(trigger, forms.ChoiceField)
        trigger.choices = [
            (t.name, str(t.label)) for t in sorted(triggers, key=lambda t: (t.order, t.name))
        ]

    def clean_name(self) -> str:
        return _plain(self.cleaned_data["name"]).strip()

    def clean_description(self) -> str:
        return _plain(self.cleaned_data["description"])

    def clean_outcome_event(self) -> str:
        return _plain(self.cleaned_data["outcome_event"]).strip()

    def clean_steps(self) -> Any:
        steps = self.cleaned_data["steps"]
        if isinstance(steps, list) and count_steps(steps) > MAX_STEPS:
            raise ValidationError(
                _("A playbook has at most %(max)s steps, branches included.") % {"max": MAX_STEPS},
                code="too_many",
            )
        return steps

    def values(self) -> dict[str, Any]:
        """The keyword arguments of ``playbook_create`` / ``playbook_update``."""
        data = self.cleaned_data
        kind = data.get("outcome_kind") or ""
        outcome: dict[str, Any] = {}
        if kind:
            outcome = {"kind": kind, "days": data.get("outcome_days") or 30}
            if kind == "event":
                outcome["event"] = data.get("outcome_event") or ""
        return {
            "name": data["name"],
            "description": data.get("description") or "",
            "trigger": data["trigger"],
            "trigger_config": data["trigger_config"],
            # The builder writes an empty group for "no conditions".
            "condition": None if data["condition"] in NO_CONDITION else data["condition"],
            "steps": data["steps"],
            "reentry": data["reentry"],
            "reentry_days": data.get("reentry_days") or 0,
            "holdout_percent": data.get("holdout_percent") or 0,
            "outcome": outcome or None,
        }

    @staticmethod
    def initial_for(playbook: Playbook | None) -> dict[str, Any]:
        if playbook is None:
            first = sorted(triggers, key=lambda t: (t.order, t.name))
            return {
                "trigger": first[0].name if first else "",
                "trigger_config": "{}",
                "condition": "",
                "steps": "[]",
                "reentry": Reentry.PER_OCCURRENCE,
                "reentry_days": 0,
                "holdout_percent": 0,
                "outcome_days": 30,
            }
        outcome = playbook.outcome or {}
        return {
            "name": playbook.name,
            "description": playbook.description,
            "trigger": playbook.trigger,
            "trigger_config": json.dumps(playbook.trigger_config or {}, ensure_ascii=False),
            "condition": json.dumps(playbook.condition, ensure_ascii=False)
            if playbook.condition
            else "",
            "steps": json.dumps(playbook.steps or [], ensure_ascii=False),
            "reentry": playbook.reentry,
            "reentry_days": playbook.reentry_days,
            "holdout_percent": playbook.holdout_percent,
            "outcome_kind": outcome.get("kind", ""),
            "outcome_days": outcome.get("days", 30),
            "outcome_event": outcome.get("event", ""),
        }


def _plain(text: str) -> str:
    if "\x00" in text:
        raise ValidationError(_("Text cannot contain a NUL character."), code="null_character")
    if _SURROGATE.search(text):
        raise ValidationError(
            _("Text cannot contain a lone surrogate character."), code="surrogate"
        )
    return text


class StartForm(forms.Form):
    """Start a manual playbook for one customer or every customer of a segment."""

    customer = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    segment = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and bool(data.get("customer")) == bool(data.get("segment")):
            raise ValidationError(_("Choose a customer or a segment."), code="required")
        return data


class CustomerStartForm(forms.Form):
    """The customer page's "Start a playbook"."""

    customer = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    playbook = forms.IntegerField(min_value=1, max_value=2**63 - 1)
