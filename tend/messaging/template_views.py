"""Email template pages: the list with the built-in texts, the editor (both languages side by
side, the variable catalog beside them), the preview with a real customer (subject, HTML in a
sandboxed frame, text, in each language), "send a test to me", archive and restore.

Everyone logged in reads and previews; owners and members write, install, archive and send
tests (viewers get 403 on every POST and nothing changes). Writes go through
``tend.messaging.template_actions``; a template the sandbox refuses is shown again with the
line and reason under the field, and nothing is saved.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tend.customers.models import Customer
from tend.customers.queries import search_for_picker
from tend.lib.access import can_write, require_write, write_view
from tend.messaging.builtins import builtin_templates
from tend.messaging.models import EmailTemplate
from tend.messaging.template_actions import (
    DESCRIPTION_MAX,
    NAME_MAX,
    TEXT_FIELDS,
    email_template_archive,
    email_template_create,
    email_template_install,
    email_template_restore,
    email_template_update,
)
from tend.messaging.templating import (
    BODY_MAX,
    SUBJECT_MAX,
    ComposedEmail,
    TemplateError,
    check_text,
    email_compose,
    known_names,
    template_languages,
)
from tend.messaging.variables import email_language, variable_catalog

LANGUAGE_NAMES = {"en": gettext_lazy("English"), "zh-hans": gettext_lazy("Simplified Chinese")}
# The preview frame's own policy: the email's inline styles and remote images only, nothing
# that runs, and only Tend's own pages may frame it.
FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox"
)


class TemplateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=NAME_MAX)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, max_length=DESCRIPTION_MAX
    )
    subject_en = forms.CharField(
        label=gettext_lazy("Subject"), required=False, max_length=SUBJECT_MAX, strip=False
    )
    body_en = forms.CharField(
        label=gettext_lazy("Body (Markdown)"),
        required=False,
        max_length=BODY_MAX,
        strip=False,
        widget=forms.Textarea,
    )
    subject_zh_hans = forms.CharField(
        label=gettext_lazy("Subject"), required=False, max_length=SUBJECT_MAX, strip=False
    )
    body_zh_hans = forms.CharField(
        label=gettext_lazy("Body (Markdown)"),
        required=False,
        max_length=BODY_MAX,
        strip=False,
        widget=forms.Textarea,
    )

    def add_action_errors(self, exc: ValidationError) -> None:
        for field, errors in exc.error_dict.items():
            for error in errors:
                self.add_error(field if field in self.fields else None, " ".join(error.messages))


def _editor(
    request: HttpRequest, form: TemplateForm, template: EmailTemplate | None, *, status: int = 200
) -> HttpResponse:
    columns = [
        {
            "code": "en",
            "name": LANGUAGE_NAMES["en"],
            "subject": form["subject_en"],
            "body": form["body_en"],
        },
        {
            "code": "zh-hans",
            "name": LANGUAGE_NAMES["zh-hans"],
            "subject": form["subject_zh_hans"],
            "body": form["body_zh_hans"],
        },
    ]
    return render(
        request,
        "messaging/emailtemplates/form.html",
        {
            "form": form,
            "template": template,
            "columns": columns,
            "catalog": variable_catalog(),
            "refused": form.is_bound and bool(form.errors),
        },
        status=status,
    )


@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    """Every template (or the archived ones) and the built-in texts not installed yet."""
    archived = request.GET.get("archived") == "1"
    templates = list(
        EmailTemplate.objects.filter(archived_at__isnull=not archived).order_by("name", "pk")
    )
    installed = set(EmailTemplate.objects.exclude(key="").values_list("key", flat=True))
    rows = [{"template": t, "languages": template_languages(t)} for t in templates]
    return render(
        request,
        "messaging/emailtemplates/list.html",
        {
            "rows": rows,
            "archived": archived,
            "archived_count": EmailTemplate.objects.filter(archived_at__isnull=False).count(),
            "builtins": [b for b in builtin_templates() if b["key"] not in installed],
            "can_write": can_write(request.user),
            "language_names": LANGUAGE_NAMES,
        },
    )


@require_http_methods(["GET", "POST"])
@write_view
def template_new(request: HttpRequest) -> HttpResponse:
    """Write a new template (owners and members)."""
    user = require_write(request.user)
    if request.method != "POST":
        return _editor(request, TemplateForm(), None)
    form = TemplateForm(request.POST)
    if form.is_valid():
        try:
            template = email_template_create(by=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
            return redirect("emailtemplates:detail", pk=template.pk)
    return _editor(request, form, None, status=422)


@require_http_methods(["GET", "POST"])
@write_view
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a template; both languages are checked again and nothing is saved if refused."""
    user = require_write(request.user)
    template = get_object_or_404(EmailTemplate, pk=pk)
    if request.method != "POST":
        initial = {f: getattr(template, f) for f in ("name", "description", *TEXT_FIELDS)}
        return _editor(request, TemplateForm(initial=initial), template)
    form = TemplateForm(request.POST)
    if form.is_valid():
        try:
            email_template_update(template=template, by=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_action_errors(exc)
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
            return redirect("emailtemplates:detail", pk=template.pk)
    return _editor(request, form, template, status=422)


CHECK_LABELS = {
    "subject_en": gettext_lazy("English subject"),
    "body_en": gettext_lazy("English body"),
    "subject_zh_hans": gettext_lazy("Chinese subject"),
    "body_zh_hans": gettext_lazy("Chinese body"),
}


@require_POST
@write_view
def template_check_view(request: HttpRequest) -> HttpResponse:
    """The editor's live check (htmx partial): each subject and body checked by the sandbox as
    the founder types; saves nothing."""
    names = known_names()
    problems = []
    for field, label in CHECK_LABELS.items():
        text = request.POST.get(field, "")
        if not text:
            continue
        kind = "subject" if field.startswith("subject") else "body"
        try:
            check_text(
                text, field=kind, limit=SUBJECT_MAX if kind == "subject" else BODY_MAX, names=names
            )
        except TemplateError as exc:
            problems.append({"label": label, "text": exc.text()})
    return render(request, "messaging/emailtemplates/_check.html", {"problems": problems})


def _preview_customer(request: HttpRequest) -> Customer | None:
    raw = request.GET.get("customer") or request.POST.get("customer") or ""
    qs = Customer.objects.select_related("plan", "owner")
    if raw.isdigit() and len(raw) < 19:
        found = qs.filter(pk=int(raw)).first()
        if found is not None:
            return found
    return qs.order_by("name", "pk").first()


def _compose(
    template: EmailTemplate, customer: Customer, language: str
) -> tuple[ComposedEmail | None, str]:
    try:
        return email_compose(template=template, customer=customer, language=language), ""
    except TemplateError as exc:
        return None, exc.text()


def _recipient_language(template: EmailTemplate, customer: Customer | None) -> str:
    """The language this customer would get the template in (their own when it has it)."""
    available = template_languages(template)
    if customer is None or not available:
        return ""
    wanted = email_language(customer)
    return wanted if wanted in available else available[0]


@require_GET
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A template previewed for a real customer: subject, HTML and text in each language."""
    template = get_object_or_404(EmailTemplate.objects.select_related("created_by"), pk=pk)
    customer = _preview_customer(request)
    previews = []
    if customer is not None:
        for code in template_languages(template):
            email, error = _compose(template, customer, code)
            frame = reverse("emailtemplates:frame", args=[template.pk])
            query = urlencode({"customer": str(customer.pk), "language": code})
            previews.append(
                {
                    "code": code,
                    "name": LANGUAGE_NAMES[code],
                    "email": email,
                    "error": error,
                    "frame_url": f"{frame}?{query}",
                }
            )
    return render(
        request,
        "messaging/emailtemplates/detail.html",
        {
            "template": template,
            "customer": customer,
            "previews": previews,
            "can_write": can_write(request.user),
            "test_key": uuid.uuid4().hex,
            "recipient_language": _recipient_language(template, customer),
            "user_email": getattr(request.user, "email", ""),
        },
    )


@require_GET
@xframe_options_sameorigin
def template_frame(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTML email alone, for the preview's sandboxed frame, under a policy that lets
    nothing in it run."""
    template = get_object_or_404(EmailTemplate, pk=pk)
    customer = _preview_customer(request)
    language = request.GET.get("language")
    if language not in LANGUAGE_NAMES:
        language = "en"
    if customer is None:
        html = "<!doctype html><p>" + escape(_("No customer to preview with.")) + "</p>"
    else:
        email, error = _compose(template, customer, language)
        html = email.html if email else "<!doctype html><p>" + escape(error) + "</p>"
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = FRAME_CSP
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def template_customer_search(request: HttpRequest) -> HttpResponse:
    """Customers matching ``q`` for the preview's picker (htmx fragment of links)."""
    text = (request.GET.get("q") or "").replace("\x00", "")[:200].strip()
    pk = request.GET.get("template") or ""
    results = search_for_picker(text) if text else []
    return render(
        request,
        "messaging/emailtemplates/_customer_results.html",
        {"results": results, "searched": bool(text), "template_pk": pk if pk.isdigit() else ""},
    )


def _back_to_preview(template: EmailTemplate, customer: Customer | None, language: str) -> str:
    url = reverse("emailtemplates:detail", args=[template.pk])
    params = {"customer": customer.pk} if customer else {}
    return f"{url}?{urlencode(params)}" if params else url


@require_POST
@write_view
def template_send_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Send this template, filled in for the previewed customer, to the logged-in user."""
    user = require_write(request.user)
    template = get_object_or_404(EmailTemplate, pk=pk)
    customer = _preview_customer(request)
    language = request.POST.get("language") or ""
    if language not in LANGUAGE_NAMES:
        language = "en"
    key = request.POST.get("key") or ""
    back = redirect(_back_to_preview(template, customer, language))
    if not user.email:
        messages.error(request, _("Add your email address in Settings first: tests go to it."))
        return back
    if customer is None:
        messages.error(request, _("Add a customer first: a test is filled in for one."))
        return back
    email, error = _compose(template, customer, language)
    if email is None:
        messages.error(request, error)
        return back
    from tend.messaging.outbox import email_enqueue

    test_key = key if len(key) == 32 and key.isalnum() else uuid.uuid4().hex
    email_enqueue(
        key=f"template-test:{user.pk}:{test_key}:{email.language}",
        to=user.email,
        subject=(_("[Test] %(subject)s") % {"subject": email.subject})[:SUBJECT_MAX],
        text=email.text,
        html=email.html,
        customer=customer,
        template=template,
        user=user,
        language=email.language,
        source="template_test",
        source_id=str(template.pk),
        outreach=False,
    )
    messages.success(
        request,
        _("A test email in %(language)s is on its way to %(email)s.")
        % {"language": LANGUAGE_NAMES[email.language], "email": user.email},
    )
    return back


@require_POST
@write_view
def template_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Archive a template: it leaves the list and the playbook pickers."""
    template = get_object_or_404(EmailTemplate, pk=pk)
    email_template_archive(template=template, by=require_write(request.user))
    messages.success(request, _("Template “%(name)s” archived.") % {"name": template.name})
    return redirect("emailtemplates:list")


@require_POST
@write_view
def template_restore(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(EmailTemplate, pk=pk)
    email_template_restore(template=template, by=require_write(request.user))
    messages.success(request, _("Template “%(name)s” restored.") % {"name": template.name})
    return redirect("emailtemplates:detail", pk=template.pk)


@require_POST
@write_view
def template_install(request: HttpRequest) -> HttpResponse:
    """Install a built-in text as an editable template (installing twice changes nothing)."""
    user = require_write(request.user)
    key = (request.POST.get("key") or "")[:60]
    try:
        template = email_template_install(key=key, by=user, language=get_language())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("emailtemplates:list")
    messages.success(request, _("Template “%(name)s” added.") % {"name": template.name})
    return redirect("emailtemplates:detail", pk=template.pk)
