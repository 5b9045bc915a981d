"""Forms of the task pages: a new task (also the customer panel's "add task")."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy, pgettext_lazy

from tend.accounts.models import Role, User
from tend.customers.models import Customer
from tend.tasks.models import Priority
from tend.tasks.validation import MAX_NOTES, MAX_TITLE


def assignable_users() -> Any:
    """Who can be given a task: active owners and members, by name."""
    return User.objects.filter(is_active=True, role__in=[Role.OWNER, Role.MEMBER]).order_by(
        "username"
    )


def user_label(user: User) -> str:
    return user.get_full_name() or user.username


class AssigneeField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return user_label(obj)


class TaskForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=MAX_TITLE)
    customer = forms.ModelChoiceField(
        label=gettext_lazy("Customer"),
        queryset=Customer.objects.all(),
        required=False,
        widget=forms.HiddenInput,
    )
    due_on = forms.DateField(
        label=pgettext_lazy("task", "Due"),
        required=False,
        input_formats=["%Y-%m-%d"],
        # A text box, not type="date": a native picker writes the date in the browser's
        # language whatever the page's (as on the billing forms).
        widget=forms.DateInput(
            attrs={"inputmode": "numeric", "placeholder": "2026-01-31", "autocomplete": "off"},
            format="%Y-%m-%d",
        ),
        help_text=gettext_lazy("YYYY-MM-DD; leave empty for no due date."),
    )
    priority = forms.TypedChoiceField(
        label=gettext_lazy("Priority"),
        choices=Priority.choices,
        coerce=int,
        initial=Priority.NORMAL,
    )
    assignee = AssigneeField(
        label=gettext_lazy("Assignee"),
        queryset=assignable_users(),
        required=False,
        empty_label=pgettext_lazy("assignee", "Nobody"),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"),
        required=False,
        max_length=MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_users()  # type: ignore[attr-defined]
        for name, field in self.fields.items():
            if name == "priority" or name == "assignee":
                field.widget.attrs["class"] = "form-select"
            elif name != "customer":
                field.widget.attrs["class"] = "form-control"
