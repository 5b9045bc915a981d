"""Forms of the settings area: own password and language; users and API keys (owners)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tend.accounts.models import ApiKeyKind, Role, User
from tend.lib.access import key_kind_refusal


class BootstrapMixin:
    """Bootstrap classes on every widget, and invalid fields marked for screen readers."""

    fields: dict[str, forms.Field]
    errors: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for field in self.fields.values():
            widget = field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = css

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        self.mark_invalid()

    def mark_invalid(self) -> None:
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                if "is-invalid" not in attrs["class"]:
                    attrs["class"] += " is-invalid"
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}-error"  # type: ignore[index]

    def add_action_errors(self, exc: ValidationError) -> None:
        """Show an action's ValidationError on the fields it names (else above the form)."""
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)  # type: ignore[attr-defined]
        self.mark_invalid()


class BootstrapForm(BootstrapMixin, forms.Form):
    pass


class PasswordForm(BootstrapMixin, PasswordChangeForm):
    """Django's own change-password form: the old password, then the new one twice."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The page has two forms; neither takes the focus on arrival.
        self.fields["old_password"].widget.attrs.pop("autofocus", None)


class LanguageForm(BootstrapForm):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Same as the browser")), *settings.LANGUAGES],
        help_text=_("Pages and the emails Tend sends you use this language."),
    )


ROLE_HELP = _("Owner: everything, including users and keys. Member: reads and changes data. "
              "Viewer: reads only.")  # fmt: skip


class UserAddForm(BootstrapForm):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=pgettext_lazy("email address", "Email"), max_length=254,
                             required=False)  # fmt: skip
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER,
                             help_text=ROLE_HELP)  # fmt: skip
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Leave empty to generate a temporary password, shown once after the user is added."
        ),
    )

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"].strip()
        try:
            User.username_validator(username)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(
                _("A user called “%(username)s” already exists.") % {"username": username}
            )
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password:
            candidate = User(
                username=data.get("username", ""),
                email=data.get("email", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                validate_password(password, candidate)
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class RoleForm(BootstrapForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiKeyForm(BootstrapForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Where the key is used, e.g. “zapier”; the audit log says api:<name>."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ApiKeyKind.choices)
    user = forms.ModelChoiceField(
        label=_("Acts as"),
        queryset=User.objects.none(),
        help_text=_(
            "The key has exactly this user's rights, now and later: it stops working when the "
            "user is deactivated and only reads if they become a viewer."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(is_active=True).order_by("username")
        field.label_from_instance = _user_choice  # type: ignore[method-assign,assignment]
        self.fields["name"].widget.attrs["spellcheck"] = "false"

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Give the key a name."))
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user, kind = data.get("user"), data.get("kind")
        if user is not None and kind:
            refusal = key_kind_refusal(user, kind)
            if refusal is not None:
                self.add_error("kind", refusal)
        return data


def _user_choice(user: User) -> str:
    name = user.get_full_name()
    label = f"{user.username} ({name})" if name else user.username
    return f"{label} · {user.get_role_display()}"
