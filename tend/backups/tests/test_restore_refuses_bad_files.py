"""`tend restore` refuses, with a sentence that says why, a file that is not a good Tend
backup: damaged, truncated, foreign, with names that leave the folder, links, members larger
than declared, another database vendor, migrations this code lacks. `--check` reads the whole
file and writes nothing; a real restore refuses before it touches the target."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tend.backups.tests.helpers import (
    empty_target,
    entry,
    files_under,
    read_members,
    target_tables,
    tend,
    with_manifest,
    write_members,
)
from tend.customers.models import Customer
from tend.factories import make_customer


@pytest.fixture
def good_backup(db, tmp_path, settings) -> Path:  # type: ignore[no-untyped-def]
    settings.TEND_BACKUP_DIR = tmp_path / "backups"
    make_customer(name="Ada")
    imports = Path(settings.DATA_DIR) / "imports"
    imports.mkdir(exist_ok=True)
    path = tmp_path / "good.tar.gz"
    call_command("backup", "-o", str(path), stdout=io.StringIO())
    return path


def _refusal(path: Path, *args: str) -> str:
    with pytest.raises(CommandError) as refused:
        call_command("restore", "--check", str(path), *args, stdout=io.StringIO())
    return str(refused.value)


def _flip(path: Path, at: float, target: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x10
    target.write_bytes(bytes(data))
    return target


def test_a_good_backup_checks_out(good_backup):
    out = io.StringIO()
    call_command("restore", "--check", str(good_backup), stdout=out)
    assert "every checksum matches" in out.getvalue()


@pytest.mark.parametrize("at", [0.3, 0.6, 0.9], ids=["early", "middle", "late"])
def test_a_flipped_bit_is_refused(good_backup, tmp_path, at):
    message = _refusal(_flip(good_backup, at, tmp_path / "flipped.tar.gz"))
    assert "damaged" in message or "truncated" in message or "checksum" in message


def test_a_truncated_backup_is_refused(good_backup, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good_backup.read_bytes()[: good_backup.stat().st_size // 2])
    assert "truncated" in _refusal(cut)


def test_a_backup_cut_just_before_its_end_is_refused(good_backup, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good_backup.read_bytes()[:-4])
    assert "truncated" in _refusal(cut) or "damaged" in _refusal(cut)


def test_files_that_are_not_backups_are_refused(db, tmp_path):
    random = tmp_path / "random.bin"
    random.write_bytes(os.urandom(5000))
    assert "not a Tend backup" in _refusal(random)
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("manifest.json", "{}")
    assert "not a Tend backup" in _refusal(archive)
    plain = write_members(tmp_path / "plain.tar.gz", [(tarfile.TarInfo("notes.txt"), b"hello")])
    assert "no manifest" in _refusal(plain)
    foreign = write_members(
        tmp_path / "foreign.tar.gz", [(tarfile.TarInfo("manifest.json"), b'{"format": "x"}')]
    )
    assert "not a Tend backup" in _refusal(foreign)
    assert "Cannot open" in _refusal(tmp_path / "missing.tar.gz")


def _manifest(members: list[dict], **extra: object) -> bytes:
    data = {
        "format": "tend-backup",
        "format_version": 1,
        "database": {"vendor": connection.vendor, "member": members[0]["name"]},
        "migrations": {},
        "members": members,
        **extra,
    }
    return json.dumps(data).encode()


def test_names_that_leave_the_folder_are_refused(db, tmp_path, settings):
    db_data = b"not really a database"
    for name in ["../escape.txt", "/etc/passwd", "files/../../escape.txt", "files\\..\\x"]:
        manifest = _manifest([entry("database/tend.sqlite3", db_data), entry(name, b"x")])
        path = write_members(
            tmp_path / "traversal.tar.gz",
            [
                (tarfile.TarInfo("manifest.json"), manifest),
                (tarfile.TarInfo("database/tend.sqlite3"), db_data),
                (tarfile.TarInfo(name), b"x"),
            ],
        )
        assert "outside its folders" in _refusal(path), name
    # The tar entry itself leaves the folder while the manifest looks innocent.
    manifest = _manifest([entry("database/tend.sqlite3", db_data), entry("files/a", b"x")])
    path = write_members(
        tmp_path / "traversal.tar.gz",
        [
            (tarfile.TarInfo("manifest.json"), manifest),
            (tarfile.TarInfo("database/tend.sqlite3"), db_data),
            (tarfile.TarInfo("../a"), b"x"),
        ],
    )
    assert "outside its folders" in _refusal(path)
    assert not (tmp_path.parent / "a").exists() and not (tmp_path / "escape.txt").exists()


def test_links_and_special_files_are_refused(db, tmp_path):
    db_data = b"db"
    for kind in (tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE, tarfile.FIFOTYPE):
        link = tarfile.TarInfo("files/imports/a.csv")
        link.type, link.linkname = kind, "/etc/passwd"
        manifest = _manifest(
            [entry("database/tend.sqlite3", db_data), entry("files/imports/a.csv", b"")]
        )
        path = write_members(
            tmp_path / "link.tar.gz",
            [
                (tarfile.TarInfo("manifest.json"), manifest),
                (tarfile.TarInfo("database/tend.sqlite3"), db_data),
                (link, b""),
            ],
        )
        assert "link or special file" in _refusal(path), kind


def test_members_larger_than_declared_and_unlisted_ones_are_refused(db, tmp_path):
    db_data = b"db"
    manifest = _manifest([entry("database/tend.sqlite3", db_data)])
    huge = write_members(
        tmp_path / "huge.tar.gz",
        [
            (tarfile.TarInfo("manifest.json"), manifest),
            (tarfile.TarInfo("database/tend.sqlite3"), b"\0" * 5_000_000),
        ],
    )
    assert "size" in _refusal(huge)
    extra = write_members(
        tmp_path / "extra.tar.gz",
        [
            (tarfile.TarInfo("manifest.json"), manifest),
            (tarfile.TarInfo("database/tend.sqlite3"), db_data),
            (tarfile.TarInfo("files/imports/extra.csv"), b"x"),
        ],
    )
    assert "does not list" in _refusal(extra)
    bomb = _manifest([entry("database/tend.sqlite3", db_data) | {"size": 10**15}])
    path = write_members(
        tmp_path / "bomb.tar.gz",
        [
            (tarfile.TarInfo("manifest.json"), bomb),
            (tarfile.TarInfo("database/tend.sqlite3"), db_data),
        ],
    )
    assert "size" in _refusal(path)


def test_a_changed_member_fails_its_checksum(good_backup, tmp_path):
    members = read_members(good_backup)
    info, data = members[1]
    members[1] = (info, bytes([data[0] ^ 1]) + data[1:])
    assert "checksum" in _refusal(write_members(tmp_path / "changed.tar.gz", members))


def test_a_backup_of_another_database_vendor_is_refused_before_anything_is_read(
    good_backup, tmp_path
):
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    path = with_manifest(
        good_backup, tmp_path / "other.tar.gz", lambda m: m["database"].update(vendor=other)
    )
    before = Customer.objects.count()
    with pytest.raises(CommandError, match=f"backup is of a {other} database"):
        call_command("restore", str(path), stdout=io.StringIO())
    assert Customer.objects.count() == before


def test_a_backup_from_a_newer_tend_is_refused(good_backup, tmp_path):
    path = with_manifest(
        good_backup,
        tmp_path / "newer.tar.gz",
        lambda m: m["migrations"].update(customers="9999_from_the_future"),
    )
    with pytest.raises(CommandError, match=r"newer Tend.*customers 9999_from_the_future"):
        call_command("restore", str(path), stdout=io.StringIO())
    newer_format = with_manifest(
        good_backup, tmp_path / "format.tar.gz", lambda m: m.update(format_version=2)
    )
    assert "newer Tend" in _refusal(newer_format)


def test_a_target_that_is_not_empty_is_refused_and_left_as_it_was(good_backup, settings):
    make_customer(name="Grace")
    names = sorted(Customer.objects.values_list("name", flat=True))
    uploads = files_under(Path(settings.DATA_DIR) / "imports")
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(good_backup), stdout=io.StringIO())
    assert sorted(Customer.objects.values_list("name", flat=True)) == names
    assert files_under(Path(settings.DATA_DIR) / "imports") == uploads


@pytest.mark.django_db(transaction=True)
def test_a_damaged_backup_leaves_an_empty_target_empty(tmp_path, settings):
    make_customer(name="Ada")
    good = tmp_path / "good.tar.gz"
    call_command("backup", "-o", str(good), stdout=io.StringIO())
    damaged = _flip(good, 0.8, tmp_path / "damaged.tar.gz")
    with empty_target(tmp_path, "dmg") as (data_dir, url, _dump):
        done = tend("restore", str(damaged), data_dir=data_dir, database_url=url)
        assert done.returncode != 0
        assert "damaged" in done.stderr or "checksum" in done.stderr or "truncated" in done.stderr
        assert "Traceback" not in done.stderr
        assert target_tables(url, data_dir) == []
        assert files_under(data_dir / "imports") == {}
        assert not [p for p in data_dir.iterdir() if p.name.startswith(".tend-restore")]
