"""The operations page (``/operations/``): schedules, the task queue, failed playbook steps,
failed messages and the daily pipeline, with a retry button on each failed run and message.

Owners and members read the page and retry; viewers get 403 (as for imports and data
quality). Retry is a POST that calls the owning app's action (``run_retry`` of the playbook
engine, ``message_retry`` of the outbox) and comes back to the page with a message. Only what
gave up has a retry button: a step or message waiting for its next try retries by itself.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tend.accounts.models import User
from tend.backups.queries import backups_summary
from tend.jobs.operations import (
    LIST_LIMIT,
    RUNNING_TOO_LONG,
    can_retry,
    can_see_operations,
    cron_words,
    failed_messages,
    failed_runs,
    pipeline_state,
    queue_state,
    run_status_text,
    schedules_state,
)
from tend.messaging.models import Message, MessageStatus
from tend.playbooks.models import PlaybookRun, RunStatus


def _require_reader(request: HttpRequest) -> None:
    if not can_see_operations(request.user):
        raise PermissionDenied(_("Only owners and members see the operations page."))


def _require_retrier(request: HttpRequest) -> User:
    if not can_retry(request.user):
        raise PermissionDenied(_("Viewers cannot retry failed steps and messages."))
    return request.user  # type: ignore[return-value]  # can_retry: an active owner or member


def link(name: str, pk: int) -> str:
    """The page of a run or message in the app that owns it; "" while that app has no page
    (the row is shown without a link rather than the page failing)."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


@require_GET
def operations_page(request: HttpRequest) -> HttpResponse:
    _require_reader(request)
    now = timezone.now()
    queue = queue_state(now)
    runs_count, runs = failed_runs()
    messages_count, failed = failed_messages()
    run_rows = [
        {
            "run": run,
            "url": link("playbooks:run", run.pk),
            "customer_url": link("customers:detail", run.customer_id),
            "state": run_status_text(run),
            "gave_up": run.status == RunStatus.FAILED,
        }
        for run in runs
    ]
    message_rows = [
        {
            "message": message,
            "url": link("messaging:detail", message.pk),
            "customer_url": link("customers:detail", message.customer_id)
            if message.customer_id
            else "",
            "gave_up": message.status == MessageStatus.FAILED,
        }
        for message in failed
    ]
    return render(
        request,
        "jobs/operations.html",
        {
            "now": now,
            "schedules": schedules_state(now),
            "queue": queue,
            "waiting_seconds": queue.oldest_waiting_seconds,
            "last_worker_seconds": (now - queue.last_worker_at).total_seconds()
            if queue.last_worker_at
            else None,
            "running_too_long_hours": int(RUNNING_TOO_LONG.total_seconds() // 3600),
            "runs": run_rows,
            "runs_count": runs_count,
            "messages_rows": message_rows,
            "messages_count": messages_count,
            "list_limit": LIST_LIMIT,
            "pipeline": pipeline_state(),
            "can_retry": can_retry(request.user),
            "backups": {
                **backups_summary(now),
                "cron_words": cron_words(settings.TEND_BACKUP_CRON),
            },
        },
    )


def _refusal(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    errors: Any = getattr(exc, "errors", None)
    if errors:
        return " ".join(str(message) for _field, message in errors)
    return str(exc)


@require_POST
def run_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_retrier(request)  # before the lookup: a viewer learns nothing from a 404
    run = get_object_or_404(PlaybookRun.objects.select_related("playbook", "customer"), pk=pk)
    from tend.playbooks.actions import run_retry

    try:
        run_retry(run=run, by=user)
    except (ValidationError, ValueError) as exc:
        messages.error(request, _refusal(exc))
    except Exception as exc:  # the engine's PlaybookError: shown, not a 500
        if type(exc).__name__ != "PlaybookError":
            raise
        messages.error(request, _refusal(exc))
    else:
        messages.success(
            request,
            _("The run of %(playbook)s for %(customer)s will try its step again now.")
            % {"playbook": run.playbook.name, "customer": run.customer.name},
        )
    return redirect(reverse("jobs:operations") + "#failed-runs")


@require_POST
def message_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_retrier(request)
    message = get_object_or_404(Message, pk=pk)
    from tend.messaging.actions import message_retry

    try:
        message_retry(message=message, by=user)
    except (ValidationError, ValueError) as exc:
        messages.error(request, _refusal(exc))
    else:
        messages.success(
            request, _("The message to %(to)s will be sent again now.") % {"to": message.to}
        )
    return redirect(reverse("jobs:operations") + "#failed-messages")
