"""How the page and the REST API ask for a training run now: a background task that trains
on behalf of the owner who asked (the run records who, and the audit row says from where),
through the training action of ``tend.predict.actions``. Looked up when called, so these
surfaces say so clearly on an installation without the training code."""

from __future__ import annotations

import logging
from typing import Any, Literal

from django_tasks import TaskResultStatus, task

log = logging.getLogger(__name__)


def _train_action() -> Any | None:
    try:
        from tend.predict.actions import churn_train
    except ImportError:
        return None
    return churn_train


@task()
def churn_train_requested(user_id: int, label: str = "") -> int:
    """Train now for an owner; returns the new version, 0 when there was not enough data
    (the run is stored with its message) or the user may no longer train."""
    from tend.accounts.models import User
    from tend.lib.access import can_manage
    from tend.predict.errors import NotEnoughData

    action = _train_action()
    user = User.objects.filter(pk=user_id).first()
    if action is None or user is None or not can_manage(user):
        return 0
    try:
        return int(action(by=user, label=label).version)
    except NotEnoughData as exc:
        log.info("churn model not trained: %s", exc)
        return 0


def train_task() -> Any | None:
    """The task that trains now, or None when this installation has no training code."""
    return churn_train_requested if _train_action() is not None else None


def churn_train_enqueue(
    *, by: Any, label: str = ""
) -> tuple[Literal["missing", "queued", "done"], Any]:
    """Queue a training run on behalf of ``by`` (an owner: the callers check)."""
    task_ = train_task()
    if task_ is None:
        return "missing", None
    result = task_.enqueue(user_id=by.pk, label=label)
    if result.status == TaskResultStatus.SUCCESSFUL:
        return "done", result
    return "queued", result
