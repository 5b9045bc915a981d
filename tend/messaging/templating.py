"""Email templates written by users: checked at save, rendered in a sandbox at send time.

A founder writes ``Hi {{ contact.first_name | default("there") }}, …`` in Markdown. Templates
are Jinja2 text, but only a small part of the language is allowed, and that is decided by
walking the parsed template (``template_check``) before anything is saved or rendered:

- variables from the catalog (tend.messaging.variables) and their fields, ``if/elif/else``,
  ``for`` over the lists we pass (at most ``MAX_LOOP_DEPTH`` loops inside each other, lists
  cut to ``MAX_LIST`` items), comparisons, ``~`` and simple arithmetic, a few filters;
- no ``include/import/extends/block/macro/call/set/filter/with``, no function or method
  calls, no names starting with ``_``, no ``**``.

Rendering happens in jinja2's ``SandboxedEnvironment`` with the globals emptied (no
``range``, ``lipsum``, ``cycler``, ``namespace``…), and attribute lookups answered only from
the plain dicts of strings, numbers and dates we pass: no Python object is ever reached, so no
method can be called and settings cannot be read. Output is capped at ``MAX_OUTPUT``
characters. Each check repeats at compose time, so a template saved under older rules cannot
slip through.

The body is Markdown (CommonMark, raw HTML off) turned into HTML and cleaned with nh3 (links:
http, https, mailto only), then wrapped in a simple email layout; the text part is the
rendered Markdown itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import nh3
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError
from jinja2.exceptions import TemplateError as JinjaTemplateError
from jinja2.filters import FILTERS
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment
from jinja2.tests import TESTS
from markdown_it import MarkdownIt

from tend.lib.money import format_money
from tend.messaging.variables import (
    CATALOG_FIELDS,
    OPEN,
    email_language,
    email_variables,
    recipient,
)

if TYPE_CHECKING:
    from tend.customers.models import Contact, Customer
    from tend.messaging.models import EmailTemplate

LANGUAGES = ("en", "zh-hans")
SUBJECT_MAX = 300  # EmailTemplate.subject_* and Message.subject
BODY_MAX = 20_000
MAX_OUTPUT = 100_000  # characters of one rendered subject or body
MAX_LOOP_DEPTH = 2
MAX_LIST = 100  # items of a list literal in a template (lists we pass are cut to this too)
LOOP_FIELDS = frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length"})
ALLOWED_FILTERS = (
    "default", "d", "upper", "lower", "title", "capitalize", "trim", "join", "length",
    "first", "last", "round", "date", "money",
)  # fmt: skip
ALLOWED_TESTS = (
    "defined", "undefined", "none", "number", "string", "even", "odd", "divisibleby",
    "in", "eq", "ne", "lt", "le", "gt", "ge", "==", "!=", "<", "<=", ">", ">=",
)  # fmt: skip

# Statements a founder might try, with the name they wrote them under.
REFUSED_TAGS: dict[type[nodes.Node], str] = {
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from … import %}",
    nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}",
    nodes.FilterBlock: "{% filter %}",
    nodes.With: "{% with %}",
    nodes.ScopedEvalContextModifier: "{% autoescape %}",
    nodes.EvalContextModifier: "{% autoescape %}",
}
ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.For, nodes.Name,
    nodes.Const, nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Test, nodes.CondExpr,
    nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos,
    nodes.Concat, nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod,
    nodes.List, nodes.Tuple, nodes.Keyword,
)  # fmt: skip


class TemplateError(Exception):
    """A template the sandbox refuses or cannot render: ``reason`` in the reader's language,
    the ``line`` (1-based, None when it is about the whole text) and the ``field``
    ("subject" or "body"; the save action names the language too: "body_zh_hans")."""

    def __init__(self, message: str, *, line: int | None = None, field: str = "body") -> None:
        self.reason = str(message)
        self.line = line
        self.field = field
        self.language = ""  # set by email_compose: the language it was rendering
        super().__init__(self.text())

    def text(self) -> str:
        if self.line:
            return _("line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason}
        return self.reason

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class ComposedEmail:
    to: str
    language: str
    subject: str
    text: str
    html: str


# --- the sandbox ------------------------------------------------------------------------


class _Blank(ChainableUndefined):
    """A missing value renders as nothing, and so do its fields (``contact.first_name`` with
    no contact)."""

    __slots__ = ()


class _Sandbox(SandboxedEnvironment):
    """Attribute and item lookups come only from the dicts we pass; nothing is callable."""

    intercepted_binops = frozenset({"*", "/", "//", "%", "+", "-", "**"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self.getitem(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, LoopContext) and argument in LOOP_FIELDS:
            return getattr(obj, argument)
        if isinstance(obj, dict) and isinstance(argument, str) and not argument.startswith("_"):
            if argument in obj:
                return obj[argument]
        elif (
            isinstance(obj, (list, tuple, str))
            and isinstance(argument, int)
            and not isinstance(argument, bool)
            and -len(obj) <= argument < len(obj)
        ):
            return obj[argument]
        return self.undefined(obj=obj, name=str(argument)[:50])

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # The check refuses every call; filters are not called through here.
        raise SecurityError("calling is not allowed")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        numbers = all(
            isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in (left, right)
        )
        if operator == "**" or (operator != "+" and not numbers):
            # "ab" * 10**9 would fill the memory before the output limit could stop it.
            raise SecurityError(_("arithmetic works on numbers only"))
        if (
            operator == "+"
            and not numbers
            and not (isinstance(left, str) and isinstance(right, str))
        ):
            raise SecurityError(_("arithmetic works on numbers only"))
        if operator in {"/", "//", "%"} and right == 0:
            raise SecurityError(_("division by zero"))
        result: Any = super().call_binop(context, operator, left, right)
        if isinstance(result, (int, float, Decimal)) and abs(result) > 10**15:  # type: ignore[operator]
            raise SecurityError(_("a number in the template is too large"))
        return result


MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def format_date(value: Any, style: str = "long", *, language: str) -> str:
    """A date the way the email's language writes it: "December 6, 2026" / "2026年12月6日";
    ``short``: "Dec 6, 2026" / "12月6日"; ``iso``: "2026-12-06". ISO text is read as a date."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip()[:10])
        except ValueError:
            return value
    if not isinstance(value, date):
        return "" if value is None or isinstance(value, ChainableUndefined) else str(value)
    if style == "iso":
        return value.isoformat()
    if language == "zh-hans":
        if style == "short":
            return f"{value.month}月{value.day}日"
        return f"{value.year}年{value.month}月{value.day}日"
    month = MONTHS_EN[value.month - 1]
    if style == "short":
        return f"{month[:3]} {value.day}, {value.year}"
    return f"{month} {value.day}, {value.year}"


def _money(value: Any, currency: Any = None, *, language: str) -> str:
    if isinstance(value, ChainableUndefined) or value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return str(value)
    code = str(currency).upper()[:3] if isinstance(currency, str) and currency else None
    return format_money(amount, code, language=language)


@lru_cache(maxsize=4)
def _environment(language: str) -> _Sandbox:
    env = _Sandbox(
        autoescape=False,
        undefined=_Blank,
        keep_trailing_newline=True,
        extensions=[],
        finalize=lambda v: format_date(v, language=language) if isinstance(v, date) else v,
    )
    env.globals.clear()  # no range, lipsum, cycler, joiner, namespace, dict
    env.filters = {name: FILTERS[name] for name in ALLOWED_FILTERS if name in FILTERS}
    # ``default`` also stands in for an empty value: a contact with no first name is as
    # missing as no contact at all.
    env.filters["default"] = env.filters["d"] = lambda v, fallback="", boolean=True: FILTERS[
        "default"
    ](v, fallback, boolean)
    env.filters["date"] = lambda v, style="long": format_date(v, str(style), language=language)
    env.filters["money"] = lambda v, currency=None: _money(v, currency, language=language)
    env.tests = {name: TESTS[name] for name in ALLOWED_TESTS}
    return env


@lru_cache(maxsize=256)
def _compiled(language: str, source: str) -> Any:
    """``source`` compiled once per process (a playbook sends the same text to many)."""
    return _environment(language).from_string(source)


# --- the check ----------------------------------------------------------------------------


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return _("the text contains a NUL character")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return _("the text contains a broken character (a lone surrogate)")
    return None


def _chain(node: nodes.Node) -> tuple[nodes.Node, list[Any]]:
    """``customer.traits["seats"]`` as (Name customer, ["traits", "seats"]); a non-constant
    key is None."""
    path: list[Any] = []
    while isinstance(node, (nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            path.append(node.attr)
        else:
            arg = node.arg
            path.append(arg.value if isinstance(arg, nodes.Const) else None)
        node = node.node
    path.reverse()
    return node, path


def _line(node: nodes.Node, fallback: int) -> int:
    return int(getattr(node, "lineno", 0) or fallback)


class _Checker:
    def __init__(self, field: str, names: Mapping[str, Any]) -> None:
        self.field = field
        self.names = names

    def refuse(self, message: str, node: nodes.Node | None = None, line: int = 1) -> None:
        raise TemplateError(
            message, line=_line(node, line) if node is not None else line, field=self.field
        )

    def walk(self, root: nodes.Node) -> None:
        # (node, loop depth, names bound by the loops around it); a stack, not recursion, so a
        # deeply nested template cannot exhaust Python's stack here.
        stack: list[tuple[nodes.Node, int, frozenset[str]]] = [(root, 0, frozenset())]
        while stack:
            node, depth, bound = stack.pop()
            tag = REFUSED_TAGS.get(type(node))
            if tag is not None:
                self.refuse(_("%(tag)s is not allowed in email templates") % {"tag": tag}, node)
            if isinstance(node, nodes.Call):
                self.refuse(
                    _("calling functions or methods is not allowed in email templates"), node
                )
            if isinstance(node, (nodes.Mul, nodes.Add)) and any(
                isinstance(side, (nodes.List, nodes.Tuple))
                or (isinstance(side, nodes.Const) and isinstance(side.value, str))
                for side in (node.left, node.right)
            ):
                # "ab" * 10**9 would fill the memory before the output limit could stop it.
                self.refuse(_("arithmetic works on numbers only; join text with ~"), node)
            if isinstance(node, nodes.Pow):
                self.refuse(_("the ** operator is not allowed in email templates"), node)
            if isinstance(node, (nodes.Slice, nodes.Dict, nodes.NSRef)):
                self.refuse(_("this expression is not allowed in email templates"), node)
            if not isinstance(node, ALLOWED_NODES):
                self.refuse(_("this part of the template is not allowed in email templates"), node)
            if isinstance(node, nodes.For):
                self.check_for(node, depth, bound, stack)
                continue
            if isinstance(node, (nodes.Getattr, nodes.Getitem)):
                self.check_lookup(node, bound, stack, depth)
                continue
            if isinstance(node, nodes.Name):
                self.check_name(node, bound)
            elif isinstance(node, nodes.Filter):
                if node.name not in ALLOWED_FILTERS:
                    self.refuse(
                        _("the filter “%(name)s” is not allowed; use one of: %(allowed)s")
                        % {"name": node.name, "allowed": ", ".join(ALLOWED_FILTERS)},
                        node,
                    )
                if node.dyn_args is not None or node.dyn_kwargs is not None:
                    self.refuse(_("this expression is not allowed in email templates"), node)
            elif isinstance(node, nodes.Test):
                if node.name not in ALLOWED_TESTS:
                    self.refuse(
                        _("the test “%(name)s” is not allowed in email templates")
                        % {"name": node.name},
                        node,
                    )
            elif isinstance(node, (nodes.List, nodes.Tuple)) and len(node.items) > MAX_LIST:
                self.refuse(
                    _("a list in a template has at most %(max)s items") % {"max": MAX_LIST}, node
                )
            for child in node.iter_child_nodes():
                stack.append((child, depth, bound))

    def check_name(self, node: nodes.Name, bound: frozenset[str]) -> None:
        name = node.name
        if name.startswith("_"):
            self.refuse(_("names starting with _ are not allowed"), node)
        if node.ctx != "load":
            self.refuse(_("this expression is not allowed in email templates"), node)
        if name in bound:
            return
        if name == "loop":
            self.refuse(_("“loop” can only be used inside {% for %}"), node)
        if name not in self.names:
            self.refuse(
                _("unknown variable “%(name)s” (the variables are listed beside the editor)")
                % {"name": name},
                node,
            )

    def check_lookup(
        self,
        node: nodes.Node,
        bound: frozenset[str],
        stack: list[tuple[nodes.Node, int, frozenset[str]]],
        depth: int,
    ) -> None:
        root, path = _chain(node)
        for part in path:
            if isinstance(part, str) and part.startswith("_"):
                self.refuse(_("names starting with _ are not allowed"), node)
        # Keys computed in the template (customer.traits[key]) are checked as expressions.
        inner: nodes.Node = node
        while isinstance(inner, (nodes.Getattr, nodes.Getitem)):
            if isinstance(inner, nodes.Getitem):
                arg = inner.arg
                if not isinstance(arg, nodes.Const):
                    stack.append((arg, depth, bound))
                elif not isinstance(arg.value, (str, int)) or isinstance(arg.value, bool):
                    self.refuse(_("this expression is not allowed in email templates"), node)
            inner = inner.node
        if not isinstance(root, nodes.Name):
            self.refuse(_("fields can only be read from variables"), node)
            return
        self.check_name(root, bound | {"loop"} if root.name == "loop" and depth else bound)
        if root.name == "loop":
            if path and path[0] not in LOOP_FIELDS:
                self.refuse(
                    _("“loop” has only these fields: %(fields)s")
                    % {"fields": ", ".join(sorted(LOOP_FIELDS))},
                    node,
                )
            return
        if root.name in bound:
            return
        fields = self.names.get(root.name)
        if isinstance(fields, Mapping) and path and isinstance(path[0], str):
            first = path[0]
            if first not in fields:
                self.refuse(
                    _("“%(name)s” has no field “%(field)s”; it has: %(fields)s")
                    % {"name": root.name, "field": first, "fields": ", ".join(sorted(fields))},
                    node,
                )

    def check_for(
        self,
        node: nodes.For,
        depth: int,
        bound: frozenset[str],
        stack: list[tuple[nodes.Node, int, frozenset[str]]],
    ) -> None:
        if node.recursive:
            self.refuse(_("recursive loops are not allowed in email templates"), node)
        if depth >= MAX_LOOP_DEPTH:
            self.refuse(
                _("loops can be nested at most %(max)s deep in email templates")
                % {"max": MAX_LOOP_DEPTH},
                node,
            )
        target = node.target
        names = [target] if isinstance(target, nodes.Name) else getattr(target, "items", [])
        if not names or not all(isinstance(n, nodes.Name) for n in names):
            self.refuse(_("this expression is not allowed in email templates"), node)
        for name in names:
            if name.name.startswith("_") or name.name == "loop":
                self.refuse(_("names starting with _ are not allowed"), node)
        inside = bound | {n.name for n in names} | {"loop"}
        stack.append((node.iter, depth, bound))
        for child in node.body:
            stack.append((child, depth + 1, inside))
        if node.test is not None:
            stack.append((node.test, depth + 1, inside))
        for child in node.else_:
            stack.append((child, depth, bound))


def _parse(source: str, field: str) -> nodes.Template:
    try:
        return _environment("en").parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(
            _("the template cannot be read: %(problem)s") % {"problem": exc.message or ""},
            line=exc.lineno,
            field=field,
        ) from None
    except RecursionError:
        raise TemplateError(_("the template is nested too deeply"), field=field) from None


def check_text(text: Any, *, field: str, limit: int, names: Mapping[str, Any]) -> nodes.Template:
    """One subject or body checked: plain text, its length, then every node of its tree."""
    if not isinstance(text, str):
        raise TemplateError(_("the text must be a string"), field=field)
    problem = _text_problem(text)
    if problem:
        raise TemplateError(problem, field=field)
    if len(text) > limit:
        raise TemplateError(
            _("the text is longer than %(max)s characters") % {"max": f"{limit:,}"}, field=field
        )
    if field == "subject" and ("\n" in text.strip() or "\r" in text):
        raise TemplateError(_("a subject is one line"), field=field)
    tree = _parse(text, field)
    _Checker(field, names).walk(tree)
    return tree


def known_names(extra_names: Iterable[str] = ()) -> dict[str, Any]:
    """Top-level variable names a template may use: {name: fields or OPEN or None}."""
    names: dict[str, Any] = dict(CATALOG_FIELDS)
    for name in extra_names:
        names.setdefault(name, OPEN)
    return names


def template_check(subject: str, body: str, *, extra_names: Iterable[str] = ()) -> None:
    """Raise TemplateError (with the line and a plain reason, field "subject" or "body") for
    anything the sandbox refuses; return None when both may be saved."""
    names = known_names(extra_names)
    check_text(subject, field="subject", limit=SUBJECT_MAX, names=names)
    check_text(body, field="body", limit=BODY_MAX, names=names)


# --- rendering ------------------------------------------------------------------------------


def render_text(
    source: str,
    variables: Mapping[str, Any],
    *,
    language: str,
    field: str = "body",
    limit: int = BODY_MAX,
) -> str:
    """``source`` checked again and rendered with ``variables`` (plain data); the output is cut
    off with an error past MAX_OUTPUT characters."""
    names = known_names(variables.keys())
    check_text(source, field=field, limit=limit, names=names)
    try:
        template = _compiled(language if language in LANGUAGES else "en", source)
        parts: list[str] = []
        size = 0
        for chunk in template.generate(dict(variables)):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateError(
                    _("the email would be longer than %(max)s characters")
                    % {"max": f"{MAX_OUTPUT:,}"},
                    field=field,
                )
            parts.append(chunk)
    except TemplateError:
        raise
    except SecurityError as exc:
        raise TemplateError(str(exc), field=field) from None
    except (JinjaTemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateError(
            _("the template cannot be rendered: %(problem)s") % {"problem": str(exc)[:200]},
            field=field,
        ) from None
    except RecursionError:
        raise TemplateError(_("the template is nested too deeply"), field=field) from None
    return "".join(parts)


# ``breaks``: a line break in the text is a line break in the email, as founders expect
# (a signature on two lines stays on two lines).
_MARKDOWN = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True}
)
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


def markdown_html(text: str) -> str:
    """Markdown (CommonMark, raw HTML shown as text) as HTML with only harmless tags left and
    links to http, https and mailto only."""
    html = _MARKDOWN.render(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:SUBJECT_MAX]


def template_languages(template: EmailTemplate) -> list[str]:
    """The languages a template has text in (a body, or at least a subject)."""
    found = []
    if template.subject_en.strip() or template.body_en.strip():
        found.append("en")
    if template.subject_zh_hans.strip() or template.body_zh_hans.strip():
        found.append("zh-hans")
    return found


def template_text(template: EmailTemplate, language: str) -> tuple[str, str]:
    if language == "zh-hans":
        return template.subject_zh_hans, template.body_zh_hans
    return template.subject_en, template.body_en


def email_compose(
    *,
    template: EmailTemplate,
    customer: Customer,
    contact: Contact | None = None,
    extra: dict[str, Any] | None = None,
    language: str | None = None,
) -> ComposedEmail:
    """The email ``template`` makes for ``customer`` (and ``contact``): in ``language`` when
    given, else the recipient's, else the other language the template has. Raises
    TemplateError when it cannot render; ``to`` is "" when there is no address."""
    available = template_languages(template)
    if not available:
        raise TemplateError(_("the template has no text in any language"), field="body")
    wanted = language or email_language(customer, contact)
    chosen = wanted if wanted in available else available[0]
    to, person = recipient(customer, contact)
    variables = email_variables(
        customer=customer, contact=person, extra=extra or {}, language=chosen, to=to
    )
    subject_source, body_source = template_text(template, chosen)
    try:
        with translation.override(chosen):
            return _compose(subject_source, body_source, variables, to=to, language=chosen)
    except TemplateError as exc:
        exc.language = chosen
        raise


def _compose(
    subject_source: str, body_source: str, variables: dict[str, Any], *, to: str, language: str
) -> ComposedEmail:
    subject = _one_line(
        render_text(
            subject_source, variables, language=language, field="subject", limit=SUBJECT_MAX
        )
    )
    text = render_text(body_source, variables, language=language, field="body").strip() + "\n"
    html = email_html(text, variables=variables, subject=subject, language=language)
    footer = _footer_text(variables, uses_link="unsubscribe_url" in body_source)
    return ComposedEmail(to=to, language=language, subject=subject, text=text + footer, html=html)


def _footer_text(variables: Mapping[str, Any], *, uses_link: bool) -> str:
    url = variables.get("unsubscribe_url") or ""
    if not url or uses_link:
        return ""
    return "\n--\n" + _("Don’t want these emails? Unsubscribe: %(url)s") % {"url": url} + "\n"


def email_html(text: str, *, variables: Mapping[str, Any], subject: str, language: str) -> str:
    """The rendered Markdown as a whole HTML email: the cleaned body in a simple layout with
    the business's name and, unless the body links to it already, the unsubscribe link."""
    business = variables.get("business") or {}
    url = variables.get("unsubscribe_url") or ""
    with translation.override(language):
        return render_to_string(
            "messaging/emailtemplates/email.html",
            {
                "subject": subject,
                "content": mark_safe(markdown_html(text)),  # cleaned by nh3 just now
                "business_name": business.get("name", ""),
                "unsubscribe_url": url if url and url not in text else "",
                "language": language,
            },
        )


# --- the rest of the contract (tend/messaging/builtins.py, template_actions.py) ------------


def builtin_templates() -> list[dict[str, Any]]:
    """The built-in email texts (key, name, name_zh_hans, description, both languages)."""
    from tend.messaging.builtins import builtin_templates as entries

    return entries()


def email_template_install(*, key: str, by: Any, label: str = "") -> EmailTemplate:
    """The built-in template ``key`` installed as an editable template (idempotent)."""
    from tend.messaging.template_actions import email_template_install as install

    return install(key=key, by=by, label=label)
