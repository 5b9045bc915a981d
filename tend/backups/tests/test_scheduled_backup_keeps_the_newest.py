"""The "backup" schedule runs the backup task with its kwargs; after each successful backup
only the newest TEND_BACKUP_KEEP backups stay in TEND_BACKUP_DIR, and other files there stay."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tend.backups.actions import backups_list
from tend.factories import make_customer
from tend.jobs.schedule import enqueue_due


def test_the_daily_backup_keeps_the_newest_and_leaves_other_files_alone(db, tmp_path, settings):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (folder / "tend-backup-20200101T000000Z.tar.gz.partial").write_text("not a backup name")
    settings.TEND_BACKUP_DIR = folder
    settings.TEND_BACKUP_PASSPHRASE_FILE = ""
    settings.TEND_SCHEDULES = {
        "backup": {
            "cron": "20 3 * * *",
            "task": "tend.backups.tasks.backup_scheduled",
            "kwargs": {"keep": 2},
        }
    }
    make_customer(name="Ada")

    for day in (1, 2, 3):
        assert enqueue_due(datetime(2026, 12, day, 4, 0, tzinfo=UTC)) == ["backup"]

    kept = backups_list(folder=folder)
    assert len(kept) == 2
    assert kept[0].created_at >= kept[1].created_at
    assert sorted(
        p.name for p in folder.iterdir() if not p.name.startswith("tend-backup-2026")
    ) == [
        "notes.txt",
        "tend-backup-20200101T000000Z.tar.gz.partial",
    ]
    out = io.StringIO()
    call_command("backup", "--list", stdout=out)
    assert "2 backup(s)" in out.getvalue() and kept[0].path.name in out.getvalue()


def test_tend_backup_writes_a_dated_file_into_the_backup_folder(
    db, tmp_path, settings, monkeypatch
):
    settings.TEND_BACKUP_DIR = tmp_path / "b"
    monkeypatch.setenv("TEND_BACKUP_PASSPHRASE", "a long enough passphrase")
    out = io.StringIO()
    call_command("backup", "--keep", "1", stdout=out)
    call_command("backup", "--keep", "1", stdout=out)
    (only,) = backups_list(folder=tmp_path / "b")
    assert only.encrypted and only.path.name.endswith(".tar.gz.enc")
    assert "a long enough passphrase" not in out.getvalue()
    assert oct(only.path.stat().st_mode & 0o777) == "0o600"


def test_tend_backup_refuses_a_missing_folder_and_an_existing_file(db, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("backup", "-o", str(tmp_path / "no" / "such" / "b.tar.gz"))
    assert not (tmp_path / "no").exists()
    taken = tmp_path / "taken.tar.gz"
    taken.write_bytes(b"mine")
    with pytest.raises(CommandError, match="exists"):
        call_command("backup", "-o", str(taken))
    assert taken.read_bytes() == b"mine"
