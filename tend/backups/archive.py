"""The backup file: a gzip-compressed tar (optionally encrypted, ``tend.backups.crypto``) that
starts with ``manifest.json`` and holds the members the manifest lists, in its order.

Writing streams member by member (a chunk at a time); reading streams too and checks, before
anything is written where Tend keeps its data, that the file is a Tend backup, that each
member is a plain file with a safe name listed in the manifest with the size and SHA-256 it
has, and that nothing is missing or added. Links, devices, folders, absolute or ``..`` names
and members larger than declared are refused, whatever the manifest says.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import tarfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.utils.translation import gettext as _

from tend.backups.crypto import (
    DecryptError,
    DecryptingReader,
    EncryptingWriter,
    is_encrypted,
)
from tend.lib.private import open_private, private_dir

FORMAT = "tend-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 32 << 20
# What may follow the tar's end marker before the gzip end: tar pads to 10 KiB records.
MAX_TRAILING_BYTES = 1 << 20
COPY_CHUNK = 1 << 20
# Room to leave on the disk beyond the backup's declared size when extracting it.
DISK_MARGIN = 64 << 20
ROOTS = ("database", "files")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_GZIP_MAGIC = b"\x1f\x8b"


class BackupError(Exception):
    """A backup cannot be written, read or restored; the message says why, for the user."""


@dataclass(frozen=True)
class Member:
    name: str  # "database/tend.sqlite3", "files/imports/….csv"
    size: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


def file_digest(path: Path) -> tuple[int, str]:
    """(size, SHA-256 hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def safe_name(name: Any) -> bool:
    """A relative POSIX path under one of ROOTS, without "..", ".", empty parts, backslashes or
    control characters (so it cannot leave the folder it is extracted into)."""
    if not isinstance(name, str) or not name or len(name) > 1000:
        return False
    if any(ord(ch) < 32 or ch in "\\\x7f" for ch in name) or name.startswith("/"):
        return False
    parts = name.split("/")
    if any(part in {"", ".", ".."} for part in parts) or len(parts) < 2:
        return False
    return parts[0] in ROOTS


# --- writing --------------------------------------------------------------------------------


def write_archive(
    out: IO[bytes],
    *,
    manifest: dict[str, Any],
    files: Iterable[tuple[Member, Path]],
    passphrase: str = "",
    mtime: float = 0,
) -> None:
    """Write manifest.json then each file into ``out`` as gzip'd tar, encrypted when a
    passphrase is given. Each file must still have the size the manifest says."""
    sink: Any = EncryptingWriter(out, passphrase) if passphrase else out
    with (
        gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=6, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        data = json.dumps(manifest, indent=2, sort_keys=True).encode()
        tar.addfile(_info(MANIFEST, len(data), mtime), _BytesReader(data))
        for member, path in files:
            with path.open("rb") as fh:
                tar.addfile(_info(member.name, member.size, mtime), fh)
    if passphrase:
        sink.close()


def _info(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._at + size
        chunk, self._at = self._data[self._at : end], min(end, len(self._data))
        return chunk


# --- reading --------------------------------------------------------------------------------


@dataclass
class Manifest:
    data: dict[str, Any]
    members: list[Member]

    @property
    def vendor(self) -> str:
        return str(self.data.get("database", {}).get("vendor", ""))

    @property
    def database_member(self) -> str:
        return str(self.data.get("database", {}).get("member", ""))

    @property
    def migrations(self) -> dict[str, str]:
        return dict(self.data.get("migrations", {}))

    @property
    def total_size(self) -> int:
        return sum(m.size for m in self.members)


def parse_manifest(raw: bytes) -> Manifest:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BackupError(_("The backup's manifest is damaged (not JSON).")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(_("This file is not a Tend backup (its manifest is not Tend's)."))
    version = data.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise BackupError(_("The backup's manifest is damaged (no format version)."))
    if version > FORMAT_VERSION:
        raise BackupError(
            _(
                "This backup was written in format %(found)d by a newer Tend; this Tend reads "
                "format %(known)d. Restore it with the Tend version that wrote it (%(tend)s)."
            )
            % {"found": version, "known": FORMAT_VERSION, "tend": data.get("tend_version", "?")}
        )
    raw_members = data.get("members")
    database = data.get("database")
    migrations = data.get("migrations")
    if (
        not isinstance(raw_members, list)
        or not isinstance(database, dict)
        or not isinstance(migrations, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in migrations.items())
    ):
        raise BackupError(_("The backup's manifest is damaged (fields missing)."))
    members = []
    seen = set()
    for item in raw_members:
        if not isinstance(item, dict):
            raise BackupError(_("The backup's manifest is damaged (a file entry is not valid)."))
        name, size, sha = item.get("name"), item.get("size"), item.get("sha256")
        if not safe_name(name):
            raise BackupError(
                _("The backup names a file outside its folders (%(name)s): refused.")
                % {"name": str(name)[:200]}
            )
        if type(size) is not int or size < 0 or not isinstance(sha, str) or not _SHA256.match(sha):
            raise BackupError(_("The backup's manifest is damaged (a file entry is not valid)."))
        if name in seen:
            raise BackupError(_("The backup lists a file twice (%(name)s).") % {"name": name})
        seen.add(name)
        members.append(Member(name=str(name), size=size, sha256=sha))
    if database.get("member") not in seen:
        raise BackupError(_("The backup's manifest is damaged (it names no database file)."))
    return Manifest(data=data, members=members)


def read_archive(
    path: Path,
    *,
    passphrase: str = "",
    into: Path | None = None,
    on_manifest: Callable[[Manifest], None] | None = None,
) -> Manifest:
    """Read and check the whole backup at ``path``; with ``into``, extract its members there
    (a new, empty folder). ``on_manifest`` runs once the manifest is read, before any member
    is, and may refuse by raising BackupError. Raises BackupError with the reason."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise BackupError(
            _("Cannot open %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
        ) from None
    with fh:
        head = fh.read(8)
        fh.seek(0)
        source: Any
        if is_encrypted(head):
            if not passphrase:
                raise BackupError(
                    _(
                        "This backup is encrypted: give its passphrase with --passphrase-file "
                        "or the TEND_BACKUP_PASSPHRASE environment variable."
                    )
                )
            source = DecryptingReader(fh, passphrase)
        elif head.startswith(_GZIP_MAGIC):
            source = fh
        else:
            raise BackupError(
                _("%(path)s is not a Tend backup (it is neither encrypted by Tend nor a tar.gz).")
                % {"path": path.name}
            )
        try:
            return _read(source, into=into, on_manifest=on_manifest)
        except DecryptError as exc:
            if exc.reason == "passphrase":
                raise BackupError(
                    _("The passphrase is wrong (or the backup's header is damaged).")
                ) from None
            raise BackupError(_damaged(truncated=exc.reason == "truncated")) from None
        except BackupError:
            raise
        except (ValueError, OSError) as exc:
            # tarfile and gzip raise these on some malformed headers.
            raise BackupError(
                _("The backup is damaged (%(error)s): refused.") % {"error": str(exc)[:200]}
            ) from None
        except (EOFError, tarfile.ReadError, gzip.BadGzipFile, zlib.error) as exc:
            truncated = isinstance(exc, EOFError) or "unexpected end" in str(exc)
            raise BackupError(_damaged(truncated=truncated)) from None


def _damaged(*, truncated: bool) -> str:
    if truncated:
        return _("The backup is truncated (the file ends too early): refused.")
    return _("The backup is damaged or truncated (its data does not check out): refused.")


def _read(
    source: Any, *, into: Path | None, on_manifest: Callable[[Manifest], None] | None
) -> Manifest:
    with (
        gzip.GzipFile(fileobj=source, mode="rb") as gz,
        tarfile.open(fileobj=gz, mode="r|") as tar,
    ):
        return _read_tar(gz, tar, into=into, on_manifest=on_manifest)


def _read_tar(
    gz: gzip.GzipFile,
    tar: tarfile.TarFile,
    *,
    into: Path | None,
    on_manifest: Callable[[Manifest], None] | None,
) -> Manifest:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isreg():
        raise BackupError(_("This file is not a Tend backup (it has no manifest)."))
    if first.size > MAX_MANIFEST_BYTES:
        raise BackupError(_("The backup's manifest is too large: refused."))
    manifest = parse_manifest(_read_member(tar, first))
    if on_manifest is not None:
        on_manifest(manifest)
    if into is not None:
        free = shutil.disk_usage(into).free
        if manifest.total_size + DISK_MARGIN > free:
            raise BackupError(
                _(
                    "Restoring needs %(need)d MB free next to the target and only %(free)d MB "
                    "are: refused."
                )
                % {"need": (manifest.total_size + DISK_MARGIN) >> 20, "free": free >> 20}
            )
    expected = iter(manifest.members)
    while (info := tar.next()) is not None:
        member = next(expected, None)
        if not info.isreg() or info.issparse():
            raise BackupError(
                _("The backup holds a link or special file (%(name)s): refused.")
                % {"name": info.name[:200]}
            )
        if not safe_name(info.name):
            raise BackupError(
                _("The backup names a file outside its folders (%(name)s): refused.")
                % {"name": info.name[:200]}
            )
        if member is None or info.name != member.name:
            raise BackupError(
                _("The backup holds a file its manifest does not list (%(name)s): refused.")
                % {"name": info.name[:200]}
            )
        if info.size != member.size:
            raise BackupError(
                _("The size of %(name)s is not the one in the manifest: the backup is damaged.")
                % {"name": member.name}
            )
        _copy_member(tar, info, member, into)
    missing = next(expected, None)
    if missing is not None:
        raise BackupError(
            _("%(name)s is missing from the backup: it is truncated or damaged.")
            % {"name": missing.name}
        )
    # Read to the end: the gzip checksum and, when encrypted, the last chunk's tag are checked
    # only there (a file cut after the tar's end marker is refused too).
    trailing = 0
    while chunk := gz.read(COPY_CHUNK):
        trailing += len(chunk)
        if trailing > MAX_TRAILING_BYTES:
            raise BackupError(_("The backup has unexpected data after its end: refused."))
    return manifest


def _read_member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    fh = tar.extractfile(info)
    if fh is None:
        raise BackupError(_damaged(truncated=False))
    data = fh.read()
    if len(data) != info.size:
        raise BackupError(_damaged(truncated=True))
    return data


def _copy_member(
    tar: tarfile.TarFile, info: tarfile.TarInfo, member: Member, into: Path | None
) -> None:
    fh = tar.extractfile(info)
    if fh is None:
        raise BackupError(_damaged(truncated=False))
    digest = hashlib.sha256()
    out = None
    if into is not None:
        target = into.joinpath(*PurePosixPath(member.name).parts)
        # safe_name already excludes "..", absolute names and backslashes; check anyway.
        if not target.resolve().is_relative_to(into.resolve()):
            raise BackupError(_("The backup names a file outside its folders: refused."))
        private_dir(target.parent)
        out = open_private(target, "xb")
    size = 0
    try:
        while chunk := fh.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
    finally:
        if out is not None:
            out.close()
    if size != member.size:
        raise BackupError(_damaged(truncated=True))
    if digest.hexdigest() != member.sha256:
        raise BackupError(
            _("The checksum of %(name)s does not match its manifest: the backup is damaged.")
            % {"name": member.name}
        )
