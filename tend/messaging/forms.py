"""Forms of the outbox pages: the send log's filters, adding a suppression, a webhook endpoint."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tend.messaging.models import Channel, MessageStatus
from tend.messaging.outbox import ADDRESS_LENGTH, address_problem
from tend.messaging.webhooks import URL_LENGTH, url_problem


def _refuse_bad_text(value: str, label: str) -> str:
    if "\x00" in value:
        raise forms.ValidationError(
            _("%(field)s may not contain a NUL character.") % {"field": label}
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise forms.ValidationError(
            _("%(field)s contains characters that are not valid text.") % {"field": label}
        ) from None
    return value


class MessageFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *MessageStatus.choices]
    )
    channel = forms.ChoiceField(
        label=pgettext_lazy("message channel", "Channel"),
        required=False,
        choices=[("", _("Any channel")), *Channel.choices],
    )
    customer = forms.IntegerField(label=_("Customer"), required=False, min_value=1, max_value=2**62)
    source = forms.CharField(label=_("Source"), required=False, max_length=30)

    def clean_source(self) -> str:
        return _refuse_bad_text(self.cleaned_data["source"], str(_("Source")))


class SuppressionForm(forms.Form):
    email = forms.CharField(label=_("Email address"), max_length=ADDRESS_LENGTH)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def clean_email(self) -> str:
        value = _refuse_bad_text(self.cleaned_data["email"], str(_("Email address")))
        value = value.strip().lower()
        if address_problem(value) is not None:
            raise forms.ValidationError(_("Enter a valid email address."))
        return value

    def clean_note(self) -> str:
        return _refuse_bad_text(self.cleaned_data["note"], str(_("Note")))


class WebhookEndpointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    url = forms.CharField(
        label=_("URL"),
        max_length=URL_LENGTH,
        help_text=_("Where Tend posts: an http:// or https:// address."),
    )

    def clean_name(self) -> str:
        value = _refuse_bad_text(self.cleaned_data["name"], str(_("Name")))
        value = " ".join(value.split())
        if not value:
            raise forms.ValidationError(_("Enter a name."))
        return value

    def clean_url(self) -> Any:
        value = _refuse_bad_text(self.cleaned_data["url"], str(_("URL"))).strip()
        problem = url_problem(value)
        if problem is not None:
            raise forms.ValidationError(problem)
        return value
