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
