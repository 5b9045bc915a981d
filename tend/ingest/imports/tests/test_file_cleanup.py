"""Uploaded import files are deleted once their import ended TEND_IMPORT_FILE_RETENTION_DAYS
ago; the records, counts and rejected rows stay, and the pages say the file is gone."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tend.accounts.models import AuditEntry, User
from tend.ingest.imports.actions import import_create, import_run, import_store, imports_dir
from tend.ingest.imports.cleanup import import_files_cleanup
from tend.ingest.imports.models import Import, ImportStatus, RejectedRow
from tend.ingest.imports.tasks import import_files_cleanup as cleanup_task

pytestmark = pytest.mark.django_db

HEADER = ["customer_id", "name", "email"]
ROWS = [["c1", "Acme", "ops@acme.test"], ["c2", "Beta", "not-an-email"]]


@pytest.fixture(autouse=True)
def _own_data_dir(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path / "data"
    settings.TEND_IMPORT_FILE_RETENTION_DAYS = 7


@pytest.fixture
def uploaded(write_csv: Callable[..., Path], owner: User) -> Callable[..., Import]:
    """An import as the web makes it: the upload copied under imports/, then (maybe) run."""

    def make(*, status: str = ImportStatus.DONE, ended_days_ago: float = 8) -> Import:
        stored = import_store(source=write_csv("crm.csv", HEADER, ROWS), file_name="crm.csv")
        run = import_create(kind="customers", path=stored, file_name="crm.csv", by=owner)
        if status != ImportStatus.UPLOADED:
            run.dry_run = status == ImportStatus.PREVIEWED
            run.save(update_fields=["dry_run"])
            import_run(run=run)
        ended = timezone.now() - timedelta(days=ended_days_ago)
        unended = status in {ImportStatus.UPLOADED, ImportStatus.QUEUED, ImportStatus.RUNNING}
        Import.objects.filter(pk=run.pk).update(
            status=status, created_at=ended, finished_at=None if unended else ended
        )
        run.refresh_from_db()
        return run

    return make


def _aged(path: Path, days: float) -> Path:
    when = (timezone.now() - timedelta(days=days)).timestamp()
    os.utime(path, (when, when))
    return path


def test_files_of_imports_that_ended_long_ago_are_deleted_and_the_records_stay(
    uploaded: Callable[..., Import],
) -> None:
    done, failed, checked = (
        uploaded(status=ImportStatus.DONE),
        uploaded(status=ImportStatus.FAILED),
        uploaded(status=ImportStatus.PREVIEWED),
    )
    files = [Path(run.path) for run in (done, failed, checked)]
    size = sum(f.stat().st_size for f in files)

    result = import_files_cleanup()

    assert sorted(result.imports) == sorted([done.pk, failed.pk, checked.pk])
    assert result.bytes == size > 0
    assert not any(f.exists() for f in files)
    for run in (done, failed, checked):
        before = run.status, run.created, run.rejected
        run.refresh_from_db()
        assert run.path == ""
        assert (run.status, run.created, run.rejected) == before
    assert RejectedRow.objects.filter(run=done).count() == 1  # the rejected rows stay
    audit = AuditEntry.objects.filter(action="import.file_delete")
    assert sorted(int(a.object_id) for a in audit) == sorted([done.pk, failed.pk, checked.pk])
    assert {a.actor_label for a in audit} == {"cleanup"}
    # Nothing is left to do the second time.
    assert import_files_cleanup().files == 0


def test_recent_and_unfinished_imports_keep_their_files(
    uploaded: Callable[..., Import],
) -> None:
    keep = [
        uploaded(status=ImportStatus.DONE, ended_days_ago=6),
        uploaded(status=ImportStatus.PREVIEWED, ended_days_ago=1),
        uploaded(status=ImportStatus.QUEUED, ended_days_ago=30),
        uploaded(status=ImportStatus.RUNNING, ended_days_ago=30),
        uploaded(status=ImportStatus.UPLOADED, ended_days_ago=2),
    ]
    assert import_files_cleanup().files == 0
    for run in keep:
        path = run.path
        run.refresh_from_db()
        assert run.path == path and Path(path).exists()


def test_an_upload_never_taken_past_the_mapping_ends_as_failed_with_the_reason(
    uploaded: Callable[..., Import],
) -> None:
    abandoned = uploaded(status=ImportStatus.UPLOADED, ended_days_ago=9)
    file = Path(abandoned.path)
    import_files_cleanup()
    abandoned.refresh_from_db()
    assert not file.exists()
    assert (abandoned.status, abandoned.path) == (ImportStatus.FAILED, "")
    assert "Not imported within 7 days" in abandoned.error
    assert abandoned.finished_at is not None


def test_files_no_import_refers_to_go_once_as_old_as_the_retention(
    uploaded: Callable[..., Import],
) -> None:
    folder = imports_dir()
    (folder / "3f2a.csv").write_text("x")  # an upload whose process died before recording it
    old_orphan = _aged(folder / "3f2a.csv", 8)
    (folder / "rejected-12-crm.csv").write_text("row,reason\n")  # written by `tend import`
    old_rejects = _aged(folder / "rejected-12-crm.csv", 10)
    fresh_orphan = folder / "just-uploaded.csv"
    fresh_orphan.write_text("customer_id\n")  # an upload being recorded right now
    queued = uploaded(status=ImportStatus.QUEUED, ended_days_ago=30)
    _aged(Path(queued.path), 30)

    result = import_files_cleanup()

    assert sorted(result.orphans) == ["3f2a.csv", "rejected-12-crm.csv"]
    assert not old_orphan.exists() and not old_rejects.exists()
    assert fresh_orphan.exists() and Path(queued.path).exists()


def test_with_no_retention_orphans_still_get_a_day(uploaded: Callable[..., Import]) -> None:
    folder = imports_dir()
    (folder / "a.csv").write_text("x")
    _aged(folder / "a.csv", 0.5)
    done = uploaded(status=ImportStatus.DONE, ended_days_ago=0.01)
    result = import_files_cleanup(retention_days=0)
    assert result.imports == [done.pk]
    assert result.orphans == []


def test_a_file_outside_the_imports_folder_is_never_deleted(
    write_csv: Callable[..., Path], owner: User
) -> None:
    # `tend import` reads the user's own file where it lies.
    own = write_csv("customers.csv", HEADER, ROWS)
    run = import_create(kind="customers", path=own, file_name=own.name, by=owner)
    import_run(run=run)
    Import.objects.filter(pk=run.pk).update(finished_at=timezone.now() - timedelta(days=99))
    assert import_files_cleanup().files == 0
    assert own.exists()
    run.refresh_from_db()
    assert run.path == str(own)


def test_a_dry_run_deletes_nothing(uploaded: Callable[..., Import]) -> None:
    done = uploaded(status=ImportStatus.DONE)
    result = import_files_cleanup(dry_run=True)
    assert result.imports == [done.pk]
    done.refresh_from_db()
    assert Path(done.path).exists()
    assert not AuditEntry.objects.filter(action="import.file_delete").exists()


def test_after_the_clean_up_the_pages_say_the_file_is_gone_and_offer_no_rerun(
    uploaded: Callable[..., Import], member_client: Client
) -> None:
    checked = uploaded(status=ImportStatus.PREVIEWED)
    import_files_cleanup()

    history = member_client.get(reverse("imports:list")).content.decode()
    assert "file no longer kept" in history
    detail = member_client.get(reverse("imports:detail", args=[checked.pk])).content.decode()
    assert 'id="file-not-kept"' in detail
    assert 'id="start-form"' not in detail
    assert reverse("imports:mapping", args=[checked.pk]) not in detail
    # An old tab still offering the buttons gets the summary back, and nothing is queued.
    start = member_client.post(reverse("imports:start", args=[checked.pk]))
    assert start.status_code == 302
    assert start["Location"] == reverse("imports:detail", args=[checked.pk])
    mapping = member_client.get(reverse("imports:mapping", args=[checked.pk]))
    assert mapping["Location"] == reverse("imports:detail", args=[checked.pk])
    checked.refresh_from_db()
    assert checked.status == ImportStatus.PREVIEWED


def test_the_clean_up_is_scheduled_daily_and_runs_as_a_task(
    uploaded: Callable[..., Import], settings: Any
) -> None:
    schedule = settings.TEND_SCHEDULES["import-files-cleanup"]
    assert schedule["task"] == "tend.ingest.imports.tasks.import_files_cleanup"
    done = uploaded(status=ImportStatus.DONE)
    assert cleanup_task.enqueue().return_value == 1  # the immediate backend in tests
    done.refresh_from_db()
    assert done.path == ""


def test_tend_cleanup_runs_it_now(uploaded: Callable[..., Import], capsys: Any) -> None:
    done = uploaded(status=ImportStatus.DONE)
    recent = uploaded(status=ImportStatus.DONE, ended_days_ago=1)
    call_command("cleanup", "--dry-run")
    assert "Would delete 1 files of imports that ended over 7 days ago" in capsys.readouterr().out
    assert Path(done.path).exists()
    call_command("cleanup", "--days", "0")
    out = capsys.readouterr().out
    assert "Deleted 2 files of imports that ended over 0 days ago" in out
    assert "rate-limit counters" in out
    assert not Path(done.path).exists() and not Path(recent.path).exists()
