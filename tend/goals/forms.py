"""The goal form: what to measure, the target, the period and an optional customer slice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tend.customers.channels import channel_choices, channel_labels
from tend.goals.models import (
    FILTER_KEYS,
    Comparator,
    Goal,
    Period,
    clean_filters,
    country_error,
    goal_metrics,
    target_error,
)
from tend.metrics.filters import FilterError
from tend.metrics.formulas import FORMULAS


class GoalForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=120,
        help_text=_("Optional; by default the goal is named after its metric and target."),
    )
    metric = forms.ChoiceField(label=_("Metric"))
    comparator = forms.ChoiceField(
        label=pgettext_lazy("goal comparator", "Must be"),
        required=False,
        help_text=_("Leave on automatic: ≥ for metrics where higher is better, else ≤."),
    )
    target = forms.DecimalField(
        label=_("Target"),
        max_digits=16,
        decimal_places=4,
        help_text=_("In the metric's unit: 2 means 2 percent for rates, an amount for money."),
    )
    period = forms.ChoiceField(label=_("Period"), choices=Period.choices, initial=Period.MONTH)
    plan = forms.ChoiceField(label=_("Plan"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    country = forms.CharField(
        label=_("Country"),
        required=False,
        max_length=2,
        help_text=_("Two-letter code, e.g. DE."),
    )
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    segment = forms.ChoiceField(
        label=_("Segment"),
        required=False,
        help_text=_("A saved segment; its customers are picked by its condition at each reading."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        data: Any = None,
        *,
        plans: list[tuple[int, str]],
        tags: list[str],
        segments: Sequence[tuple[int, str]] = (),
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        self._choice("metric").choices = [(key, FORMULAS[key].label) for key in goal_metrics()]
        self._choice("comparator").choices = [
            ("", pgettext_lazy("goal comparator", "Automatic")),
            (Comparator.AT_MOST.value, _("at most (≤)")),
            (Comparator.AT_LEAST.value, _("at least (≥)")),
        ]
        self._choice("plan").choices = [("", _("All plans")), *((str(i), n) for i, n in plans)]
        channels = channel_choices()
        # A goal on a channel archived since still shows (and keeps) that channel.
        current = (initial or {}).get("channel") or (data.get("channel") if data else None)
        if current and current not in dict(channels):
            label = channel_labels().get(str(current))
            if label is not None:
                channels.append((str(current), label))
        self._choice("channel").choices = [("", _("All channels")), *channels]
        self._choice("tag").choices = [("", _("All tags")), *((t, t) for t in tags)]
        self._choice("segment").choices = [
            ("", _("All customers")),
            *((str(pk), name) for pk, name in segments),
        ]
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select" if select else "form-control"

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] += " is-invalid"
                widget.attrs["aria-invalid"] = "true"
                widget.attrs["aria-describedby"] = f"id_{name}-error"

    def _choice(self, name: str) -> forms.ChoiceField:
        return cast(forms.ChoiceField, self.fields[name])

    @staticmethod
    def initial_for(goal: Goal) -> dict[str, Any]:
        first = {key: (goal.filters.get(key) or [""])[0] for key in FILTER_KEYS}
        return {
            "name": goal.name,
            "metric": goal.metric,
            "comparator": goal.comparator,
            "target": f"{goal.target.normalize():f}",  # 100, not 1E+2 or 100.0000
            "period": goal.period,
            "note": goal.note,
            **first,
        }

    def clean_country(self) -> str:
        # People type "de" as often as "DE"; the code must still be one ISO 3166-1 assigns.
        code = str(self.cleaned_data.get("country") or "").strip().upper()
        if code:
            problem = country_error(code)
            if problem:
                raise ValidationError(problem, code="invalid")
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        metric, target = data.get("metric"), data.get("target")
        if metric and target is not None:
            # Checked here as well as by the action, so it is reported with the other fields.
            problem = target_error(metric, target)
            if problem is not None:
                self.add_error("target", problem)
        raw = {key: [data[key]] for key in FILTER_KEYS if data.get(key)}
        try:
            data["filters"] = clean_filters(raw)
        except FilterError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data

    def values(self) -> dict[str, Any]:
        """Keyword arguments for goal_create / goal_update."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "metric": data["metric"],
            "comparator": data["comparator"],
            "target": data["target"],
            "period": data["period"],
            "filters": data["filters"],
            "note": data["note"],
        }

    def add_action_errors(self, exc: ValidationError) -> None:
        """Show an action's ValidationError on the fields it names."""
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        for name, messages in errors.items():
            name = name.removeprefix("filters.")  # "filters.country" is the form's "country"
            field = name if name in self.fields else None
            for message in messages:
                self.add_error(field, message)
