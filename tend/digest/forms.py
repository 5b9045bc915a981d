from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tend.accounts.forms import BootstrapForm
from tend.accounts.models import DigestFrequency


class DigestForm(BootstrapForm):
    digest = forms.ChoiceField(
        label=_("Digest email"),
        choices=DigestFrequency.choices,
        widget=forms.RadioSelect,
        help_text=_("Today’s top customers, your goals, what playbooks did and your tasks due."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["digest"].widget.attrs["class"] = "form-check-input"  # radios, not a box
