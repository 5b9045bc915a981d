"""Composing an email from a template for a real customer: variables, language, Markdown,
the text and HTML parts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tend.factories import make_contact, make_customer, make_plan, make_subscription
from tend.messaging.models import EmailTemplate
from tend.messaging.templating import (
    TemplateError,
    builtin_templates,
    email_compose,
    email_template_install,
)

pytestmark = pytest.mark.django_db


def _template(**fields):
    values = {"name": "T", "subject_en": "Hi {{ customer.name }}", "body_en": "Hello"}
    return EmailTemplate.objects.create(**(values | fields))


def test_an_email_uses_the_customer_contact_plan_and_renewal_date(owner):
    owner.first_name, owner.last_name = "Olivia", "Chen"
    owner.save()
    plan = make_plan("pro", price="49")
    customer = make_customer(name="Acme", email="billing@acme.example", plan=plan, owner=owner)
    make_contact(customer, name="Pat Lee", email="pat@acme.example", is_primary=True)
    make_subscription(customer, plan=plan, current_period_end=timezone.now() + timedelta(days=30))
    template = _template(
        subject_en="Renewal for {{ customer.name }} in {{ days_left }} days",
        body_en="Hi {{ contact.first_name }},\n\nYour **{{ customer.plan }}** plan renews on "
        "{{ customer.renewal_date }}.\n\n{{ sender }}",
    )
    email = email_compose(template=template, customer=customer)
    assert email.to == "billing@acme.example"
    assert email.language == "en"
    assert email.subject in {"Renewal for Acme in 29 days", "Renewal for Acme in 30 days"}
    assert email.text.startswith("Hi Pat,\n\nYour **Pro** plan renews on ")
    assert "Olivia Chen" in email.text
    assert "<strong>Pro</strong>" in email.html
    assert "<p>Hi Pat,</p>" in email.html


def test_every_builtin_template_composes_in_both_languages(owner):
    customer = make_customer(name="Acme", email="a@acme.example")
    for entry in builtin_templates():
        template = email_template_install(key=entry["key"], by=owner)
        for language in ("en", "zh-hans"):
            email = email_compose(
                template=template,
                customer=customer,
                extra={"coupon": "WINBACK20", "holiday": "Spring Festival"},
                language=language,
            )
            assert email.subject and email.text.strip() and "<p>" in email.html
            assert email.language == language
            assert "{{" not in email.text and "{%" not in email.text


def test_installing_a_builtin_twice_gives_the_same_template(owner):
    first = email_template_install(key="welcome", by=owner)
    again = email_template_install(key="welcome", by=owner)
    assert first.pk == again.pk
    assert EmailTemplate.objects.filter(key="welcome").count() == 1


def test_a_missing_optional_value_renders_as_nothing():
    customer = make_customer(name="Acme", email="")
    template = _template(
        body_en="Hi {{ contact.first_name }}!{{ coupon }}|{{ customer.traits.x }}|"
    )
    email = email_compose(template=template, customer=customer)
    assert email.to == ""
    assert email.text.startswith("Hi !||")


def test_a_template_saved_before_a_variable_left_the_catalog_is_refused_at_compose():
    customer = make_customer(name="Acme")
    template = _template(body_en="{{ gone }}")
    with pytest.raises(TemplateError) as exc:
        email_compose(template=template, customer=customer)
    assert "gone" in str(exc.value) and exc.value.line == 1


# --- per-recipient language -----------------------------------------------------------------

BOTH = {
    "subject_en": "Hello",
    "body_en": "Hello",
    "subject_zh_hans": "你好",
    "body_zh_hans": "你好",
}


@pytest.mark.parametrize(
    "customer_fields, contact_traits, expected",
    [
        ({}, None, "en"),
        ({"country": "CN"}, None, "zh-hans"),
        ({"country": "tw"}, None, "zh-hans"),
        ({"country": "HK"}, None, "zh-hans"),
        ({"country": "SG"}, None, "zh-hans"),
        ({"country": "US"}, None, "en"),
        ({"country": "CN", "traits": {"language": "en-US"}}, None, "en"),
        ({"traits": {"language": "zh_CN"}}, None, "zh-hans"),
        ({"traits": {"language": "klingon"}}, None, "en"),
        ({"country": "US"}, {"language": "zh-Hans"}, "zh-hans"),
        ({"country": "CN"}, {"language": "en"}, "en"),
    ],
)
def test_each_recipient_gets_their_own_language(customer_fields, contact_traits, expected):
    customer = make_customer(name="Acme", email="a@acme.example", **customer_fields)
    contact = None
    if contact_traits is not None:
        contact = make_contact(customer, name="Pat", email="p@acme.example", traits=contact_traits)
    template = _template(name="Both", **BOTH)
    email = email_compose(template=template, customer=customer, contact=contact)
    assert email.language == expected
    assert email.subject == ("你好" if expected == "zh-hans" else "Hello")
    if contact is not None:
        assert email.to == "p@acme.example"


def test_without_a_hint_the_business_language_is_used(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    customer = make_customer(name="Acme", email="a@acme.example")
    email = email_compose(template=_template(name="Both", **BOTH), customer=customer)
    assert email.language == "zh-hans"


def test_a_template_in_one_language_is_sent_in_it_to_everyone():
    customer = make_customer(name="Acme", email="a@acme.example", country="CN")
    template = _template(name="EN", subject_en="Hello", body_en="Hi")
    assert email_compose(template=template, customer=customer).language == "en"
    only_zh = _template(
        name="ZH", subject_en="", body_en="", subject_zh_hans="你好", body_zh_hans="嗨"
    )
    us = make_customer(name="Bob", email="b@example.com", country="US")
    assert email_compose(template=only_zh, customer=us).language == "zh-hans"


def test_dates_and_money_are_written_in_the_emails_language():
    plan = make_plan("team", price="1234.5")
    customer = make_customer(name="Acme", email="a@acme.example", plan=plan)
    make_subscription(customer, plan=plan, current_period_end=timezone.now() + timedelta(days=40))
    template = _template(
        name="Dates",
        body_en="{{ customer.renewal_date }}|{{ customer.signed_up | date('iso') }}|"
        "{{ 5 | money }}",
        subject_zh_hans="x",
        body_zh_hans="{{ customer.renewal_date }}|{{ customer.mrr }}",
    )
    en = email_compose(template=template, customer=customer, language="en").text
    zh = email_compose(template=template, customer=customer, language="zh-hans").text
    renews = timezone.localdate() + timedelta(days=40)
    assert en.startswith(f"{renews:%B} {renews.day}, {renews.year}|")
    assert "|$5.00" in en
    assert zh.startswith(f"{renews.year}年{renews.month}月{renews.day}日|")
    assert "US$" in zh


def test_a_customer_name_with_html_is_text_in_the_html_part():
    customer = make_customer(name='<img src=x onerror="alert(1)">', email="a@acme.example")
    template = _template(body_en="Hi {{ customer.name }}\n\n[x](javascript:alert(1))")
    email = email_compose(template=template, customer=customer)
    assert "<img" not in email.html and "&lt;img" in email.html
    assert 'href="javascript' not in email.html


def test_the_subject_is_one_line_even_when_a_value_has_newlines():
    customer = make_customer(
        name="Acme", email="a@acme.example", traits={"x": "a\r\nBcc: evil@example.com"}
    )
    template = _template(subject_en="Hi {{ customer.traits.x }}")
    email = email_compose(template=template, customer=customer)
    assert "\n" not in email.subject and "\r" not in email.subject


def test_default_stands_in_for_an_empty_value_too():
    customer = make_customer(name="Acme", email="a@acme.example", traits={"nick": ""})
    template = _template(body_en="Hi {{ customer.traits.nick | default(customer.name) }}!")
    assert email_compose(template=template, customer=customer).text.startswith("Hi Acme!")
