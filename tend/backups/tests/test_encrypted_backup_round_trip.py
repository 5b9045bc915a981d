"""An encrypted backup is restored with its passphrase and refused, clearly, with a wrong one,
without one, or damaged; the passphrase is never printed."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tend.backups.crypto import CHUNK_SIZE, MAGIC
from tend.backups.tests.helpers import (
    PASSPHRASE,
    dump_source,
    empty_target,
    files_under,
    tend,
)
from tend.customers.models import Customer
from tend.factories import make_contact, make_customer


def _passphrase_file(tmp_path: Path, value: str, name: str = "pass") -> Path:
    path = tmp_path / name
    path.write_text(value + "\n")
    return path


@pytest.mark.django_db(transaction=True)
def test_an_encrypted_backup_comes_back_with_its_passphrase_and_only_with_it(tmp_path, settings):
    customer = make_customer(name="Ada Lovelace")
    make_contact(customer, name="Charles Babbage")
    imports = Path(settings.DATA_DIR) / "imports"
    imports.mkdir(exist_ok=True)
    # Larger than one chunk, so the file has several chunks.
    (imports / "big.csv").write_bytes(b"email,name\n" + b"a@example.com,A\n" * (CHUNK_SIZE // 8))
    uploads = files_under(imports)
    before = dump_source()
    right = _passphrase_file(tmp_path, PASSPHRASE)
    backup = tmp_path / "tend.tar.gz.enc"
    out = io.StringIO()

    call_command("backup", "-o", str(backup), "--passphrase-file", str(right), stdout=out)

    assert "encrypted" in out.getvalue() and PASSPHRASE not in out.getvalue()
    data = backup.read_bytes()
    assert data.startswith(MAGIC)
    assert b"Ada Lovelace" not in data and b"manifest" not in data
    with pytest.raises(tarfile.ReadError), tarfile.open(backup):
        pass
    wrong = _passphrase_file(tmp_path, "not the passphrase at all", "wrong")
    with pytest.raises(CommandError, match="passphrase is wrong"):
        call_command("restore", str(backup), "--passphrase-file", str(wrong))
    with pytest.raises(CommandError, match="This backup is encrypted"):
        call_command("restore", str(backup))
    assert dump_source() == before  # refused before the (non-empty) target was even looked at
    with empty_target(tmp_path, "enc") as (data_dir, url, dump_target):
        done = tend(
            "restore",
            str(backup),
            data_dir=data_dir,
            database_url=url,
            TEND_BACKUP_PASSPHRASE=PASSPHRASE,
        )

        assert done.returncode == 0, done.stderr
        assert PASSPHRASE not in done.stdout + done.stderr
        after = dump_target()
        assert after == before
        assert files_under(data_dir / "imports") == uploads


def test_a_damaged_or_cut_encrypted_backup_is_refused(db, tmp_path):
    make_customer(name="Ada")
    passphrase = _passphrase_file(tmp_path, PASSPHRASE)
    backup = tmp_path / "tend.tar.gz.enc"
    call_command(
        "backup", "-o", str(backup), "--passphrase-file", str(passphrase), stdout=io.StringIO()
    )
    data = backup.read_bytes()
    cases = {
        "flipped": data[:-100] + bytes([data[-100] ^ 1]) + data[-99:],
        "cut": data[: len(data) // 2],
        "tail-cut": data[:-1],
        "header": data[:20] + bytes([data[20] ^ 1]) + data[21:],
    }
    for name, content in cases.items():
        path = tmp_path / f"{name}.enc"
        path.write_bytes(content)
        with pytest.raises(CommandError) as refused:
            call_command(
                "restore",
                "--check",
                str(path),
                "--passphrase-file",
                str(passphrase),
                stdout=io.StringIO(),
            )
        message = str(refused.value)
        assert "damaged" in message or "truncated" in message or "passphrase" in message, name
    assert Customer.objects.filter(name="Ada").exists()


def test_a_short_passphrase_is_refused_for_a_new_backup(db, tmp_path):
    short = _passphrase_file(tmp_path, "hunter2")
    with pytest.raises(CommandError, match="at least 12 characters"):
        call_command("backup", "-o", str(tmp_path / "b.enc"), "--passphrase-file", str(short))
    with pytest.raises(CommandError, match="empty"):
        call_command("backup", "--passphrase-file", str(_passphrase_file(tmp_path, "", "e")))
    assert not (tmp_path / "b.enc").exists()
