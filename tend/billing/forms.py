"""The exchange-rate form of the rates page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class MarkedForm(forms.Form):
    """Invalid fields marked for the eye and for screen readers; an action's errors shown on
    the fields they name."""

    def full_clean(self) -> None:
        super().full_clean()
        self.mark_invalid()

    def mark_invalid(self) -> None:
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs["class"]:
                    attrs["class"] += " is-invalid"
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}-error"

    def add_action_errors(self, exc: ValidationError) -> None:
        """Show the action's ValidationError on the fields it names."""
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        self.mark_invalid()


class ExchangeRateForm(MarkedForm):
    currency = forms.CharField(
        label=_("Currency"),
        max_length=20,  # longer codes reach the action, whose message says what a code is
        help_text=_("Three-letter ISO 4217 code, such as EUR."),
    )
    rate = forms.DecimalField(
        label=_("Rate"),
        max_digits=18,
        decimal_places=8,
        help_text=_("How much of the reporting currency one unit is worth, e.g. 1.08."),
    )
    valid_from = forms.DateField(
        label=_("Valid from"),
        input_formats=["%Y-%m-%d"],
        # A text box, not type="date": a native date picker writes 12/06/2026 or 2026/12/06
        # by the browser's language, whatever language the page is in.
        widget=forms.DateInput(
            attrs={"inputmode": "numeric", "placeholder": "2026-01-01", "autocomplete": "off"},
            format="%Y-%m-%d",
        ),
        help_text=_("First day (UTC) it applies; it holds until the next rate of the currency."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"
        self.fields["currency"].widget.attrs.update(
            {"autocapitalize": "characters", "spellcheck": "false", "placeholder": "EUR"}
        )
        self.fields["rate"].widget.attrs.update({"placeholder": "1.08", "inputmode": "decimal"})


class PlanForm(MarkedForm):
    """Carries the text as typed: ``plan_create``/``plan_update`` check every field at once,
    so a bad price and a taken code are reported together."""

    name = forms.CharField(label=_("Name"), max_length=1000, required=False)
    code = forms.CharField(
        label=_("Code"),
        max_length=1000,
        required=False,
        help_text=_(
            "How imports, the API and Stripe refer to the plan: letters, digits, - and _, "
            "e.g. pro-monthly."
        ),
    )
    price = forms.CharField(
        label=_("Price"),
        max_length=100,
        required=False,
        help_text=_("Per billing interval, e.g. 49 or 49.90."),
    )
    interval = forms.CharField(
        label=_("Billing interval"), required=False, max_length=100, widget=forms.Select()
    )
    currency = forms.CharField(
        label=_("Currency"),
        max_length=100,
        required=False,
        help_text=_("Three-letter ISO 4217 code, such as EUR."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from tend.billing.models import Interval

        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"
        self.fields["interval"].widget.attrs["class"] = "form-select"
        self.fields["interval"].widget.choices = Interval.choices  # type: ignore[attr-defined]
        self.fields["code"].widget.attrs.update(
            {"spellcheck": "false", "autocapitalize": "none", "placeholder": "pro-monthly"}
        )
        self.fields["price"].widget.attrs.update({"inputmode": "decimal", "placeholder": "49.00"})
        self.fields["currency"].widget.attrs.update(
            {"autocapitalize": "characters", "spellcheck": "false", "placeholder": "USD"}
        )
