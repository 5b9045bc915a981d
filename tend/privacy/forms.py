"""The erase forms: a typed confirmation (the name) and an optional reference."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tend.customers.forms import StyledForm
from tend.privacy.actions import REFERENCE_LENGTH, check_confirmation, clean_reference


class EraseForm(StyledForm):
    confirm = forms.CharField(label=_("Type the name to confirm"), max_length=1000)
    reference = forms.CharField(
        label=_("Reference (optional)"),
        max_length=REFERENCE_LENGTH,
        required=False,
        help_text=_("Your own note, such as a ticket number. No email addresses."),
    )

    def __init__(self, data: Any = None, *, name: str) -> None:
        super().__init__(data)
        self.name = name
        self.fields["confirm"].widget.attrs["autocomplete"] = "off"

    def _one(self, field: str, check: Any) -> Any:
        try:
            return check()
        except ValidationError as error:
            messages = error.message_dict.get(field) if hasattr(error, "error_dict") else None
            raise forms.ValidationError(messages or error.messages) from None

    def clean_confirm(self) -> str:
        typed = self.cleaned_data.get("confirm") or ""
        self._one("confirm", lambda: check_confirmation(typed, self.name))
        return str(typed)

    def clean_reference(self) -> str:
        value = self.cleaned_data.get("reference") or ""
        return str(self._one("reference", lambda: clean_reference(value)))
