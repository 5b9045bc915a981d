"""How the page, the REST API and anything else ask for a training run: through the task the
training code provides (``tend.predict.tasks``), looked up when called so these surfaces work
(and say so clearly) on an installation where training is not there yet."""

from __future__ import annotations

from typing import Any, Literal

TASK_NAMES = ("churn_train", "churn_train_task", "train_churn_model")


def train_task() -> Any | None:
    """The training task, or None when this installation has none."""
    try:
        from tend.predict import tasks
    except ImportError:
        return None
    for name in TASK_NAMES:
        task = getattr(tasks, name, None)
        if task is not None and hasattr(task, "enqueue"):
            return task
    return None


def churn_train_enqueue(*, by: Any) -> tuple[Literal["missing", "queued", "done"], Any]:
    """Queue a training run on behalf of ``by`` (an owner: the callers check). The run
    records ``by`` as who trained it. Returns the outcome and the task result."""
    from django_tasks import TaskResultStatus

    task = train_task()
    if task is None:
        return "missing", None
    result = task.enqueue(trained_by=getattr(by, "username", "") or "")
    if result.status == TaskResultStatus.SUCCESSFUL:
        return "done", result
    return "queued", result
