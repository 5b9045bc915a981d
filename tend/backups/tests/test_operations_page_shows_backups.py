"""The operations page, `GET /api/v1/operations` and `tend backup --list` show the newest
backup, its size, where backups are kept and how many; a missing or old backup is flagged."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _fake_backup(folder, at: datetime, size: int, *, encrypted: bool = False):  # type: ignore[no-untyped-def]
    folder.mkdir(exist_ok=True)
    path = folder / f"tend-backup-{at:%Y%m%dT%H%M%S}Z.tar.gz{'.enc' if encrypted else ''}"
    path.write_bytes(b"\0" * size)
    return path


def test_the_page_shows_the_newest_backup_and_how_many_are_kept(owner_client, settings, tmp_path):
    settings.TEND_BACKUP_DIR = tmp_path
    settings.TEND_BACKUP_KEEP = 7
    now = datetime.now(UTC)
    _fake_backup(tmp_path, now - timedelta(days=1, hours=2), 1000)
    newest = _fake_backup(tmp_path, now - timedelta(hours=3), 2_500_000, encrypted=True)

    page = owner_client.get("/operations/").content.decode()

    section = page.split('id="backups"')[1].split("</section>")[0]
    assert "3\xa0hours" in section
    assert "2.4\xa0MB" in section  # Django's filesizeformat counts in binary units
    assert 'id="backups-count">2<' in section and "newest 7 kept" in section
    assert str(tmp_path) in section and "encrypted" in section
    assert "more than two days old" not in section
    body = owner_client.get("/api/v1/operations").json()["backups"]
    assert body["count"] == 2 and body["last"]["name"] == newest.name
    assert body["last"]["size"] == 2_500_000 and body["last"]["encrypted"] is True
    assert body["folder"] == str(tmp_path) and body["stale"] is False


def test_no_backup_or_an_old_one_is_flagged(owner_client, settings, tmp_path):
    settings.TEND_BACKUP_DIR = tmp_path / "none"
    page = owner_client.get("/operations/").content.decode()
    assert 'id="backups-none"' in page
    assert owner_client.get("/api/v1/operations").json()["backups"]["stale"] is True

    settings.TEND_BACKUP_DIR = tmp_path
    _fake_backup(tmp_path, datetime.now(UTC) - timedelta(days=3), 10)
    page = owner_client.get("/operations/").content.decode()
    assert "more than two days old" in page

    settings.TEND_BACKUP_CRON = ""
    page = owner_client.get("/operations/").content.decode()
    assert "Scheduled backups are off" in page and "more than two days old" not in page


def test_the_list_command_shows_the_folder_and_each_backup(settings, tmp_path):
    settings.TEND_BACKUP_DIR = tmp_path
    path = _fake_backup(tmp_path, datetime(2026, 12, 1, 3, 20, tzinfo=UTC), 1234)
    (tmp_path / "unrelated.tar.gz").write_bytes(b"x")
    os.utime(path)
    out = io.StringIO()
    call_command("backup", "--list", stdout=out)
    text = out.getvalue()
    assert path.name in text and "2026-12-01 03:20:00" in text and "1.2 KB" in text
    assert "unrelated" not in text and "1 backup(s)" in text
