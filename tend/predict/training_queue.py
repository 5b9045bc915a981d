"""How the page and the REST API ask for a training run now: the training task of
``tend.predict.tasks`` (``churn_train_task``, the models part's), on behalf of the owner who
asked (the run records who). Looked up when called, so these surfaces say so clearly on an
installation without the training code."""

from __future__ import annotations

from typing import Any, Literal

from django_tasks import TaskResultStatus


def train_task() -> Any | None:
    """The task that trains now, or None when this installation has no training code."""
    try:
        from tend.predict import tasks
    except ImportError:
        return None
    task = getattr(tasks, "churn_train_task", None)
    return task if task is not None and hasattr(task, "enqueue") else None


def churn_train_enqueue(*, by: Any) -> tuple[Literal["missing", "queued", "done"], Any]:
    """Queue a training run on behalf of ``by`` (an owner: the callers check)."""
    task = train_task()
    if task is None:
        return "missing", None
    result = task.enqueue(trained_by=by.username)
    if result.status == TaskResultStatus.SUCCESSFUL:
        return "done", result
    return "queued", result
