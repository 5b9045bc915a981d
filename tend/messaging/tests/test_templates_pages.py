"""Email template pages: list, editor (errors with line and reason, nothing saved), preview
with a real customer in each language, the sandboxed frame, archive and install."""

from __future__ import annotations

import pytest

from tend.factories import make_contact, make_customer
from tend.messaging.models import EmailTemplate
from tend.messaging.templating import email_template_install

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "Check-in",
    "description": "Monthly",
    "subject_en": "How is it going, {{ customer.name }}?",
    "body_en": "Hi {{ contact.first_name | default('there') }},\n\nAll well?",
    "subject_zh_hans": "最近怎么样，{{ customer.name }}？",
    "body_zh_hans": "{{ contact.first_name }}，你好！\n\n一切都好吗？",
}


def test_a_member_writes_a_template_and_sees_it_previewed(member_client):
    customer = make_customer(name="Acme", email="a@acme.example")
    make_contact(customer, name="Pat Lee", is_primary=True)
    response = member_client.post("/emails/templates/new/", GOOD)
    assert response.status_code == 302
    template = EmailTemplate.objects.get(name="Check-in")
    page = member_client.get(response["Location"] + f"?customer={customer.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert "How is it going, Acme?" in html and "最近怎么样，Acme？" in html
    assert "Hi Pat,\n\nAll well?" in html
    frame = f"/emails/templates/{template.pk}/frame/?customer={customer.pk}"
    assert f"{frame}&amp;language=zh-hans" in html
    assert 'sandbox src="' in html


def test_a_broken_template_is_refused_on_save_with_the_line_and_reason(member_client):
    data = GOOD | {"body_zh_hans": "你好\n\n{% include 'web/base.html' %}"}
    response = member_client.post("/emails/templates/new/", data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was saved." in html
    assert "line 3: {% include %} is not allowed in email templates" in html
    assert not EmailTemplate.objects.exists()


def test_a_refused_edit_keeps_the_saved_text(member_client):
    template = EmailTemplate.objects.create(**GOOD)
    data = GOOD | {"subject_en": "{{ settings.SECRET_KEY }}"}
    response = member_client.post(f"/emails/templates/{template.pk}/edit/", data)
    assert response.status_code == 422
    assert "unknown variable “settings”" in response.content.decode()
    template.refresh_from_db()
    assert template.subject_en == GOOD["subject_en"]


def test_the_editor_shows_the_variable_catalog(member_client):
    html = member_client.get("/emails/templates/new/").content.decode()
    for name in ("customer.renewal_date", "contact.first_name", "unsubscribe_url", "coupon"):
        assert name in html


def test_the_frame_serves_the_html_under_a_policy_that_runs_nothing(viewer_client):
    customer = make_customer(name="<script>alert(1)</script>", email="x@example.com")
    template = EmailTemplate.objects.create(
        **GOOD | {"body_en": "Hi {{ customer.name }} [x](javascript:alert(1))"}
    )
    response = viewer_client.get(
        f"/emails/templates/{template.pk}/frame/?customer={customer.pk}&language=en"
    )
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "frame-ancestors 'self'" in csp
    assert "script-src" not in csp
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    body = response.content.decode()
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert 'href="javascript' not in body


def test_the_preview_uses_the_chosen_language_and_falls_back_to_the_other(viewer_client):
    customer = make_customer(name="Acme", email="a@acme.example", country="CN")
    only_en = EmailTemplate.objects.create(
        name="EN only", subject_en="Hello {{ customer.name }}", body_en="Body"
    )
    response = viewer_client.get(
        f"/emails/templates/{only_en.pk}/frame/?customer={customer.pk}&language=zh-hans"
    )
    assert 'lang="en"' in response.content.decode()


def test_a_customer_search_finds_customers_for_the_preview(viewer_client):
    make_customer(name="Acme Widgets", email="a@acme.example")
    html = viewer_client.get("/emails/templates/customers/?q=acme").content.decode()
    assert "Acme Widgets" in html and "?customer=" in html


def test_the_list_offers_the_builtins_and_installing_one_opens_it(member_client):
    html = member_client.get("/emails/templates/").content.decode()
    assert "Renewal reminder" in html and "Add this template" in html
    response = member_client.post("/emails/templates/install/", {"key": "renewal-reminder"})
    template = EmailTemplate.objects.get(key="renewal-reminder")
    assert response["Location"] == f"/emails/templates/{template.pk}/"
    member_client.post("/emails/templates/install/", {"key": "renewal-reminder"})
    assert EmailTemplate.objects.filter(key="renewal-reminder").count() == 1


def test_archiving_takes_a_template_off_the_list(member_client, owner):
    template = email_template_install(key="birthday", by=owner)
    member_client.post(f"/emails/templates/{template.pk}/archive/", follow=True)
    template.refresh_from_db()
    assert template.archived_at is not None
    assert template.name not in member_client.get("/emails/templates/").content.decode()
    assert template.name in member_client.get("/emails/templates/?archived=1").content.decode()
    member_client.post(f"/emails/templates/{template.pk}/restore/")
    template.refresh_from_db()
    assert template.archived_at is None


def test_a_viewer_reads_but_sees_no_write_buttons(viewer_client, owner):
    template = email_template_install(key="welcome", by=owner)
    make_customer(name="Acme", email="a@acme.example")
    html = viewer_client.get(f"/emails/templates/{template.pk}/").content.decode()
    assert "Send a test to me" not in html and "Archive" not in html
    assert "Welcome to" in html


def test_the_preview_marks_the_language_the_customer_gets(viewer_client):
    customer = make_customer(name="Tea House", email="t@tea.example", country="CN")
    template = EmailTemplate.objects.create(**GOOD)
    html = viewer_client.get(f"/emails/templates/{template.pk}/?customer={customer.pk}").content
    text = html.decode()
    zh_card = text.index('id="preview-zh-hans"')
    assert text.index("what this customer gets") > zh_card


def test_the_live_check_names_the_part_the_line_and_the_reason_and_saves_nothing(member_client):
    response = member_client.post(
        "/emails/templates/check/",
        {"subject_en": "Hi", "body_zh_hans": "你好\n{{ customer.name.upper() }}"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Chinese body" in html and "line 2: calling functions or methods" in html
    ok = member_client.post("/emails/templates/check/", {"body_en": "{{ customer.name }}"})
    assert 'id="check-ok"' in ok.content.decode()
    assert not EmailTemplate.objects.exists()


def test_a_viewer_cannot_use_the_live_check(viewer_client):
    assert viewer_client.post("/emails/templates/check/", {"body_en": "x"}).status_code == 403
