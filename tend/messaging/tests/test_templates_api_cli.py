"""The email templates REST API with real keys, and ``tend templates``."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tend.accounts.actions import apikey_create
from tend.factories import make_customer
from tend.messaging.models import EmailTemplate

pytestmark = pytest.mark.django_db

BODY = {
    "name": "Check-in",
    "subject_en": "How is it going, {{ customer.name }}?",
    "body_en": "Hi {{ contact.first_name | default('there') }},\n\n**All well?**",
    "subject_zh_hans": "最近怎么样？",
    "body_zh_hans": "你好！",
}


def client_with(key: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def member_rw(member: Any) -> Client:
    return client_with(apikey_create(name="member", kind="read_write", by=member)[1])


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(f"/api/v1{path}", body, content_type="application/json")


def test_a_key_creates_reads_changes_previews_and_archives_a_template(member_rw):
    created = post(member_rw, "/email-templates", BODY)
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["languages"] == ["en", "zh-hans"] and data["archived"] is False
    pk = data["id"]
    assert member_rw.get(f"/api/v1/email-templates/{pk}").json()["name"] == "Check-in"
    patched = member_rw.patch(
        f"/api/v1/email-templates/{pk}", {"description": "Monthly"}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["description"] == "Monthly"
    customer = make_customer(name="Acme", email="a@acme.example")
    preview = post(member_rw, f"/email-templates/{pk}/preview", {"customer_id": customer.pk})
    assert preview.status_code == 200, preview.json()
    assert preview.json()["subject"] == "How is it going, Acme?"
    assert preview.json()["to"] == "a@acme.example"
    assert "<strong>All well?</strong>" in preview.json()["html"]
    zh = post(
        member_rw,
        f"/email-templates/{pk}/preview",
        {"customer_id": customer.pk, "language": "zh-hans"},
    )
    assert zh.json()["subject"] == "最近怎么样？" and zh.json()["language"] == "zh-hans"
    archived = post(member_rw, f"/email-templates/{pk}/archive", {})
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert member_rw.get("/api/v1/email-templates").json()["count"] == 0
    assert member_rw.get("/api/v1/email-templates?archived=true").json()["count"] == 1


def test_a_broken_template_is_a_422_naming_the_field_with_the_line(member_rw):
    body = BODY | {"body_zh_hans": "你好\n{{ customer.name.upper() }}"}
    response = post(member_rw, "/email-templates", body)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "body_zh_hans" and error["code"] == "template"
    assert error["message"].startswith("line 2: calling functions or methods")
    assert not EmailTemplate.objects.exists()
    good = post(member_rw, "/email-templates", BODY).json()
    patch = member_rw.patch(
        f"/api/v1/email-templates/{good['id']}",
        {"subject_en": "{% include 'x' %}"},
        content_type="application/json",
    )
    assert patch.status_code == 422
    assert patch.json()["errors"][0]["field"] == "subject_en"
    assert EmailTemplate.objects.get().subject_en == BODY["subject_en"]


def test_a_taken_name_is_a_409(member_rw):
    post(member_rw, "/email-templates", BODY)
    response = post(member_rw, "/email-templates", BODY | {"name": "CHECK-IN"})
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "name"


def test_preview_of_an_unknown_customer_is_a_422(member_rw):
    pk = post(member_rw, "/email-templates", BODY).json()["id"]
    response = post(member_rw, f"/email-templates/{pk}/preview", {"customer_id": 999999})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "customer_id"


def test_the_catalog_and_builtins_are_listed_and_install_is_idempotent(member_rw):
    names = {v["name"] for v in member_rw.get("/api/v1/email-templates/variables").json()}
    assert {"customer.name", "customer.renewal_date", "coupon", "unsubscribe_url"} <= names
    builtins = member_rw.get("/api/v1/email-templates/builtins").json()
    assert len(builtins) >= 10 and all(b["installed_id"] is None for b in builtins)
    first = post(member_rw, "/email-templates/install", {"key": "win-back"})
    again = post(member_rw, "/email-templates/install", {"key": "win-back"})
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    unknown = post(member_rw, "/email-templates/install", {"key": "nope"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == "unknown"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "a\x00b"}, "name"),
        ({"body_en": "\ud800"}, "body_en"),
        ({"body_en": "x" * 20_001}, "body_en"),
        ({"subject_en": 5}, "subject_en"),
        ({"name": ""}, "name"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_hostile_values_are_422_naming_the_field(member_rw, body, field):
    response = post(member_rw, "/email-templates", BODY | body)
    assert response.status_code == 422, response.content
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not EmailTemplate.objects.exists()


# --- the CLI -------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("templates", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_install_builtins_list_show_and_preview_from_the_command_line():
    first = run("install-builtins")
    assert "welcome: Welcome" in first
    assert run("install-builtins").count("(id") == first.count("(id")
    assert EmailTemplate.objects.count() == first.count("(id")
    assert "Renewal reminder" in run("list")
    assert "续费" in run("show", "Renewal reminder")
    customer = make_customer(name="Acme", email="a@acme.example", country="CN")
    out = run("preview", "Welcome", "--customer", str(customer.pk))
    assert "Language: zh-hans" in out and "To: a@acme.example" in out
    out = run("preview", "Welcome", "--customer", str(customer.pk), "--language", "en", "--html")
    assert "Subject: Welcome to" in out and "<html" in out
    with pytest.raises(CommandError, match="--customer"):
        run("preview", "Welcome", "--customer", "999999")
    with pytest.raises(CommandError, match="no email template"):
        run("show", "nothing")


def test_check_refuses_a_broken_file_with_its_line_and_accepts_a_good_one(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("Subject: Hi\n\nHello\n{% import 'x' as y %}\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was saved"):
        call_command("templates", "check", str(bad), stdout=io.StringIO(), stderr=err)
    assert "body_en line 4: {% import %} is not allowed" in err.getvalue()
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"subject_zh_hans": "你好", "body_zh_hans": "{{ customer.name }}"}))
    assert "OK" in run("check", str(good))
    binary = tmp_path / "x.md"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CommandError, match="not UTF-8"):
        run("check", str(binary))
    assert not EmailTemplate.objects.exists()
