"""``tend digest send [--user NAME] [--dry-run]`` and ``tend digest preview --user NAME``."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from tend.accounts.models import Role
from tend.digest.tests.helpers import person
from tend.messaging.models import Message

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("digest", *args, stdout=out)
    return out.getvalue()


def test_send_for_one_user_now_once_a_day() -> None:
    user = person("dana", digest="off")  # --user sends whatever the choice
    assert "1 digest(s) written" in run("send", "--user", "dana")
    assert "already sent today" in run("send", "--user", "dana")
    assert Message.objects.filter(source="digest", user=user).count() == 1


def test_dry_run_writes_nothing() -> None:
    person("dana")
    text = run("send", "--user", "dana", "--dry-run")
    assert "dana <dana@example.com>" in text and "would send" in text
    assert not Message.objects.exists()


def test_send_without_user_follows_the_schedule(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TEND_DIGEST_HOUR = 0  # due all day
    person("dana")
    person("off", digest="off")
    assert "1 digest(s) written" in run("send")
    assert "0 digest(s) written" in run("send")


def test_preview_prints_the_text_or_the_html() -> None:
    person("dana")
    text = run("preview", "--user", "dana")
    assert text.startswith("Subject: Tend daily digest")
    assert "== Today ==" in text
    assert "<!DOCTYPE html>" in run("preview", "--user", "dana", "--html")
    assert not Message.objects.exists()


def test_refusals_name_the_option() -> None:
    person("vic", role=Role.VIEWER)
    person("nomail", email="")
    with pytest.raises(CommandError, match="--user: no active user called 'ghost'"):
        run("send", "--user", "ghost")
    with pytest.raises(CommandError, match="viewer"):
        run("send", "--user", "vic")
    with pytest.raises(CommandError, match="no email address"):
        run("send", "--user", "nomail")
    with pytest.raises(CommandError):
        run("preview")
