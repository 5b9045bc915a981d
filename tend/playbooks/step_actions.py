"""The built-in playbook actions: create a task, send an email, change the stage, add or
remove a tag, add a timeline note, call a webhook.

Each action's ``clean`` checks its settings when the playbook is saved (the template, tag,
endpoint must exist then); ``run`` does the work inside the step's transaction and names what
it creates with ``ctx.key`` so a repeated step writes nothing twice; ``preview`` says what it
would do for one customer without writing. Something deleted after the save (a template, a
tag, an endpoint) fails the step for good (``StepFailed(retry=False)``) with a clear error.

A playbook's stage change is recorded with the reason ``{"msg": "playbook", …}`` and sets a
stage override, like a person's move: the founder chose that stage when writing the playbook,
so the lifecycle rules leave the customer there until someone clears the override (otherwise
the rules would move the customer straight back and a stage-entered playbook would run again).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from tend.customers.models import Contact, Customer, Stage, Tag, TimelineKind
from tend.playbooks.config import config_int, config_text, stage_label
from tend.playbooks.registry import (
    Action,
    ConfigError,
    Result,
    Setting,
    StepContext,
    StepFailed,
    actions,
)

MAX_TEXT = 2000


def _pk(config: dict[str, Any], name: str) -> int:
    raw = config.get(name)
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) < 19:
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 2**63:
        raise ConfigError(_("Choose one."), field=name)
    return raw


def _source_id(ctx: StepContext) -> str:
    return f"{ctx.run.pk}:{ctx.step_id}"


# --- create task ---------------------------------------------------------------------------


def task_clean(config: dict[str, Any]) -> dict[str, Any]:
    from tend.accounts.models import User

    title = config_text(config, "title", required=True, limit=200)
    due_days = config_int(config, "due_days", 0, 365, 0)
    priority = config_int(config, "priority", 1, 3, 2)
    notes = config_text(config, "notes", required=False, limit=MAX_TEXT)
    assignee = config.get("assignee", "owner")
    if assignee in (None, "", "owner"):
        assignee = "owner"
    else:
        pk = _pk(config, "assignee")
        if not User.objects.filter(pk=pk, is_active=True).exists():
            raise ConfigError(_("No active user with this id."), field="assignee")
        assignee = pk
    return {
        "title": title,
        "due_days": due_days,
        "priority": priority,
        "notes": notes,
        "assignee": assignee,
    }


def _assignee(ctx: StepContext) -> Any:
    from tend.accounts.models import User

    who = ctx.config.get("assignee", "owner")
    if who == "owner":
        return ctx.customer.owner
    return User.objects.filter(pk=who, is_active=True).first()


def task_run(ctx: StepContext) -> Result:
    from tend.tasks.actions import task_create

    config = ctx.config
    due = timezone.localdate() + timedelta(days=int(config.get("due_days") or 0))
    fields: dict[str, Any] = {
        "title": config["title"],
        "customer": ctx.customer,
        "due_on": due,
        "priority": int(config.get("priority") or 2),
        "notes": config.get("notes", ""),
        "source": "playbook",
        "source_id": _source_id(ctx),
        "key": ctx.key,
    }
    try:
        try:
            task = task_create(assignee=_assignee(ctx), **fields)
        except ValidationError as exc:
            if "assignee" not in getattr(exc, "message_dict", {}):
                raise
            # The owner can no longer be assigned (a viewer, deactivated): nobody is.
            task = task_create(assignee=None, **fields)
    except ValidationError as exc:
        raise StepFailed("; ".join(exc.messages), retry=False) from None
    return Result("task_created", {"title": task.title, "task": task.pk})


def task_describe(config: dict[str, Any]) -> str:
    days = int(config.get("due_days") or 0)
    return _("Create task “%(title)s”, due in %(when)s") % {
        "title": config.get("title", ""),
        "when": ngettext("%(n)s day", "%(n)s days", days) % {"n": days},
    }


def task_preview(ctx: StepContext) -> str:
    who = _assignee(ctx)
    return _("Task “%(title)s” for %(who)s") % {
        "title": ctx.config.get("title", ""),
        "who": (who.get_full_name() or who.get_username()) if who else _("nobody"),
    }


# --- send email ----------------------------------------------------------------------------


def _template_model() -> Any:
    from tend.messaging.models import EmailTemplate

    return EmailTemplate


def email_clean(config: dict[str, Any]) -> dict[str, Any]:
    pk = _pk(config, "template")
    if not _template_model().objects.filter(pk=pk, archived_at__isnull=True).exists():
        raise ConfigError(
            _("No email template with this id (it was deleted or archived)."), field="template"
        )
    coupon = config_text(config, "coupon", required=False, limit=60)
    extra = config.get("extra") or {}
    if not isinstance(extra, dict) or len(extra) > 20:
        raise ConfigError(_("Extra variables are at most 20 names and texts."), field="extra")
    clean_extra: dict[str, str] = {}
    for name, value in extra.items():
        if not isinstance(name, str) or not name.isidentifier() or len(name) > 40:
            raise ConfigError(
                _("“%(name)s” is not a variable name.") % {"name": str(name)[:40]}, field="extra"
            )
        clean_extra[name] = config_text({"v": value}, "v", required=False, limit=500)
    out: dict[str, Any] = {"template": pk}
    if coupon:
        out["coupon"] = coupon
    if clean_extra:
        out["extra"] = clean_extra
    return out


def _email_parts(ctx: StepContext) -> tuple[Any, Contact | None, dict[str, Any]]:
    template = _template_model().objects.filter(pk=ctx.config.get("template")).first()
    if template is None or template.archived_at is not None:
        raise StepFailed(
            _("The email template #%(id)s was deleted or archived; choose another.")
            % {"id": ctx.config.get("template")},
            retry=False,
        )
    contact = ctx.customer.contacts.filter(is_primary=True).first()
    extra: dict[str, Any] = {}
    extra.update({k: v for k, v in (ctx.run.context or {}).items() if isinstance(k, str)})
    extra.update(ctx.config.get("extra") or {})
    if ctx.config.get("coupon"):
        extra["coupon"] = ctx.config["coupon"]
    if extra.get("holiday_zh_hans") and _language(ctx.customer, contact).startswith("zh"):
        extra["holiday"] = extra["holiday_zh_hans"]  # "春节" for a reader of Chinese
    return template, contact, extra


def _language(customer: Customer, contact: Contact | None) -> str:
    try:
        from tend.messaging.variables import email_language
    except ImportError:  # contract 2 not merged yet
        return ""
    return str(email_language(customer, contact))


def email_run(ctx: StepContext) -> Result:
    from tend.messaging.outbox import email_enqueue
    from tend.messaging.templating import TemplateError, email_compose

    template, contact, extra = _email_parts(ctx)
    try:
        composed = email_compose(
            template=template, customer=ctx.customer, contact=contact, extra=extra
        )
    except TemplateError as exc:
        raise StepFailed(
            _("The email template “%(name)s” cannot be rendered: %(error)s")
            % {"name": template.name, "error": exc},
            retry=False,
        ) from None
    if not composed.to:
        return Result("email_no_address", {"template": template.name}, skipped=True)
    message = email_enqueue(
        key=ctx.key,
        to=composed.to,
        subject=composed.subject,
        text=composed.text,
        html=composed.html,
        customer=ctx.customer,
        contact=contact,
        template=template,
        language=composed.language,
        source="playbook",
        source_id=_source_id(ctx),
        outreach=True,
    )
    if message.status == "suppressed":
        return Result("email_suppressed", {"to": composed.to}, skipped=True)
    if message.status == "failed":  # refused before sending (an address that cannot receive)
        return Result(
            "email_refused", {"to": composed.to, "error": message.last_error[:200]}, skipped=True
        )
    return Result(
        "email_queued", {"to": composed.to, "subject": composed.subject, "message": message.pk}
    )


def email_describe(config: dict[str, Any]) -> str:
    template = _template_model().objects.filter(pk=config.get("template")).first()
    name = template.name if template is not None else f"#{config.get('template')}"
    return _("Send email “%(template)s”") % {"template": name}


def email_preview(ctx: StepContext) -> str:
    from tend.messaging.templating import TemplateError, email_compose

    try:
        template, contact, extra = _email_parts(ctx)
        composed = email_compose(
            template=template, customer=ctx.customer, contact=contact, extra=extra
        )
    except (StepFailed, TemplateError) as exc:
        return _("Would fail: %(error)s") % {"error": exc}
    if not composed.to:
        return _("Skipped: no email address")
    return _("Email “%(subject)s” to %(to)s") % {"subject": composed.subject, "to": composed.to}


# --- change stage --------------------------------------------------------------------------


def stage_clean(config: dict[str, Any]) -> dict[str, Any]:
    stage = config.get("stage")
    if stage not in Stage.values:
        raise ConfigError(
            _("Choose a stage: %(stages)s.") % {"stages": ", ".join(Stage.values)}, field="stage"
        )
    return {"stage": stage}


def stage_run(ctx: StepContext) -> Result:
    from tend.customers.actions import customer_change_stage
    from tend.lifecycle.actions import stage_override_set

    stage = ctx.config["stage"]
    customer = Customer.objects.select_for_update().get(pk=ctx.customer.pk)
    if customer.stage == stage:
        return Result("stage_unchanged", {"stage": stage}, skipped=True)
    at = timezone.now()
    playbook = ctx.run.playbook
    customer_change_stage(
        customer=customer,
        stage=stage,
        by=None,
        reason_data={"msg": "playbook", "playbook": playbook.name, "playbook_id": playbook.pk},
        at=at,
        label="playbook",
    )
    stage_override_set(customer_id=customer.pk, stage=stage, by=None, at=at)
    ctx.customer.stage = stage
    return Result("stage_set", {"stage": stage})


def stage_describe(config: dict[str, Any]) -> str:
    return _("Move to stage “%(stage)s”") % {"stage": stage_label(config.get("stage", ""))}


def stage_preview(ctx: StepContext) -> str:
    stage = ctx.config.get("stage", "")
    if ctx.customer.stage == stage:
        return _("Already in stage “%(stage)s”") % {"stage": stage_label(stage)}
    return _("Stage %(old)s → %(new)s") % {
        "old": stage_label(ctx.customer.stage),
        "new": stage_label(stage),
    }


# --- tags ----------------------------------------------------------------------------------


def tag_clean(config: dict[str, Any]) -> dict[str, Any]:
    name = config_text(config, "tag", required=True, limit=50)
    if not Tag.objects.filter(name=name).exists():
        raise ConfigError(_("There is no tag “%(tag)s”.") % {"tag": name}, field="tag")
    return {"tag": name}


def _tag(ctx: StepContext) -> str:
    name = ctx.config["tag"]
    if not Tag.objects.filter(name=name).exists():
        raise StepFailed(
            _("The tag “%(tag)s” was deleted; choose another.") % {"tag": name}, retry=False
        )
    return str(name)


def tag_add_run(ctx: StepContext) -> Result:
    from tend.customers.actions import customers_bulk_tag

    name = _tag(ctx)
    changed = customers_bulk_tag(customers=[ctx.customer.pk], by=None, add=[name], label="playbook")
    return Result("tag_added" if changed else "tag_present", {"tag": name}, skipped=not changed)


def tag_remove_run(ctx: StepContext) -> Result:
    from tend.customers.actions import customers_bulk_tag

    name = _tag(ctx)
    changed = customers_bulk_tag(
        customers=[ctx.customer.pk], by=None, remove=[name], label="playbook"
    )
    return Result("tag_removed" if changed else "tag_absent", {"tag": name}, skipped=not changed)


def _has_tag(ctx: StepContext) -> bool:
    return ctx.customer.tags.filter(name=ctx.config.get("tag")).exists()


def tag_add_preview(ctx: StepContext) -> str:
    if _has_tag(ctx):
        return _("Already tagged “%(tag)s”") % {"tag": ctx.config.get("tag")}
    return _("Add tag “%(tag)s”") % {"tag": ctx.config.get("tag")}


def tag_remove_preview(ctx: StepContext) -> str:
    if not _has_tag(ctx):
        return _("Not tagged “%(tag)s”") % {"tag": ctx.config.get("tag")}
    return _("Remove tag “%(tag)s”") % {"tag": ctx.config.get("tag")}


# --- timeline note -------------------------------------------------------------------------


def note_clean(config: dict[str, Any]) -> dict[str, Any]:
    return {"text": config_text(config, "text", required=True, limit=MAX_TEXT)}


def note_run(ctx: StepContext) -> Result:
    from tend.customers.actions import timeline_add

    playbook = ctx.run.playbook
    timeline_add(
        customer=ctx.customer,
        kind=TimelineKind.PLAYBOOK,
        data={
            "msg": "playbook_note",
            "text": ctx.config["text"],
            "playbook": playbook.name,
            "playbook_id": playbook.pk,
            "run": ctx.run.pk,
        },
    )
    return Result("note_added", {"text": ctx.config["text"][:200]})


def note_describe(config: dict[str, Any]) -> str:
    return _("Add a timeline note: “%(text)s”") % {"text": str(config.get("text", ""))[:80]}


def note_preview(ctx: StepContext) -> str:
    return note_describe(ctx.config)


# --- webhook -------------------------------------------------------------------------------


def _endpoint_model() -> Any:
    from tend.messaging.models import WebhookEndpoint

    return WebhookEndpoint


def webhook_clean(config: dict[str, Any]) -> dict[str, Any]:
    pk = _pk(config, "endpoint")
    endpoint = _endpoint_model().objects.filter(pk=pk, archived_at__isnull=True).first()
    if endpoint is None:
        raise ConfigError(
            _("No webhook endpoint with this id (it was deleted or archived)."), field="endpoint"
        )
    if not str(endpoint.url).lower().startswith(("http://", "https://")):
        raise ConfigError(
            _("The endpoint’s URL must start with http:// or https://."), field="endpoint"
        )
    return {"endpoint": pk}


def customer_summary(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "external_id": customer.external_id,
        "name": customer.name,
        "email": customer.email,
        "stage": customer.stage,
        "mrr": str(customer.mrr),
        "country": customer.country,
        "plan": customer.plan.name if customer.plan_id and customer.plan else None,
        "tags": sorted(customer.tags.values_list("name", flat=True)),
    }


def _payload(ctx: StepContext) -> dict[str, Any]:
    playbook = ctx.run.playbook
    return {
        "type": "playbook.step",
        "playbook": {"id": playbook.pk, "name": playbook.name},
        "run": {"id": ctx.run.pk, "occurrence": ctx.run.occurrence},
        "step": ctx.step_id,
        "customer": customer_summary(ctx.customer),
    }


def webhook_run(ctx: StepContext) -> Result:
    from tend.messaging.outbox import webhook_enqueue

    endpoint = _endpoint_model().objects.filter(pk=ctx.config.get("endpoint")).first()
    if endpoint is None or endpoint.archived_at is not None:
        raise StepFailed(
            _("The webhook endpoint #%(id)s was deleted or archived; choose another.")
            % {"id": ctx.config.get("endpoint")},
            retry=False,
        )
    message = webhook_enqueue(
        key=ctx.key,
        endpoint=endpoint,
        payload=_payload(ctx),
        customer=ctx.customer,
        source="playbook",
        source_id=_source_id(ctx),
    )
    return Result("webhook_queued", {"endpoint": endpoint.name, "message": message.pk})


def webhook_describe(config: dict[str, Any]) -> str:
    endpoint = _endpoint_model().objects.filter(pk=config.get("endpoint")).first()
    name = endpoint.name if endpoint is not None else f"#{config.get('endpoint')}"
    return _("Call webhook “%(endpoint)s”") % {"endpoint": name}


def webhook_preview(ctx: StepContext) -> str:
    endpoint = (
        _endpoint_model()
        .objects.filter(Q(pk=ctx.config.get("endpoint")), archived_at__isnull=True)
        .first()
    )
    if endpoint is None:
        return _("Would fail: the webhook endpoint was deleted or archived")
    return _("POST the customer summary to %(url)s") % {"url": endpoint.url}


# --- registration --------------------------------------------------------------------------


def register_actions() -> None:
    priorities = ((1, gettext_lazy("Low")), (2, gettext_lazy("Normal")), (3, gettext_lazy("High")))
    actions.register(
        Action(
            name="task",
            label=gettext_lazy("Create a task"),
            clean=task_clean,
            describe=task_describe,
            run=task_run,
            preview=task_preview,
            order=10,
            settings=(
                Setting("title", gettext_lazy("Title"), "text", max=200),
                Setting("due_days", gettext_lazy("Due in days"), "int", min=0, max=365, default=0),
                Setting(
                    "assignee",
                    gettext_lazy("Assignee"),
                    "user",
                    required=False,
                    default="owner",
                    help=gettext_lazy("“owner”: the customer's owner; or a user id."),
                ),
                Setting(
                    "priority",
                    gettext_lazy("Priority"),
                    "choice",
                    choices=tuple((str(v), label) for v, label in priorities),
                    default=2,
                ),
                Setting("notes", gettext_lazy("Notes"), "textarea", required=False),
            ),
        )
    )
    actions.register(
        Action(
            name="email",
            label=gettext_lazy("Send an email"),
            clean=email_clean,
            describe=email_describe,
            run=email_run,
            preview=email_preview,
            order=20,
            settings=(
                Setting("template", gettext_lazy("Email template"), "template"),
                Setting("coupon", gettext_lazy("Coupon code"), "text", required=False, max=60),
            ),
        )
    )
    actions.register(
        Action(
            name="stage",
            label=gettext_lazy("Change the stage"),
            clean=stage_clean,
            describe=stage_describe,
            run=stage_run,
            preview=stage_preview,
            order=30,
            settings=(Setting("stage", gettext_lazy("Stage"), "stage"),),
            effects=lambda config: [("stage", str(config.get("stage")))],
        )
    )
    actions.register(
        Action(
            name="tag_add",
            label=gettext_lazy("Add a tag"),
            clean=tag_clean,
            describe=lambda c: _("Add tag “%(tag)s”") % {"tag": c.get("tag", "")},
            run=tag_add_run,
            preview=tag_add_preview,
            order=40,
            settings=(Setting("tag", gettext_lazy("Tag"), "tag"),),
            effects=lambda config: [("tag", str(config.get("tag")))],
        )
    )
    actions.register(
        Action(
            name="tag_remove",
            label=gettext_lazy("Remove a tag"),
            clean=tag_clean,
            describe=lambda c: _("Remove tag “%(tag)s”") % {"tag": c.get("tag", "")},
            run=tag_remove_run,
            preview=tag_remove_preview,
            order=41,
            settings=(Setting("tag", gettext_lazy("Tag"), "tag"),),
            effects=lambda config: [("tag", str(config.get("tag")))],
        )
    )
    actions.register(
        Action(
            name="note",
            label=gettext_lazy("Add a timeline note"),
            clean=note_clean,
            describe=note_describe,
            run=note_run,
            preview=note_preview,
            order=50,
            settings=(Setting("text", gettext_lazy("Note"), "textarea", max=MAX_TEXT),),
        )
    )
    actions.register(
        Action(
            name="webhook",
            label=gettext_lazy("Call a webhook"),
            clean=webhook_clean,
            describe=webhook_describe,
            run=webhook_run,
            preview=webhook_preview,
            order=60,
            settings=(Setting("endpoint", gettext_lazy("Webhook endpoint"), "endpoint"),),
        )
    )
