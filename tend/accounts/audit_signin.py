"""Sign-ins and failed sign-ins in the audit log.

Django's ``login()`` and ``authenticate()`` are the one door every sign-in passes (the login
page, the admin), and they announce themselves only through ``user_logged_in`` and
``user_login_failed``: listening there is the small exception to "no logic in signals".
The address comes from the request's audit origin like every other row. A failed attempt
records the name that was typed (cut to 150 characters), never the password.

Only sign-ins that arrive as HTTP requests are recorded: code that logs a user in itself
(``Client.force_login`` in tests, ``authenticate()`` without a request) is no sign-in.
"""

from __future__ import annotations

from typing import Any

from tend.accounts.audit_context import current_origin
from tend.accounts.models import AuditEntry, User


def _from_http(request: Any) -> bool:
    return bool(getattr(request, "path", ""))


def on_logged_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    if not _from_http(request):
        return
    origin = current_origin()
    AuditEntry.objects.create(
        actor=user,
        actor_label=user.username,
        action="user.login",
        object_type="accounts.user",
        object_id=str(user.pk),
        ip=origin.ip,
        via=origin.via,
    )


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    if not _from_http(request):
        return
    typed = credentials.get("username")
    name = typed[:150] if isinstance(typed, str) else ""
    user_pk = (
        User.objects.filter(username=name).values_list("pk", flat=True).first() if name else None
    )
    origin = current_origin()
    AuditEntry.objects.create(
        actor=None,
        actor_label="anonymous",
        action="user.login_failed",
        object_type="accounts.user",
        object_id=str(user_pk or ""),
        changes={"username": name.replace("\x00", "")},
        ip=origin.ip,
        via=origin.via,
    )
