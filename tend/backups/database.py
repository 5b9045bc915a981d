"""The database part of a backup: a consistent snapshot, an emptiness check, and the restore.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies every page in one step
from a read transaction, so the copy is one consistent state even while the web process and a
worker write (in WAL mode readers and writers do not block each other). PostgreSQL:
``pg_dump --format=custom`` (one snapshot, compressed) and ``pg_restore --no-owner`` into an
empty database. Connection settings go to pg_dump and pg_restore through PG* environment
variables, never on their command line (which other users of the machine can read).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

from tend.backups.archive import BackupError
from tend.lib.private import private_file

PG_DUMP = os.environ.get("TEND_PG_DUMP", "") or shutil.which("pg_dump") or "/usr/bin/pg_dump"
PG_RESTORE = (
    os.environ.get("TEND_PG_RESTORE", "") or shutil.which("pg_restore") or "/usr/bin/pg_restore"
)
DUMP_NAMES = {"sqlite": "database/tend.sqlite3", "postgresql": "database/tend.pgdump"}


def vendor(alias: str = "default") -> str:
    return str(connections[alias].vendor)


def migration_state(alias: str = "default") -> dict[str, str]:
    """The latest applied migration of each app ({"customers": "0008_…"})."""
    applied = MigrationRecorder(connections[alias]).applied_migrations()
    latest: dict[str, str] = {}
    for app, name in applied:
        if name > latest.get(app, ""):
            latest[app] = name
    return dict(sorted(latest.items()))


def unknown_migrations(state: dict[str, str]) -> list[str]:
    """Migrations of ``state`` that this code does not have: the backup is from a newer Tend
    (or from an install with apps this one lacks)."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [f"{app} {name}" for app, name in sorted(state.items()) if (app, name) not in known]


def newest_migrations() -> dict[str, str]:
    """The last migration of each app in this code."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return dict(graph.leaf_nodes())


def table_names(alias: str = "default") -> list[str]:
    """Every table of the database (Tend's or not); an empty database has none."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


# --- snapshot -------------------------------------------------------------------------------


def snapshot(target: Path, alias: str = "default") -> None:
    """Write a consistent copy of the database to ``target`` (a new file)."""
    connection = connections[alias]
    if connection.vendor == "sqlite":
        _sqlite_snapshot(Path(connection.settings_dict["NAME"]), target)
    elif connection.vendor == "postgresql":
        _run_pg(
            [PG_DUMP, "--format=custom", "--compress=6", "--file", str(target)],
            connection.settings_dict,
            what="pg_dump",
        )
    else:  # pragma: no cover - settings allow only these two
        raise BackupError(_("Backups support SQLite and PostgreSQL only."))


def _read_only(path: Path) -> str:
    """A read-only SQLite URI for ``path`` (quoted: a path may hold "?" or "#")."""
    return f"file:{quote(str(path.absolute()))}?mode=ro"


def _sqlite_snapshot(source: Path, target: Path) -> None:
    private_file(target)
    src = sqlite3.connect(_read_only(source), uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)  # all pages in one step: one consistent read transaction
            # One self-contained file: the copy keeps no WAL of its own.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """The PG* environment for pg_dump / pg_restore (the password never goes in argv)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {
        "PGHOST": settings_dict.get("HOST") or "",
        "PGPORT": str(settings_dict.get("PORT") or ""),
        "PGUSER": settings_dict.get("USER") or "",
        "PGPASSWORD": settings_dict.get("PASSWORD") or "",
        "PGDATABASE": settings_dict.get("NAME") or "",
    }
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("passfile", "PGPASSFILE"),
        ("service", "PGSERVICE"),
    ):
        if options.get(option):
            values[variable] = str(options[option])
    env.update({k: v for k, v in values.items() if v})
    return env


def _run_pg(args: list[str], settings_dict: dict[str, Any], *, what: str) -> None:
    try:
        done = subprocess.run(
            args,
            env=pg_env(settings_dict),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise BackupError(
            _("Cannot run %(program)s (%(error)s); install the PostgreSQL client tools.")
            % {"program": args[0], "error": exc.strerror}
        ) from None
    if done.returncode != 0:
        # pg_dump's and pg_restore's own messages: they name the problem, never the password.
        raise BackupError(
            _("%(program)s failed: %(error)s")
            % {"program": what, "error": done.stderr.strip()[-2000:]}
        )


# --- restore --------------------------------------------------------------------------------


def load(dump: Path, alias: str = "default") -> None:
    """Put the database of a backup in place of the (empty) database ``alias``."""
    connection = connections[alias]
    connection.close()
    if connection.vendor == "sqlite":
        _sqlite_replace(dump, Path(connection.settings_dict["NAME"]))
    else:
        _run_pg(
            [
                PG_RESTORE,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
                str(connection.settings_dict["NAME"]),
                str(dump),
            ],
            connection.settings_dict,
            what="pg_restore",
        )


def _sqlite_replace(dump: Path, target: Path) -> None:
    check = sqlite3.connect(_read_only(dump), uri=True)
    try:
        result = check.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(_("The database in the backup is not readable: %s") % exc) from None
    finally:
        check.close()
    if not result or result[0] != "ok":
        raise BackupError(_("The database in the backup fails SQLite's check: %s") % result)
    # The target is empty (checked before); its -wal and -shm would be applied to the new file.
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    staged = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(dump, staged)
    os.chmod(staged, 0o600)
    with staged.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(staged, target)
