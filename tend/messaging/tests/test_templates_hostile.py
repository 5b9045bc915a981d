"""Hostile input on every template surface: arbitrary text, NUL bytes, lone surrogates,
over-long values, wrong types. Never a 5xx: either saved, or refused with a reason naming the
field, and nothing half-saved."""

from __future__ import annotations

import itertools
import json
from urllib.parse import urlencode

import pytest
from django.urls import NoReverseMatch, reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tend.accounts.actions import apikey_create
from tend.factories import make_customer
from tend.messaging.models import EmailTemplate
from tend.messaging.templating import email_compose

pytestmark = pytest.mark.django_db
_n = itertools.count()

TEMPLATEISH = st.lists(
    st.sampled_from(
        [
            "{{", "}}", "{%", "%}", " if ", " for x in ", " endfor ", " endif ", "customer",
            ".name", ".traits", "|", "upper", "(", ")", "'", "\n", "__class__", "include",
            "settings", "\x00", "\ud800", "你好", "**", "[a](javascript:x)", "<script>", " ",
        ]
    ),
    max_size=30,
).map("".join)  # fmt: skip
ANY_TEXT = st.one_of(TEMPLATEISH, st.text(max_size=200))
SLOW = hsettings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SLOW
@given(subject=ANY_TEXT, body=ANY_TEXT)
def test_the_web_form_saves_or_refuses_any_text_with_a_reason(member_client, subject, body):
    name = f"T{next(_n)}"
    before = EmailTemplate.objects.count()
    # Form-encoded as a browser would, lone surrogates as the bytes they would become.
    data = urlencode(
        {"name": name, "subject_en": subject, "body_en": body},
        encoding="utf-8",
        errors="surrogatepass",
    )
    response = member_client.post(
        "/emails/templates/new/", data, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in {302, 422}
    if response.status_code == 422:
        assert EmailTemplate.objects.count() == before
        assert "invalid-feedback" in response.content.decode()


@SLOW
@given(subject=ANY_TEXT, body=ANY_TEXT)
def test_the_api_saves_or_refuses_any_text_naming_the_field(member, subject, body):
    _key, raw = apikey_create(name=f"k{next(_n)}", kind="read_write", by=member)
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    payload = json.dumps(
        {"name": f"T{next(_n)}", "subject_en": subject, "body_en": body}, ensure_ascii=True
    )
    response = client.post("/api/v1/email-templates", payload, content_type="application/json")
    assert response.status_code in {201, 422}, response.content
    if response.status_code == 422:
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields & {"subject_en", "body_en"}, response.json()
    else:
        customer = make_customer(name=f"C{next(_n)}", email="c@example.com")
        template = EmailTemplate.objects.get(pk=response.json()["id"])
        try:
            email_compose(template=template, customer=customer)
        except Exception as exc:  # only TemplateError may escape
            from tend.messaging.templating import TemplateError

            assert isinstance(exc, TemplateError), repr(exc)


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "a\x00b"),
        ("body_en", "a\x00b"),
        ("name", "x" * 121),
        ("subject_en", "x" * 301),
        ("body_en", "x" * 20_001),
        ("description", "x" * 301),
    ],
)
def test_the_web_form_refuses_hostile_values_naming_the_field(member_client, field, value):
    data = {"name": "T", "subject_en": "S", "body_en": "B"} | {field: value}
    response = member_client.post("/emails/templates/new/", data)
    assert response.status_code == 422
    assert not EmailTemplate.objects.exists()


def test_the_preview_and_frame_ignore_hostile_query_values(viewer_client):
    template = EmailTemplate.objects.create(name="T", subject_en="S", body_en="B")
    for query in [
        "customer=%00",
        "customer=99999999999999999999999",
        "language=%ED%A0%80",
        "customer=-1",
    ]:
        for url in (
            f"/emails/templates/{template.pk}/?{query}",
            f"/emails/templates/{template.pk}/frame/?{query}",
        ):
            # 400: the project refuses a NUL in any query string before a view runs.
            assert viewer_client.get(url).status_code in {200, 400}, url
    search = "/emails/templates/customers/?q="
    assert viewer_client.get(search + "%00").status_code == 400
    assert viewer_client.get(search + "%ED%A0%80" + "x" * 5000).status_code == 200


def test_the_unsubscribe_link_is_added_when_the_unsubscribe_page_exists():
    try:
        reverse("messaging:unsubscribe", args=["x"])
    except NoReverseMatch:
        pytest.skip("the unsubscribe page (the outbox's) is not in this build")
    customer = make_customer(name="Acme", email="a@acme.example")
    template = EmailTemplate.objects.create(name="T", subject_en="S", body_en="Hello")
    email = email_compose(template=template, customer=customer)
    assert "/u/" in email.text or "unsubscribe" in email.text.lower()
    assert "Unsubscribe" in email.html
