from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tend.accounts.forms import BootstrapForm
from tend.accounts.models import DigestFrequency


class DigestForm(BootstrapForm):
    digest = forms.ChoiceField(
        label=_("Digest email"),
        choices=DigestFrequency.choices,
        widget=forms.RadioSelect,
        help_text=_("Today's top customers, your goals, what playbooks did and your tasks due."),
    )
