"""Security headers and private files: a Content-Security-Policy on every response that
allows only Tend's own files and no inline script; HSTS with TEND_SECURE_COOKIES=1 so that
`tend check --deploy` is clean with the documented production settings; the data folder,
SQLite database, secret key, uploads and rejected-row files readable by Tend's user only;
the API docs page served from Tend's own static files."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from tend.ingest.imports.models import Import

TEND = Path(__file__).resolve().parents[2]
PRODUCTION = {  # README, "Running it for real"
    "TEND_ALLOWED_HOSTS": "tend.example.com",
    "TEND_SECURE_COOKIES": "1",
    "TEND_SSL_REDIRECT": "1",
    "TEND_PROXY_COUNT": "1",
    "TEND_SECRET_KEY": secrets.token_urlsafe(50),
    "TEND_EMAIL_URL": "smtp+tls://tend:secret@smtp.example.com:587",
    "TEND_STRIPE_WEBHOOK_SECRET": "whsec_0123456789abcdef",
}


def tend(args: list[str], env: dict[str, str], data: Path) -> subprocess.CompletedProcess[str]:
    """Run the tend CLI in a fresh process with only these TEND_* variables, umask 022."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("TEND_")}
    full.update({"TEND_DATA_DIR": str(data), **env})
    full.pop("PYTEST_CURRENT_TEST", None)
    return subprocess.run(
        [sys.executable, "-m", "tend.cli", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0o022),
    )


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def directives(response: Any) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parts = [p.split() for p in policy.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


# --- Content-Security-Policy ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/login/", "/customers/", "/metrics/", "/imports/", "/goals/", "/api/v1/docs", "/no/"]
)
def test_every_page_carries_a_policy_that_allows_only_tends_own_files(
    member_client: Client, path: str
) -> None:
    response = member_client.get(path)
    assert response.status_code in (200, 302, 404)
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    every_source = {s for sources in policy.values() for s in sources}
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} & every_source


@pytest.mark.django_db
def test_api_and_tracking_answers_carry_the_policy_too(client: Client) -> None:
    assert "frame-ancestors 'none'" in client.get("/api/v1/customers")["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in client.post("/v1/batch")["Content-Security-Policy"]


@pytest.mark.django_db
def test_djangos_debug_pages_keep_working_with_debug_on(
    member_client: Client, settings: Any
) -> None:
    settings.DEBUG = True
    assert "Content-Security-Policy" not in member_client.get("/no-such-page/")
    assert "Content-Security-Policy" in member_client.get("/customers/")


TEMPLATE_PROBLEMS = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),
    "event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "inline style element": re.compile(r"<style[\s>]", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "hx-on": re.compile(r"\shx-on", re.I),
}


# Email bodies: mail clients ignore style sheets, so these carry inline styles. They never
# reach a browser under the site's policy: Tend shows them only inside a sandboxed frame
# served with its own policy (tend/messaging/views.py, tend/digest/views.py), tested there.
EMAIL_BODIES = {
    "digest/templates/digest/email.html",
    "messaging/templates/messaging/emailtemplates/email.html",
}


def test_no_template_has_inline_script_handlers_or_styles():
    found = []
    for template in TEND.rglob("templates/**/*.html"):
        if template.relative_to(TEND).as_posix() in EMAIL_BODIES:
            text = template.read_text(encoding="utf-8")
            assert not TEMPLATE_PROBLEMS["inline script"].search(text), template
            assert not TEMPLATE_PROBLEMS["javascript: URL"].search(text), template
            continue
        text = template.read_text(encoding="utf-8")
        for what, pattern in TEMPLATE_PROBLEMS.items():
            if pattern.search(text):
                found.append(f"{template.relative_to(TEND)}: {what}")
    assert found == []


def test_the_policy_allows_exactly_the_style_blocks_plotly_js_adds():
    """plotly.js adds an empty <style> (filled through the CSSOM) and MapLibre's rules; a new
    plotly.js changes the second, and this test names the hash to put in settings."""
    import plotly

    bundle = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    texts = re.findall(r"\.textContent='((?:[^'\\]|\\.)*)'", bundle.read_text(encoding="utf-8"))
    expected = {""} | {t for t in texts if "{" in t}
    hashes = {
        f"'sha256-{base64.b64encode(hashlib.sha256(t.encode()).digest()).decode()}'"
        for t in expected
    }
    assert hashes == set(django_settings.CSP_STYLE_HASHES)


# --- the API docs -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_docs_load_swagger_ui_from_tends_own_static_files(member_client: Client) -> None:
    page = member_client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/static/ninja/swagger-ui-bundle.js", "/static/ninja/swagger-ui.css"} <= set(assets)
    assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    assert "cdn" not in html.lower()
    for asset in assets:
        response = member_client.get(asset)
        assert response.status_code == 200, asset
        assert b"".join(response.streaming_content), asset  # type: ignore[attr-defined]


# --- HTTPS ------------------------------------------------------------------------------------


def test_the_documented_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    result = tend(["check", "--deploy"], PRODUCTION, tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("smtp+tls://u:p@smtp.example.com:587", "smtp.example.com 587 True False"),
        ("smtp+ssl://u:p@smtp.example.com:465", "smtp.example.com 465 False True"),
        ("smtp://u:p@smtp.example.com:25", "smtp.example.com 25 False False"),
    ],
)
def test_the_documented_email_urls_start_tend(tmp_path: Path, url: str, shown: str) -> None:
    code = "from django.conf import settings as s; print(s.EMAIL_HOST, s.EMAIL_PORT, "
    code += "s.EMAIL_USE_TLS, s.EMAIL_USE_SSL)"
    result = tend(["shell", "--no-imports", "-c", code], {"TEND_EMAIL_URL": url}, tmp_path)
    assert result.stdout.strip() == shown, result.stderr


def test_an_unknown_email_url_names_the_variable(tmp_path: Path) -> None:
    result = tend(["check"], {"TEND_EMAIL_URL": "smtpx://u:p@h:25"}, tmp_path)
    assert result.returncode != 0
    assert "TEND_EMAIL_URL must start with smtp://" in result.stderr


def test_secure_cookies_turn_hsts_on_for_a_year_unless_told_otherwise(tmp_path: Path) -> None:
    code = "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS)"
    show = ["shell", "--no-imports", "-c", code]
    data = tmp_path / "data"
    assert tend(show, {}, data).stdout.strip() == "0"
    assert tend(show, {"TEND_SECURE_COOKIES": "1"}, data).stdout.strip() == "31536000"
    off = {"TEND_SECURE_COOKIES": "1", "TEND_HSTS_SECONDS": "0"}
    assert tend(show, off, data).stdout.strip() == "0"
    bad = tend(show, {"TEND_HSTS_SECONDS": "-1"}, data)
    assert bad.returncode != 0 and "TEND_HSTS_SECONDS" in bad.stderr


@pytest.mark.django_db
def test_https_answers_carry_hsts_and_plain_http_is_redirected_behind_the_proxy(
    settings: Any, owner: Any
) -> None:
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client()
    client.force_login(owner)
    secure = client.get("/customers/", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    plain = client.get("/customers/", headers={"X-Forwarded-Proto": "http"})
    assert plain.status_code == 301 and plain["Location"].startswith("https://")


# --- private files ----------------------------------------------------------------------------


def test_the_data_folder_database_and_secret_key_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = tend(["check"], {}, data)
    assert result.returncode == 0, result.stderr
    assert mode(data) == 0o700
    assert mode(data / "secret_key") == 0o600
    database = data / "tend.sqlite3"
    assert mode(database) == 0o600
    old = os.umask(0o022)
    try:
        connection = sqlite3.connect(database)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (x)")
        connection.commit()
        assert mode(data / "tend.sqlite3-wal") == 0o600
        assert mode(data / "tend.sqlite3-shm") == 0o600
        connection.close()
    finally:
        os.umask(old)


def test_an_open_data_folder_is_reported_by_the_deploy_check(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    result = tend(["check", "--deploy"], PRODUCTION, data)
    assert "tend.W030" in result.stderr
    assert mode(data) == 0o755  # an existing folder is the owner's to change


@pytest.fixture
def private_data(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir(mode=0o700)
    old = os.umask(0o022)
    yield settings.DATA_DIR
    os.umask(old)


@pytest.mark.django_db
def test_an_uploaded_import_file_is_private(owner_client: Client, private_data: Path) -> None:
    upload = SimpleUploadedFile("crm.csv", b"External ID,Name\nc1,Acme\n", "text/csv")
    form = {"kind": "customers", "file": upload, "date_order": "dmy"}
    response = owner_client.post("/imports/", form)
    assert response.status_code in (200, 302), response.content[:500]
    stored = Path(Import.objects.get().path)
    assert stored.parent == private_data / "imports"
    assert mode(stored.parent) == 0o700
    assert mode(stored) == 0o600


@pytest.mark.django_db
def test_the_rejected_rows_file_of_the_command_line_is_private(
    private_data: Path, tmp_path: Path
) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text("External ID,Name,Email\nc1,Acme,bad\n", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("import", "customers", str(crm), stdout=io.StringIO())
    written = Path(str(caught.value).split(" in ", 1)[1].split(" with ")[0])
    assert written.parent == private_data / "imports"
    assert mode(written) == 0o600
