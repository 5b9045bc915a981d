"""Checks on what a task may hold, shared by the task actions (which raise them as one
``ValidationError`` naming every field at fault) and the forms and endpoints that state the
same limits."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from tend.accounts.models import Role, User
from tend.customers.models import Customer
from tend.tasks.models import Priority
from tend.today.actions import today_date

MAX_TITLE = 200
MAX_NOTES = 10_000
MAX_SOURCE = 30
MAX_SOURCE_ID = 64
MAX_KEY = 200
# Due dates: from 2000 to ten years ahead. Anything else is a typo (0202-01-01, 20266-01-01).
EARLIEST_DUE = date(2000, 1, 1)
MAX_YEARS_AHEAD = 10
UPDATABLE = ("title", "notes", "customer", "assignee", "due_on", "priority")


def latest_due() -> date:
    """The last due date a task may have: ten years from today (UTC)."""
    return today_date() + timedelta(days=365 * MAX_YEARS_AHEAD)


def text_problem(value: str) -> str | None:
    if "\x00" in value:
        return _("Text cannot contain a NUL character.")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return _("Text cannot contain a lone surrogate.")
    return None


def clean_title(value: Any, errors: dict[str, list[Any]]) -> str:
    if not isinstance(value, str) or not value.strip():
        errors["title"] = [_("Give the task a title.")]
        return ""
    value = " ".join(value.split())  # one line: newlines and tabs become spaces
    problem = text_problem(value)
    if problem:
        errors["title"] = [problem]
    elif len(value) > MAX_TITLE:
        errors["title"] = [_("A title has at most %(max)s characters.") % {"max": MAX_TITLE}]
    return value


def clean_notes(value: Any, errors: dict[str, list[Any]]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors["notes"] = [_("Notes are text.")]
        return ""
    value = value.strip()
    problem = text_problem(value)
    if problem:
        errors["notes"] = [problem]
    elif len(value) > MAX_NOTES:
        errors["notes"] = [_("Notes have at most %(max)s characters.") % {"max": MAX_NOTES}]
    return value


def assignee_problem(user: Any) -> str | None:
    """Why ``user`` cannot be given tasks (None when they can): only active owners and
    members, who can act on them; viewers only read."""
    if not isinstance(user, User) or user.pk is None:
        return _("Choose a user.")
    if not user.is_active:
        return _("%(user)s is deactivated and cannot be given tasks.") % {"user": user.username}
    if user.role not in {Role.OWNER, Role.MEMBER}:
        return _("%(user)s is a viewer; only owners and members can be given tasks.") % {
            "user": user.username
        }
    return None


def clean_assignee(value: Any, errors: dict[str, list[Any]]) -> User | None:
    if value is None:
        return None
    problem = assignee_problem(value)
    if problem:
        errors["assignee"] = [problem]
        return None
    return value  # type: ignore[no-any-return]


def due_problem(value: date) -> str | None:
    """Why ``value`` is not a sane due date, or None."""
    if value < EARLIEST_DUE or value > latest_due():
        return _("Give a due date between %(first)s and %(last)s.") % {
            "first": EARLIEST_DUE.isoformat(),
            "last": latest_due().isoformat(),
        }
    return None


def clean_due(value: Any, errors: dict[str, list[Any]], field: str = "due_on") -> date | None:
    if value is None:
        return None
    if not isinstance(value, date) or hasattr(value, "hour"):  # a datetime is a date too
        errors[field] = [_("Give a date such as 2026-01-31.")]
        return None
    problem = due_problem(value)
    if problem:
        errors[field] = [ValidationError(problem, code="range")]
        return None
    return value


def clean_priority(value: Any, errors: dict[str, list[Any]]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in Priority.values:
        errors["priority"] = [_("Priority is 1 (low), 2 (normal) or 3 (high).")]
        return Priority.NORMAL
    return value


def clean_customer(value: Any, errors: dict[str, list[Any]]) -> Customer | None:
    if value is None:
        return None
    if not isinstance(value, Customer) or value.pk is None:
        errors["customer"] = [_("Choose a customer.")]
        return None
    return value


def clean_short(value: Any, field: str, limit: int, errors: dict[str, list[Any]]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = [_("Give text.")]
        return ""
    problem = text_problem(value)
    if problem:
        errors[field] = [problem]
    elif len(value) > limit:
        errors[field] = [_("At most %(max)s characters.") % {"max": limit}]
    return value
