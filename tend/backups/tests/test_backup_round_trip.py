"""A filled Tend, backed up with `tend backup` and restored with `tend restore` into an empty
database and data folder elsewhere (another process), has the same rows in every table and the
same uploaded files."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tend.backups.tests.helpers import (
    dump_source,
    empty_target,
    files_under,
    fill,
    tables,
    tend,
)
from tend.ingest.imports.models import Import


@pytest.mark.django_db(transaction=True)
def test_every_table_and_every_uploaded_file_comes_back_in_an_empty_tend_elsewhere(
    tmp_path, settings
):
    fill(Path(settings.DATA_DIR))
    before = dump_source()
    uploads = files_under(Path(settings.DATA_DIR) / "imports")
    assert uploads, "the fill uploads a file"
    filled = [table for table, rows in before.items() if rows]
    assert len(filled) >= 40, [t for t, rows in before.items() if not rows]
    backup = tmp_path / "tend.tar.gz"

    call_command("backup", "-o", str(backup), stdout=io.StringIO())

    with tarfile.open(backup) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert names[0] == "manifest.json"
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["migrations"]["customers"].startswith("00")
    assert {m["name"] for m in manifest["members"]} == set(names[1:])
    with empty_target(tmp_path, "rt") as (data_dir, url, dump_target):
        done = tend("restore", str(backup), data_dir=data_dir, database_url=url)
        assert done.returncode == 0, done.stderr
        assert "Restored the backup" in done.stdout
        after = dump_target()

        assert files_under(data_dir / "imports") == uploads
        # Imports point at the restored copy of their file in the new data folder.
        import_table = Import._meta.db_table
        path_at = [c.column for c in Import._meta.concrete_fields].index("path")
        for row in after[import_table]:
            assert row[path_at].startswith(str(data_dir / "imports") + "/")
        strip = lambda rows: [r[:path_at] + r[path_at + 1 :] for r in rows]  # noqa: E731
        before[import_table], after[import_table] = (
            strip(before[import_table]),
            strip(after[import_table]),
        )
        assert [t for t, _pk in tables()] == sorted(after)
        for table in before:
            assert after[table] == before[table], table
