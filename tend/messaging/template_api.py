"""REST endpoints for email templates: list, read, create, change, archive, restore, preview
with a real customer, the variable catalog and the built-in texts.

Authorised by tend.api.auth before they run (read keys and viewers only read; POST /preview
reads but needs a write-capable caller like every POST). A template the sandbox refuses is a
422 naming the field (``body_zh_hans``) with the line and reason in the message.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from tend.api.auth import Principal
from tend.api.errors import UNKNOWN, FieldError
from tend.api.schemas import (
    ERRORS,
    ERRORS_404,
    ERRORS_409,
    UNSET,
    InputSchema,
    Page,
    PageParams,
    PathId,
    UtcDatetime,
    paginate,
)
from tend.customers.models import Contact, Customer
from tend.messaging.builtins import builtin_templates
from tend.messaging.models import EmailTemplate
from tend.messaging.template_actions import (
    DESCRIPTION_MAX,
    NAME_MAX,
    email_template_archive,
    email_template_create,
    email_template_install,
    email_template_restore,
    email_template_update,
)
from tend.messaging.templating import BODY_MAX, SUBJECT_MAX, TemplateError, email_compose
from tend.messaging.variables import variable_catalog

router = Router(tags=["email templates"])

TEXT_DOC = (
    "Jinja-style `{{ variables }}` with `if`/`for` and a few filters, checked by the sandbox "
    "(docs/email-templates.md). A refused template is a 422 naming this field; the message "
    "gives the line and the reason."
)


class EmailTemplateOut(Schema):
    id: int
    name: str
    key: str = Field(..., description="The built-in text it was installed from; empty if none.")
    description: str
    subject_en: str
    body_en: str
    subject_zh_hans: str
    body_zh_hans: str
    languages: list[str] = Field(..., description="Languages with text: `en`, `zh-hans`.")
    archived: bool
    created_by: str | None = Field(..., description="Username.")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    archived_at: UtcDatetime | None

    @staticmethod
    def resolve_languages(obj: EmailTemplate) -> list[str]:
        from tend.messaging.templating import template_languages

        return template_languages(obj)

    @staticmethod
    def resolve_archived(obj: EmailTemplate) -> bool:
        return obj.archived_at is not None

    @staticmethod
    def resolve_created_by(obj: EmailTemplate) -> str | None:
        return obj.created_by.username if obj.created_by is not None else None


class EmailTemplatePage(Page):
    items: list[EmailTemplateOut]


class EmailTemplateListQuery(Schema):
    archived: bool = Field(False, description="true: the archived templates instead.")


NAME_PATTERN = r"\S"  # at least one character that is not a space


class EmailTemplateIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN)
    description: str = Field("", max_length=DESCRIPTION_MAX)
    subject_en: str = Field("", max_length=SUBJECT_MAX, description=TEXT_DOC)
    body_en: str = Field("", max_length=BODY_MAX, description=TEXT_DOC + " Markdown.")
    subject_zh_hans: str = Field("", max_length=SUBJECT_MAX, description=TEXT_DOC)
    body_zh_hans: str = Field("", max_length=BODY_MAX, description=TEXT_DOC + " Markdown.")


class EmailTemplatePatch(InputSchema):
    name: str = Field(UNSET, min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN)
    description: str = Field(UNSET, max_length=DESCRIPTION_MAX)
    subject_en: str = Field(UNSET, max_length=SUBJECT_MAX, description=TEXT_DOC)
    body_en: str = Field(UNSET, max_length=BODY_MAX, description=TEXT_DOC)
    subject_zh_hans: str = Field(UNSET, max_length=SUBJECT_MAX, description=TEXT_DOC)
    body_zh_hans: str = Field(UNSET, max_length=BODY_MAX, description=TEXT_DOC)


class EmailPreviewIn(InputSchema):
    customer_id: int = Field(..., ge=1, le=2**63 - 1)
    contact_id: int | None = Field(None, ge=1, le=2**63 - 1)
    language: str | None = Field(
        None,
        pattern="^(en|zh-hans)$",
        description="`en` or `zh-hans`; default: the recipient's language.",
    )
    extra: dict[str, str | int] = Field(
        default_factory=dict,
        max_length=20,
        description='Step variables, e.g. `{"coupon": "WINBACK20", "days_left": 30}`.',
    )


class EmailPreviewOut(Schema):
    to: str = Field(..., description="The recipient's address; empty when there is none.")
    language: str
    subject: str
    text: str
    html: str


class TemplateVariableOut(Schema):
    name: str
    meaning: str
    example: str


class BuiltinTemplateOut(Schema):
    key: str
    name: str
    name_zh_hans: str
    description: str
    description_zh_hans: str
    subject_en: str
    body_en: str
    subject_zh_hans: str
    body_zh_hans: str
    installed_id: int | None = Field(..., description="The template installed from it, if any.")


class TemplateInstallIn(InputSchema):
    key: str = Field(..., min_length=1, max_length=60, pattern="^[-a-z0-9]+$")


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def _template(pk: int) -> EmailTemplate:
    template = EmailTemplate.objects.select_related("created_by").filter(pk=pk).first()
    if template is None:
        raise Http404(f"Email template {pk} not found.")
    return template


def _refused(exc: ValidationError) -> FieldError | ValidationError:
    """A name taken is a 409 (like segments); anything else the 422 naming its field."""
    for field, errors in exc.error_dict.items():
        for error in errors:
            if error.code == "taken":
                return FieldError(field, " ".join(error.messages), status=409, code="taken")
    return exc


@router.get("/email-templates", response={200: EmailTemplatePage, **ERRORS})
def email_template_list(
    request: HttpRequest, paging: Query[PageParams], params: Query[EmailTemplateListQuery]
) -> dict[str, Any]:
    """Email templates by name (the archived ones with `archived=true`)."""
    qs = EmailTemplate.objects.select_related("created_by").filter(
        archived_at__isnull=not params.archived
    )
    return paginate(qs.order_by("name", "pk"), paging)


@router.post("/email-templates", response={201: EmailTemplateOut, **ERRORS_409})
def email_template_create_endpoint(
    request: HttpRequest, payload: EmailTemplateIn
) -> Status[EmailTemplate]:
    """Save a template; both languages are checked by the sandbox first, and nothing is saved
    when one is refused (a 422 naming the field, e.g. `body_en`, with the line and reason).
    A name taken (any case) is a 409."""
    who = _principal(request)
    try:
        template = email_template_create(by=who.user, label=who.label, **payload.model_dump())
    except ValidationError as exc:
        raise _refused(exc) from None
    return Status(201, _template(template.pk))


@router.get("/email-templates/variables", response={200: list[TemplateVariableOut], **ERRORS})
def email_template_variables(request: HttpRequest) -> list[dict[str, str]]:
    """The variables a template may use, with their meaning and an example."""
    return [
        {"name": v.name, "meaning": str(v.meaning), "example": v.example}
        for v in variable_catalog()
    ]


@router.get("/email-templates/builtins", response={200: list[BuiltinTemplateOut], **ERRORS})
def email_template_builtins(request: HttpRequest) -> list[dict[str, Any]]:
    """The built-in email texts (both languages) and whether each is installed."""
    installed = dict(EmailTemplate.objects.exclude(key="").order_by("-pk").values_list("key", "pk"))
    return [entry | {"installed_id": installed.get(entry["key"])} for entry in builtin_templates()]


@router.post("/email-templates/install", response={200: EmailTemplateOut, **ERRORS_409})
def email_template_install_endpoint(
    request: HttpRequest, payload: TemplateInstallIn
) -> EmailTemplate:
    """Install a built-in text as an editable template; installing it again returns the one
    installed before (restored if archived). An unknown key is a 422."""
    who = _principal(request)
    try:
        template = email_template_install(key=payload.key, by=who.user, label=who.label)
    except ValidationError as exc:
        raise FieldError("key", " ".join(exc.messages), code=UNKNOWN) from None
    return _template(template.pk)


@router.get("/email-templates/{template_id}", response={200: EmailTemplateOut, **ERRORS_404})
def email_template_retrieve(request: HttpRequest, template_id: PathId) -> EmailTemplate:
    """One template."""
    return _template(template_id)


@router.patch("/email-templates/{template_id}", response={200: EmailTemplateOut, **ERRORS_409})
def email_template_update_endpoint(
    request: HttpRequest, template_id: PathId, payload: EmailTemplatePatch
) -> EmailTemplate:
    """Change the fields sent; the whole template is checked again, nothing saved when
    refused."""
    who = _principal(request)
    template = _template(template_id)
    try:
        email_template_update(
            template=template,
            by=who.user,
            label=who.label,
            **payload.model_dump(exclude_unset=True),
        )
    except ValidationError as exc:
        raise _refused(exc) from None
    return _template(template_id)


@router.post(
    "/email-templates/{template_id}/archive", response={200: EmailTemplateOut, **ERRORS_404}
)
def email_template_archive_endpoint(request: HttpRequest, template_id: PathId) -> EmailTemplate:
    """Archive a template (it leaves lists and pickers; archiving twice changes nothing)."""
    who = _principal(request)
    email_template_archive(template=_template(template_id), by=who.user, label=who.label)
    return _template(template_id)


@router.post(
    "/email-templates/{template_id}/restore", response={200: EmailTemplateOut, **ERRORS_404}
)
def email_template_restore_endpoint(request: HttpRequest, template_id: PathId) -> EmailTemplate:
    """Bring an archived template back."""
    who = _principal(request)
    email_template_restore(template=_template(template_id), by=who.user, label=who.label)
    return _template(template_id)


@router.post(
    "/email-templates/{template_id}/preview", response={200: EmailPreviewOut, **ERRORS_404}
)
def email_template_preview(
    request: HttpRequest, template_id: PathId, payload: EmailPreviewIn
) -> dict[str, Any]:
    """The email this template makes for a real customer (subject, text and HTML), without
    sending anything. An unknown customer or contact is a 422; a template that cannot render
    a 422 naming the field."""
    template = _template(template_id)
    customer = (
        Customer.objects.select_related("plan", "owner").filter(pk=payload.customer_id).first()
    )
    if customer is None:
        raise FieldError("customer_id", f"No customer with id {payload.customer_id}.", code=UNKNOWN)
    contact = None
    if payload.contact_id is not None:
        contact = Contact.objects.filter(pk=payload.contact_id, customer=customer).first()
        if contact is None:
            raise FieldError(
                "contact_id", "No contact with that id at this customer.", code=UNKNOWN
            )
    for key in payload.extra:
        if not key.isidentifier() or key.startswith("_") or len(key) > 40:
            raise FieldError("extra", f"Not a variable name: {key[:40]!r}.", code="invalid")
    try:
        email = email_compose(
            template=template,
            customer=customer,
            contact=contact,
            extra=dict(payload.extra),
            language=payload.language,
        )
    except TemplateError as exc:
        suffix = "zh_hans" if exc.language == "zh-hans" else "en"
        raise FieldError(f"{exc.field}_{suffix}", exc.text(), code="template") from None
    return {
        "to": email.to,
        "language": email.language,
        "subject": email.subject,
        "text": email.text,
        "html": email.html,
    }
