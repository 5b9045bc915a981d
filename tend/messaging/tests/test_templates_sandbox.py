"""The template sandbox: no template can read settings, reach Python objects, call methods,
include files, loop forever or write a huge email. Each attempt is refused at save with the
line and a plain reason, and again at compose time."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tend.messaging.templating import (
    MAX_OUTPUT,
    TemplateError,
    markdown_html,
    render_text,
    template_check,
)

CONTEXT = {
    "customer": {"name": "Acme", "traits": {"tags": list(range(100)), "note": "x" * 1000}},
    "contact": {"first_name": "Pat"},
    "business": {"name": "Tend"},
    "days_left": 7,
}

READ_SETTINGS = [
    "{{ settings.SECRET_KEY }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ customer.__class__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ self }}",
    "{{ lipsum }}",
    "{{ namespace }}",
    "{{ joiner }}",
    "{{ range }}",
    "{{ config }}",
    "{{ request }}",
    "{{ customer._meta }}",
    "{{ customer['__class__'] }}",
    "{{ customer.traits|attr('__class__') }}",
    "{{ (customer.name|upper).__class__ }}",
]
CALL_METHODS = [
    "{{ customer.name.upper() }}",
    "{{ 'a'.format }}",
    "{{ 'a'.format(customer) }}",
    "{{ customer.traits.items() }}",
    "{{ customer.name|map('upper') }}",
    "{{ customer.name|format('x') }}",
]
INCLUDE_FILES = [
    "{% include 'web/base.html' %}",
    "{% import 'web/base.html' as b %}",
    "{% from 'web/base.html' import x %}",
    "{% extends 'web/base.html' %}",
    "{% block content %}x{% endblock %}",
]
LOOP_FOREVER = [
    "{% for a in range(1000000000) %}x{% endfor %}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{% for x in customer.traits.tags recursive %}{{ loop(customer.traits.tags) }}{% endfor %}",
    "{% for a in customer.traits.tags %}{% for b in customer.traits.tags %}"
    "{% for c in customer.traits.tags %}x{% endfor %}{% endfor %}{% endfor %}",
    "{{ 9 ** 9 ** 9 ** 9 }}",
    "{{ 'x' * 1000000000 }}",
    "{% set a = 'x' %}{% set a = a ~ a %}",
    "{% call foo() %}{% endcall %}",
    "{% filter upper %}x{% endfilter %}",
    "{% with a = 1 %}{% endwith %}",
]


@pytest.mark.parametrize("source", READ_SETTINGS + CALL_METHODS + INCLUDE_FILES + LOOP_FOREVER)
def test_a_dangerous_template_is_refused_at_save_with_the_line_and_a_reason(source):
    with pytest.raises(TemplateError) as exc:
        template_check("Hello", "Hello,\n\n" + source)
    assert exc.value.line == 3, str(exc.value)
    assert exc.value.field == "body"
    assert str(exc.value).startswith("line 3: ")
    assert len(exc.value.reason) > 10


@pytest.mark.parametrize("source", READ_SETTINGS + CALL_METHODS + INCLUDE_FILES + LOOP_FOREVER)
def test_a_dangerous_template_is_refused_at_render_time_too(source):
    # A template stored before the rules (or written straight into the database) is
    # checked again when an email is composed from it.
    with pytest.raises(TemplateError):
        render_text(source, CONTEXT, language="en")


def test_the_include_reason_names_the_tag_in_the_readers_language():
    from django.utils import translation

    with pytest.raises(TemplateError) as exc:
        template_check("Hi", "one\ntwo\n{% include 'x' %}")
    assert str(exc.value) == "line 3: {% include %} is not allowed in email templates"
    with translation.override("zh-hans"), pytest.raises(TemplateError) as exc:
        template_check("Hi", "{% include 'x' %}")
    assert exc.value.line == 1


def test_a_subject_error_names_the_subject():
    with pytest.raises(TemplateError) as exc:
        template_check("Hi {{ customer.name.upper() }}", "Body")
    assert exc.value.field == "subject" and exc.value.line == 1


def test_a_typo_in_a_variable_is_refused_with_its_name_and_line():
    with pytest.raises(TemplateError) as exc:
        template_check("Hi", "Hi {{ contact.first_name }}\n\n{{ custmer.name }}")
    assert exc.value.line == 3 and "custmer" in str(exc.value)
    with pytest.raises(TemplateError) as exc:
        template_check("Hi", "{{ customer.nmae }}")
    assert "nmae" in str(exc.value) and "name" in str(exc.value)


def test_the_secret_key_never_appears_in_any_output():
    # Even if a refused template slipped past the check, lookups only reach our dicts.
    from tend.messaging.templating import _environment

    env = _environment("en")
    for source in ["{{ customer.__class__ }}", "{{ customer.name.__class__.__mro__ }}"]:
        out = env.from_string(source).render(CONTEXT)
        assert settings.SECRET_KEY not in out and "class" not in out


def test_plain_data_lookups_never_reach_methods():
    out = render_text(
        "{{ customer.traits.items }}|{{ customer.name.upper }}|{{ customer.traits.keys }}",
        CONTEXT,
        language="en",
    )
    assert out == "||"


def test_allowed_constructs_render():
    source = (
        "{% if days_left < 10 %}soon{% elif days_left < 30 %}later{% else %}far{% endif %} "
        "{{ customer.name | upper }} {{ contact.title | default('there') }} "
        "{% for t in customer.traits.tags %}{% if loop.index <= 3 %}{{ t }}{% if not loop.last %},"
        "{% endif %}{% endif %}{% endfor %} {{ days_left + 1 }} {{ '2026-12-06' | date }}"
        " {{ 1234.5 | money }}"
    )
    template_check("S", source)
    out = render_text(source, CONTEXT, language="en")
    assert out.startswith("soon ACME there 0,1,2,")
    assert "8 December 6, 2026 $1,234.50" in out


def test_huge_output_is_stopped_at_the_limit():
    source = (
        "{% for a in customer.traits.tags %}{% for b in customer.traits.tags %}"
        "{{ customer.traits.note }}{% endfor %}{% endfor %}"
    )
    template_check("S", source)
    started = time.monotonic()
    with pytest.raises(TemplateError) as exc:
        render_text(source, CONTEXT, language="en")
    assert "100,000" in str(exc.value)
    assert time.monotonic() - started < 5
    assert MAX_OUTPUT == 100_000


def test_the_biggest_loops_allowed_finish_quickly():
    items = "[" + ",".join(["1"] * 100) + "]"
    source = (
        f"{{% for a in {items} %}}{{% for b in customer.traits.tags %}}{{% endfor %}}{{% endfor %}}"
    )
    started = time.monotonic()
    assert render_text(source, CONTEXT, language="en") == ""
    assert time.monotonic() - started < 5
    with pytest.raises(TemplateError):
        template_check("S", "{% for a in [" + ",".join(["1"] * 101) + "] %}{% endfor %}")


def test_deep_nesting_is_refused_not_a_crash():
    with pytest.raises(TemplateError):
        template_check("S", "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}")
    with pytest.raises(TemplateError):
        template_check("S", "{% if 1 %}" * 500 + "{% endif %}" * 500)


def test_hostile_text_is_refused_with_a_reason():
    for text in ["a\x00b", "\ud800", "x" * 20_001]:
        with pytest.raises(TemplateError) as exc:
            template_check("S", text)
        assert exc.value.field == "body" and exc.value.reason
    with pytest.raises(TemplateError) as exc:
        template_check("line one\nline two", "B")
    assert exc.value.field == "subject"


def test_markdown_is_cleaned_of_scripts_and_javascript_links():
    html = markdown_html(
        "<script>alert(1)</script>\n\n[click](javascript:alert(1)) "
        "[ok](https://example.com) [mail](mailto:a@example.com) [data](data:text/html,x)\n\n"
        '<img src=x onerror="alert(1)">\n\n![pic](javascript:alert(1))'
    )
    assert "<script" not in html and "<img" not in html  # raw HTML is shown as text
    assert 'href="javascript' not in html and 'href="data' not in html
    assert 'src="javascript' not in html
    assert '<a href="https://example.com" rel="noopener noreferrer">ok</a>' in html
    assert 'href="mailto:a@example.com"' in html
    assert "&lt;script&gt;" in html  # shown as text, not run


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_is_either_accepted_or_refused_with_a_reason(text):
    try:
        template_check("Subject", text)
    except TemplateError as exc:
        assert exc.reason and exc.field == "body"
        return
    render_text(text, CONTEXT, language="en")


TOKENS = st.sampled_from(
    [
        "{{", "}}", "{%", "%}", "{#", "#}", " if ", " for ", " in ", " endfor ", " endif ",
        "customer", ".name", ".traits", ".tags", "loop", ".index", "|", "upper", "default",
        "(", ")", "'x'", "1", "~", "*", "+", "[", "]", "contact", "else", " ", "\n", "__class__",
        "include", "set", "=", "days_left", "date", "money", "-",
    ]
)  # fmt: skip


@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TOKENS, max_size=40).map("".join))
def test_any_template_like_text_is_either_rendered_or_refused_with_a_reason(text):
    try:
        template_check("Subject", text)
    except TemplateError as exc:
        assert exc.reason
        return
    try:
        render_text(text, CONTEXT, language="en")
    except TemplateError as exc:
        assert exc.reason
