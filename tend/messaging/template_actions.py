"""Writes for email templates: create, update, archive, restore, install a built-in.

Every write checks both languages' subject and body with the sandbox
(tend.messaging.templating.template_check) and saves nothing when one is refused: a
``ValidationError`` names the field (``subject_en``, ``body_zh_hans``…) with the line and the
reason. Owners and members write templates (the views and endpoints check the role).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tend.accounts.actions import audit_record
from tend.accounts.models import User
from tend.messaging.builtins import builtin_template
from tend.messaging.models import EmailTemplate
from tend.messaging.templating import (
    BODY_MAX,
    SUBJECT_MAX,
    TemplateError,
    check_text,
    known_names,
)

NAME_MAX = 120
DESCRIPTION_MAX = 300
KEY_MAX = 60
TEXT_FIELDS = ("subject_en", "body_en", "subject_zh_hans", "body_zh_hans")
FIELDS = ("name", "description", *TEXT_FIELDS)


def _plain_problem(value: str) -> str | None:
    if "\x00" in value:
        return _("Text cannot contain a NUL character.")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return _("Text cannot contain a lone surrogate.")
    return None


def template_clean(
    values: dict[str, Any], *, instance: EmailTemplate | None = None
) -> dict[str, Any]:
    """The fields of a template checked together; raises ValidationError naming every field
    at fault (a template error as "line 3: {% include %} is not allowed…", with ``line`` in
    its params)."""
    errors: dict[str, list[ValidationError]] = {}
    cleaned: dict[str, Any] = {}

    def fail(field: str, message: str, code: str = "invalid", line: int | None = None) -> None:
        errors.setdefault(field, []).append(
            # No params: Django would %-format the text, which holds "{% include %}".
            ValidationError(message, code)
        )

    for field in FIELDS:
        value = values.get(field, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            fail(field, _("Give text."), "type")
            continue
        if field in {"name", "description"}:
            value = value.strip()
        problem = _plain_problem(value)
        if problem:
            fail(field, problem, "null_character" if "\x00" in value else "surrogate")
            continue
        cleaned[field] = value
    name = cleaned.get("name")
    if "name" in cleaned:
        if not name:
            fail("name", _("Give the template a name."), "required")
        elif len(name) > NAME_MAX:
            fail("name", _("A name has at most %(max)s characters.") % {"max": NAME_MAX}, "range")
        else:
            taken = EmailTemplate.objects.filter(name__iexact=name)
            if instance is not None:
                taken = taken.exclude(pk=instance.pk)
            if taken.exists():
                fail("name", _("Another template is called “%(name)s”.") % {"name": name}, "taken")
    if len(cleaned.get("description", "")) > DESCRIPTION_MAX:
        fail(
            "description",
            _("A description has at most %(max)s characters.") % {"max": DESCRIPTION_MAX},
            "range",
        )
    names = known_names()
    for field in TEXT_FIELDS:
        if field not in cleaned:
            continue
        kind = "subject" if field.startswith("subject") else "body"
        try:
            check_text(
                cleaned[field],
                field=kind,
                limit=SUBJECT_MAX if kind == "subject" else BODY_MAX,
                names=names,
            )
        except TemplateError as exc:
            fail(field, exc.text(), "template", exc.line)
    if not errors:
        has_en = cleaned.get("subject_en", "").strip() and cleaned.get("body_en", "").strip()
        has_zh = (
            cleaned.get("subject_zh_hans", "").strip() and cleaned.get("body_zh_hans", "").strip()
        )
        if not has_en and not has_zh:
            fail(
                "body_en",
                _("Write a subject and a body in at least one language."),
                "range",
            )
        for lang in ("en", "zh_hans"):
            subject = cleaned.get(f"subject_{lang}", "").strip()
            body = cleaned.get(f"body_{lang}", "").strip()
            if bool(subject) != bool(body):
                missing = f"body_{lang}" if subject else f"subject_{lang}"
                # Valid alone, not together: the API's "range" code.
                fail(missing, _("Write both the subject and the body of a language."), "range")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _save_error(exc: IntegrityError, name: str) -> ValidationError:
    return ValidationError(
        {
            "name": [
                ValidationError(
                    _("Another template is called “%(name)s”.") % {"name": name}, "taken"
                )
            ]
        }
    )


def email_template_create(
    *,
    by: User | None,
    name: str,
    description: str = "",
    subject_en: str = "",
    body_en: str = "",
    subject_zh_hans: str = "",
    body_zh_hans: str = "",
    key: str = "",
    label: str = "",
) -> EmailTemplate:
    """Save a new template after checking both languages; nothing is saved when refused."""
    cleaned = template_clean(
        {
            "name": name,
            "description": description,
            "subject_en": subject_en,
            "body_en": body_en,
            "subject_zh_hans": subject_zh_hans,
            "body_zh_hans": body_zh_hans,
        }
    )
    try:
        with transaction.atomic():
            template = EmailTemplate.objects.create(
                key=(key or "")[:KEY_MAX], created_by=by if by and by.pk else None, **cleaned
            )
            audit_record(
                by=by,
                action="emailtemplate.create",
                obj=template,
                changes={"name": template.name},
                label=label,
            )
    except IntegrityError as exc:
        raise _save_error(exc, cleaned["name"]) from None
    return template


def email_template_update(
    *, template: EmailTemplate, by: User | None, label: str = "", **fields: Any
) -> EmailTemplate:
    """Change the fields given; the whole template is checked again, nothing saved when
    refused."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValidationError(
            {f: [ValidationError(_("Unknown field."), "unknown")] for f in unknown}
        )
    values = {f: getattr(template, f) for f in FIELDS} | fields
    cleaned = template_clean(values, instance=template)
    changed = {f: cleaned[f] for f in FIELDS if cleaned[f] != getattr(template, f)}
    if not changed:
        return template
    for field, value in changed.items():
        setattr(template, field, value)
    template.updated_at = timezone.now()
    try:
        with transaction.atomic():
            template.save(update_fields=[*changed, "updated_at"])
            audit_record(
                by=by,
                action="emailtemplate.update",
                obj=template,
                changes={"fields": sorted(changed)},
                label=label,
            )
    except IntegrityError as exc:
        template.refresh_from_db()
        raise _save_error(exc, cleaned["name"]) from None
    return template


def email_template_archive(
    *, template: EmailTemplate, by: User | None, label: str = ""
) -> EmailTemplate:
    """Archive: the template leaves the lists and pickers; playbook steps that name it keep it
    (they are warned). Archiving twice changes nothing."""
    if template.archived_at is None:
        with transaction.atomic():
            template.archived_at = timezone.now()
            template.save(update_fields=["archived_at"])
            audit_record(by=by, action="emailtemplate.archive", obj=template, label=label)
    return template


def email_template_restore(
    *, template: EmailTemplate, by: User | None, label: str = ""
) -> EmailTemplate:
    if template.archived_at is not None:
        with transaction.atomic():
            template.archived_at = None
            template.save(update_fields=["archived_at"])
            audit_record(by=by, action="emailtemplate.restore", obj=template, label=label)
    return template


def _free_name(name: str) -> str:
    """``name``, or "name (2)", "name (3)"… when taken."""
    candidate, n = name, 2
    while EmailTemplate.objects.filter(name__iexact=candidate).exists():
        candidate = f"{name} ({n})"
        n += 1
    return candidate


def email_template_install(
    *, key: str, by: User | None, language: str | None = None, label: str = ""
) -> EmailTemplate:
    """The built-in template ``key`` as an editable template. Idempotent: a template installed
    from it before is returned as it is now (restored if archived), not overwritten."""
    entry = builtin_template(key)
    if entry is None:
        raise ValidationError(
            {
                "key": [
                    ValidationError(
                        _("No built-in email template “%(key)s”.") % {"key": key}, "unknown"
                    )
                ]
            }
        )
    with transaction.atomic():
        existing = EmailTemplate.objects.select_for_update().filter(key=key).order_by("pk").first()
        if existing is not None:
            return email_template_restore(template=existing, by=by, label=label)
        from django.conf import settings

        lang = language or settings.LANGUAGE_CODE
        chinese = str(lang).startswith("zh")
        name = entry["name_zh_hans"] if chinese else entry["name"]
        description = entry["description_zh_hans"] if chinese else entry["description"]
        try:
            with transaction.atomic():
                return email_template_create(
                    by=by,
                    label=label,
                    name=_free_name(name),
                    description=description,
                    subject_en=entry["subject_en"],
                    body_en=entry["body_en"],
                    subject_zh_hans=entry["subject_zh_hans"],
                    body_zh_hans=entry["body_zh_hans"],
                    key=key,
                )
        except ValidationError:
            # Installed at the same moment by another request: theirs is the one.
            again = EmailTemplate.objects.filter(key=key).order_by("pk").first()
            if again is None:
                raise
            return again
