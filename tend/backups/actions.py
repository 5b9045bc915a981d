"""Take a backup, restore one, keep the newest few. docs/backups.md says what a backup holds.

``backup_create`` snapshots the database and hard-links (or copies) the uploaded files into a
staging folder next to the output, writes their sizes and SHA-256 into the manifest, then
streams everything into one archive written under a temporary name and renamed into place, so
a half-written backup never carries a backup's name. ``backup_restore`` reads and checks the
whole archive into a staging folder before it touches the database or the data folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils.translation import gettext as _

from tend.backups import database
from tend.backups.archive import (
    FORMAT,
    FORMAT_VERSION,
    BackupError,
    Manifest,
    Member,
    file_digest,
    read_archive,
    write_archive,
)
from tend.lib.private import open_private, private_dir

# tend-backup-20261206T032000Z.tar.gz, or .tar.gz.enc when encrypted: the pruning pattern.
NAME_PATTERN = re.compile(r"^tend-backup-(\d{8}T\d{6})Z(?:-(\d{1,6}))?\.tar\.gz(?:\.enc)?$")
# The folders under TEND_DATA_DIR that hold uploaded files (relative names, backed up whole).
DATA_FOLDERS = ("imports",)
SECRET_KEY_MEMBER = "files/secret_key"


def tend_version() -> str:
    try:
        return package_version("tend")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout without install
        return "unknown"


def backup_dir() -> Path:
    return Path(settings.TEND_BACKUP_DIR)


def backup_file_name(at: datetime, *, encrypted: bool) -> str:
    return f"tend-backup-{at:%Y%m%dT%H%M%S}Z.tar.gz{'.enc' if encrypted else ''}"


def data_files(data_dir: Path) -> Iterator[tuple[str, Path]]:
    """(member name, path) of every uploaded file Tend keeps under the data folder, plus the
    generated secret key when TEND_SECRET_KEY is not set (emailed unsubscribe links and
    sessions are signed with it)."""
    for folder in DATA_FOLDERS:
        root = data_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            # Plain files only: a symlink could point anywhere on the machine.
            if path.is_file() and not path.is_symlink():
                yield f"files/{path.relative_to(data_dir).as_posix()}", path
    if settings.SECRET_KEY_GENERATED:
        key = data_dir / "secret_key"
        if key.is_file() and not key.is_symlink():
            yield SECRET_KEY_MEMBER, key


@contextmanager
def _staging(near: Path, prefix: str) -> Iterator[Path]:
    """A private temporary folder on the same disk as ``near`` (renames and hard links work),
    removed afterwards whatever happens."""
    private_dir(near)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=near))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _stage(source: Path, target: Path) -> None:
    """Hard-link ``source`` (import files are written once, never changed) or copy it."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    files: int  # uploaded files in it (the database and the secret key not counted)
    encrypted: bool
    manifest: dict[str, Any]


def backup_create(
    *,
    output: Path | None = None,
    folder: Path | None = None,
    passphrase: str = "",
    alias: str = "default",
) -> BackupResult:
    """Write a backup of the database and the uploaded files to ``output`` (or a new dated file
    in ``folder``, default TEND_BACKUP_DIR); encrypted when ``passphrase`` is given."""
    now = datetime.now(UTC).replace(microsecond=0)
    if output is None:
        folder = folder or backup_dir()
        private_dir(folder)
        output = folder / backup_file_name(now, encrypted=bool(passphrase))
        counter = 1
        while output.exists():  # two backups within a second
            stem = backup_file_name(now, encrypted=bool(passphrase)).replace(
                "Z.tar", f"Z-{counter}.tar"
            )
            output, counter = folder / stem, counter + 1
    output = output.absolute()
    if not output.parent.is_dir():
        raise BackupError(
            _("The folder %(folder)s does not exist; create it first.") % {"folder": output.parent}
        )
    if output.exists():
        raise BackupError(_("%(path)s exists; choose another file name.") % {"path": output})
    data_dir = Path(settings.DATA_DIR)
    vendor = database.vendor(alias)
    with _staging(output.parent, ".tend-backup-") as stage:
        dump_name = database.DUMP_NAMES[vendor]
        dump = stage / "database.dump"
        database.snapshot(dump, alias)
        staged: list[tuple[str, Path]] = [(dump_name, dump)]
        for index, (name, path) in enumerate(data_files(data_dir)):
            copy = stage / "files" / str(index)
            try:
                _stage(path, copy)
            except FileNotFoundError:
                continue  # deleted by the import-files cleanup meanwhile
            staged.append((name, copy))
        members = []
        for name, path in staged:
            size, sha = file_digest(path)
            members.append((Member(name=name, size=size, sha256=sha), path))
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tend_version": tend_version(),
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "database": {"vendor": vendor, "member": dump_name},
            "migrations": database.migration_state(alias),
            "data_dir": str(data_dir),
            "encrypted": bool(passphrase),
            "members": [member.as_json() for member, _path in members],
        }
        partial = output.with_name(f".{output.name}.partial")
        try:
            with open_private(partial, "xb") as out:
                write_archive(
                    out,
                    manifest=manifest,
                    files=members,
                    passphrase=passphrase,
                    mtime=now.timestamp(),
                )
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
    return BackupResult(
        path=output,
        size=output.stat().st_size,
        files=sum(1 for m, _p in members if m.name.startswith("files/imports/")),
        encrypted=bool(passphrase),
        manifest=manifest,
    )


def backups_prune(*, folder: Path | None = None, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``folder`` (only files named like the ones
    ``backup_create`` writes; anything else there is left alone). 0 keeps them all."""
    if keep <= 0:
        return []
    backups = backups_list(folder=folder)
    removed = []
    for entry in backups[keep:]:
        entry.path.unlink(missing_ok=True)
        removed.append(entry.path)
    return removed


@dataclass(frozen=True)
class BackupFile:
    path: Path
    size: int
    created_at: datetime
    encrypted: bool
    order: int = 0  # the -N of a second backup within the same second


def backups_list(*, folder: Path | None = None) -> list[BackupFile]:
    """The backups in ``folder`` (default TEND_BACKUP_DIR), newest first."""
    folder = folder or backup_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = NAME_PATTERN.match(path.name)
        if not match or not path.is_file():
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        found.append(
            BackupFile(
                order=int(match.group(2) or 0),
                path=path,
                size=stat.st_size,
                created_at=datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC),
                encrypted=path.name.endswith(".enc"),
            )
        )
    return sorted(found, key=lambda b: (b.created_at, b.order), reverse=True)


# --- restore --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    files: int
    older_schema: bool  # the backup's migrations are behind this code's: run `tend migrate`
    secret_key: str  # "restored", "skipped" (TEND_SECRET_KEY is set) or "" (none in backup)


def check_compatible(manifest: Manifest, alias: str = "default") -> None:
    """Refuse a backup of another database vendor or with migrations this code lacks."""
    here = database.vendor(alias)
    if manifest.vendor != here:
        raise BackupError(
            _(
                "This backup is of a %(theirs)s database and this Tend uses %(ours)s: a backup is "
                "restored into the same kind of database. Set TEND_DATABASE_URL to a %(theirs)s "
                "database to restore it."
            )
            % {"theirs": manifest.vendor or "?", "ours": here}
        )
    unknown = database.unknown_migrations(manifest.migrations)
    if unknown:
        raise BackupError(
            _(
                "This backup was made by a newer Tend (version %(version)s): this code lacks "
                "the migrations %(migrations)s. Upgrade Tend, then restore."
            )
            % {
                "version": manifest.data.get("tend_version", "?"),
                "migrations": ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else ""),
            }
        )


def check_empty_target(alias: str = "default") -> None:
    """The target is empty when its database has no tables at all (a new SQLite file, or a
    database just made with createdb) and no uploaded file is in the data folder."""
    tables = database.table_names(alias)
    if tables:
        raise BackupError(
            _(
                "The database %(name)s is not empty (%(count)d tables): a backup is restored "
                "only into an empty database, so nothing is overwritten. Point TEND_DATABASE_URL "
                "at a new SQLite file or a new PostgreSQL database (createdb), or move the "
                "current one aside first."
            )
            % {"name": connections[alias].settings_dict["NAME"], "count": len(tables)}
        )
    data_dir = Path(settings.DATA_DIR)
    for name, _path in data_files(data_dir):
        if name != SECRET_KEY_MEMBER:
            raise BackupError(
                _(
                    "The data folder %(folder)s already holds uploaded files: restore into an "
                    "empty data folder (TEND_DATA_DIR)."
                )
                % {"folder": data_dir}
            )


def backup_check(*, path: Path, passphrase: str = "") -> Manifest:
    """Read the whole backup and check every checksum, writing nothing anywhere."""
    return read_archive(path, passphrase=passphrase)


def backup_restore(*, path: Path, passphrase: str = "", alias: str = "default") -> RestoreResult:
    """Restore the backup at ``path`` into the empty database ``alias`` and data folder."""
    data_dir = Path(settings.DATA_DIR)

    def admissible(manifest: Manifest) -> None:
        check_compatible(manifest, alias)
        check_empty_target(alias)

    with _staging(data_dir, ".tend-restore-") as stage:
        # Everything is read and checked here before anything else is touched.
        manifest = read_archive(path, passphrase=passphrase, into=stage, on_manifest=admissible)
        check_empty_target(alias)  # still empty after the (possibly long) read
        database.load(stage.joinpath(*manifest.database_member.split("/")), alias)
        files = 0
        secret_key = ""
        for member in manifest.members:
            if not member.name.startswith("files/"):
                continue
            source = stage.joinpath(*member.name.split("/"))
            relative = Path(*member.name.split("/")[1:])
            if member.name == SECRET_KEY_MEMBER:
                if settings.SECRET_KEY_GENERATED:
                    os.replace(source, data_dir / "secret_key")
                    secret_key = "restored"
                else:
                    secret_key = "skipped"
                continue
            target = data_dir / relative
            private_dir(target.parent)
            os.replace(source, target)
            files += 1
        _repoint_import_files(manifest, data_dir, alias)
    older = _older_schema(manifest)
    return RestoreResult(manifest=manifest, files=files, older_schema=older, secret_key=secret_key)


def _repoint_import_files(manifest: Manifest, data_dir: Path, alias: str) -> None:
    """Imports record where their uploaded file is kept as an absolute path; when the data
    folder moved (a new machine), point them at the restored copies."""
    old = str(manifest.data.get("data_dir") or "")
    if not old or old == str(data_dir) or "imports" not in manifest.migrations:
        return
    from tend.ingest.imports.models import Import

    old_root, new_root = f"{old.rstrip('/')}/", f"{str(data_dir).rstrip('/')}/"
    rows = Import.objects.using(alias).filter(path__startswith=old_root).only("pk", "path")
    changed = []
    for row in rows:
        row.path = new_root + row.path[len(old_root) :]
        changed.append(row)
    Import.objects.using(alias).bulk_update(changed, ["path"], batch_size=500)


def _older_schema(manifest: Manifest) -> bool:
    ours = manifest.migrations
    return any(ours.get(app, "") < name for app, name in database.newest_migrations().items())
