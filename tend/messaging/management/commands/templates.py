"""``tend templates list|show|check FILE|preview NAME --customer ID|install-builtins``: email
templates from the command line.

``tend templates list [--archived]`` prints every template;
``tend templates show NAME_OR_ID`` its subject and body in both languages;
``tend templates check welcome.md`` checks a file with the sandbox without saving it (a
Markdown body whose first line may be ``Subject: …``, or a JSON object with ``subject_en``,
``body_en``, ``subject_zh_hans``, ``body_zh_hans``): it exits 1 with ``FILE: field line N:
reason`` when a part is refused;
``tend templates preview NAME_OR_ID --customer 42 [--language zh-hans] [--html]`` prints the
email the template makes for customer 42, sending nothing;
``tend templates install-builtins [--key welcome …]`` adds the built-in texts (idempotent).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tend.customers.models import Customer
from tend.messaging.builtins import builtin_templates
from tend.messaging.models import EmailTemplate
from tend.messaging.template_actions import TEXT_FIELDS, email_template_install
from tend.messaging.templating import (
    BODY_MAX,
    SUBJECT_MAX,
    TemplateError,
    check_text,
    email_compose,
    known_names,
    template_languages,
)

MAX_FILE = 200_000


class Command(BaseCommand):
    help = "List, show, check, preview email templates, or install the built-in texts."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="list|show|check|preview|install-builtins"
        )
        listing = actions.add_parser("list", help="every template")
        listing.add_argument("--archived", action="store_true", help="the archived ones")
        show = actions.add_parser("show", help="one template's text in both languages")
        show.add_argument("template", help="name or id")
        check = actions.add_parser("check", help="check a file with the sandbox, save nothing")
        check.add_argument("file")
        preview = actions.add_parser("preview", help="the email for one customer, not sent")
        preview.add_argument("template", help="name or id")
        preview.add_argument("--customer", type=int, required=True, help="customer id")
        preview.add_argument("--language", choices=["en", "zh-hans"])
        preview.add_argument("--html", action="store_true", help="print the HTML part too")
        install = actions.add_parser("install-builtins", help="add the built-in texts")
        install.add_argument("--key", action="append", help="only this one (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _print(self, table: Table) -> None:
        buffer = io.StringIO()
        Console(file=buffer, width=120).print(table)
        self.stdout.write(buffer.getvalue(), ending="")

    def _template(self, ref: str) -> EmailTemplate:
        qs = EmailTemplate.objects.all()
        found = qs.filter(name__iexact=ref).first()
        if found is None and ref.isdigit() and len(ref) < 19:
            found = qs.filter(pk=int(ref)).first()
        if found is None:
            raise CommandError(f"template: no email template named or numbered {ref!r}.")
        return found

    def _list(self, options: dict[str, Any]) -> None:
        qs = EmailTemplate.objects.filter(archived_at__isnull=not options["archived"])
        table = Table("Id", "Name", "Built-in", "Languages", "Changed (UTC)")
        for t in qs.order_by("name", "pk"):
            table.add_row(
                str(t.pk),
                t.name,
                t.key or "—",
                ", ".join(template_languages(t)) or "none",
                f"{t.updated_at:%Y-%m-%d %H:%M}",
            )
        self._print(table)

    def _show(self, options: dict[str, Any]) -> None:
        t = self._template(options["template"])
        out = self.stdout
        out.write(f"{t.name} (id {t.pk}){' [archived]' if t.archived_at else ''}")
        if t.description:
            out.write(t.description)
        for label, subject, body in (
            ("English", t.subject_en, t.body_en),
            ("Simplified Chinese", t.subject_zh_hans, t.body_zh_hans),
        ):
            out.write(f"\n== {label} ==")
            if not subject and not body:
                out.write("(no text)")
                continue
            out.write(f"Subject: {subject}\n")
            out.write(body)

    def _read(self, path: Path) -> dict[str, str]:
        try:
            raw = path.read_bytes()[: MAX_FILE + 1]
        except OSError as exc:
            raise CommandError(f"file: cannot read {path}: {exc.strerror}") from None
        if len(raw) > MAX_FILE:
            raise CommandError(f"file: {path} is larger than {MAX_FILE:,} bytes.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CommandError(f"file: {path} is not UTF-8 text.") from None
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CommandError(f"file: {path} is not valid JSON: {exc}") from None
            if not isinstance(data, dict):
                raise CommandError(f"file: {path} must hold a JSON object.")
            return {f: data[f] for f in TEXT_FIELDS if f in data}
        subject = ""
        first, _newline, rest = text.partition("\n")
        if first.lower().startswith("subject:"):
            # The subject line becomes an empty line, so errors give the file's line numbers.
            subject, text = first.split(":", 1)[1].strip(), "\n" + rest
        return {"subject_en": subject, "body_en": text}

    def _check(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        fields = self._read(path)
        names = known_names()
        problems = []
        for field, value in fields.items():
            kind = "subject" if field.startswith("subject") else "body"
            try:
                check_text(
                    value,
                    field=kind,
                    limit=SUBJECT_MAX if kind == "subject" else BODY_MAX,
                    names=names,
                )
            except TemplateError as exc:
                problems.append(f"{path}: {field} {exc.text()}")
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} part(s) refused; nothing was saved.")
        self.stdout.write(f"{path}: OK ({', '.join(fields) or 'nothing to check'})")

    def _preview(self, options: dict[str, Any]) -> None:
        t = self._template(options["template"])
        customer = Customer.objects.filter(pk=options["customer"]).first()
        if customer is None:
            raise CommandError(f"--customer: no customer with id {options['customer']}.")
        try:
            email = email_compose(template=t, customer=customer, language=options["language"])
        except TemplateError as exc:
            raise CommandError(f"template: {exc.text()}") from None
        out = self.stdout
        out.write(f"To: {email.to or '(no address)'}")
        out.write(f"Language: {email.language}")
        out.write(f"Subject: {email.subject}\n")
        out.write(email.text)
        if options["html"]:
            out.write("\n-- HTML --")
            out.write(email.html)

    def _install_builtins(self, options: dict[str, Any]) -> None:
        keys = options["key"] or [entry["key"] for entry in builtin_templates()]
        for key in keys:
            try:
                template = email_template_install(key=key, by=None)
            except ValidationError as exc:
                raise CommandError(f"--key: {' '.join(exc.messages)}") from None
            self.stdout.write(f"{key}: {template.name} (id {template.pk})")
