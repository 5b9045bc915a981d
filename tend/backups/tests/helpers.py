"""Shared by the backup tests: a filled database, row dumps of every table, a `tend` process
pointed at another database and data folder, and hand-made archives."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from django.apps import apps
from django.db import connection
from django.utils import timezone

from tend.accounts.actions import apikey_create, user_create
from tend.accounts.models import Role
from tend.activity.models import Event
from tend.billing.actions import order_create
from tend.customers.actions import customer_add_note, customer_set_tags
from tend.factories import make_contact, make_customer, make_plan, make_subscription
from tend.goals.actions import goal_create
from tend.ingest.imports.actions import import_store
from tend.ingest.imports.models import Import
from tend.jobs.models import ScheduledRun
from tend.jobs.pipeline import pipeline_run
from tend.messaging.actions import suppression_add, webhook_endpoint_create
from tend.segments.actions import segment_create
from tend.tasks.actions import task_create

PASSPHRASE = "correct horse battery staple"
END = datetime(2026, 11, 30, tzinfo=UTC).date()


def fill(data_dir: Path) -> None:
    """Users, an API key, customers with contacts, subscriptions, orders and events, tasks, a
    segment, a goal, a webhook endpoint, the daily pipeline over it all, and an uploaded
    import file with its Import row: most of Tend's tables get rows."""
    owner = user_create(
        username="olivia", password=PASSPHRASE, role=Role.OWNER, email="o@example.com"
    )
    apikey_create(name="ci", kind="read_write", by=owner)
    plans = [make_plan("starter", "19"), make_plan("pro", "49")]
    start = timezone.now() - timedelta(days=60)
    events = []
    for n in range(8):
        customer = make_customer(name=f"Customer {n} 客户 ✓" if n == 0 else None)
        make_contact(customer)
        make_subscription(customer, plans[n % 2], at=start + timedelta(days=n))
        order_create(customer=customer, by=owner, amount=Decimal("12.50"), at=start)
        events += [
            Event(
                customer=customer,
                name="Logged In",
                timestamp=start + timedelta(days=d),
                message_id=f"m{n}-{d}",
                properties={"n": d, "text": "naïve 名字"},
            )
            for d in range(0, 50, 7)
        ]
        task_create(title=f"Call {n}", by=owner, customer=customer, due_on=END)
        customer_set_tags(customer=customer, tags=["vip", f"t{n % 3}"], by=owner)
        customer_add_note(customer=customer, by=owner, body=f"Called {n} — 已联系")
    Event.objects.bulk_create(events)
    segment_create(by=owner, name="Everyone")
    goal_create(by=owner, metric="mrr", target=1000)
    webhook_endpoint_create(name="hook", url="https://hooks.example.com/tend", by=owner)
    pipeline_run(as_of=timezone.now().date())
    ScheduledRun.objects.create(name="backup", due_at=start, task_id="t")
    suppression_add(email="gone@example.com", reason="unsubscribed", by=owner)
    upload = data_dir / "upload.csv"
    upload.write_text("email,name\nz@example.com,Zoë\n", encoding="utf-8")
    stored = import_store(source=upload, file_name="customers.csv")
    upload.unlink()
    Import.objects.create(kind="customers", file_name="customers.csv", path=str(stored))


def tables() -> list[tuple[str, str]]:
    """(table, primary key column) of every model and every many-to-many table."""
    found = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        found[meta.db_table] = meta.pk.column
    return sorted(found.items())


def dump_sqlite(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            table: db.execute(f'SELECT * FROM "{table}" ORDER BY "{pk}"').fetchall()
            for table, pk in tables()
        }
    finally:
        db.close()


def pg_url(name: str) -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    return f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


def dump_postgres(name: str) -> dict[str, list[tuple[Any, ...]]]:
    db = connection.settings_dict
    with psycopg.connect(
        dbname=name,
        user=db.get("USER") or "postgres",
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        password=db.get("PASSWORD") or None,
    ) as conn:
        return {
            table: conn.execute(f'SELECT * FROM "{table}" ORDER BY "{pk}"').fetchall()
            for table, pk in tables()
        }


def dump_source() -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the test database, as another connection sees it (committed rows)."""
    if connection.vendor == "sqlite":
        return dump_sqlite(Path(connection.settings_dict["NAME"]))
    return dump_postgres(connection.settings_dict["NAME"])


@contextmanager
def empty_postgres(suffix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database next to the test one, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_{suffix}"[:63]
    db = connection.settings_dict
    kwargs = {
        "user": db.get("USER") or "postgres",
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        "password": db.get("PASSWORD") or None,
        "autocommit": True,
    }
    with psycopg.connect(dbname="postgres", **kwargs) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(dbname="postgres", **kwargs) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def empty_target(tmp_path: Path, suffix: str) -> Iterator[tuple[Path, str, Any]]:
    """(data folder, database URL, dump function) of an empty Tend elsewhere."""
    data_dir = tmp_path / f"target-{suffix}"
    if connection.vendor == "sqlite":
        url = f"sqlite:///{data_dir / 'tend.sqlite3'}"
        yield data_dir, url, lambda: dump_sqlite(data_dir / "tend.sqlite3")
    else:
        with empty_postgres(suffix) as name:
            yield data_dir, pg_url(name), lambda: dump_postgres(name)


def tend(
    *args: str, data_dir: Path, database_url: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``tend ARGS`` in a new process with its own data folder and database."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTEST_CURRENT_TEST", "TEND_BACKUP_PASSPHRASE", "TEND_SECRET_KEY"}
    }
    environment.update({"TEND_DATA_DIR": str(data_dir), "TEND_DATABASE_URL": database_url, **env})
    return subprocess.run(
        [sys.executable, "-m", "tend.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def target_tables(database_url: str, data_dir: Path) -> list[str]:
    """The tables in a target database (none: it was left empty)."""
    if database_url.startswith("sqlite"):
        path = data_dir / "tend.sqlite3"
        if not path.exists():
            return []
        db = sqlite3.connect(path)
        try:
            return [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        finally:
            db.close()
    name = database_url.rsplit("/", 1)[1]
    db = connection.settings_dict
    with psycopg.connect(
        dbname=name,
        user=db.get("USER") or "postgres",
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        password=db.get("PASSWORD") or None,
    ) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
            "'information_schema')"
        ).fetchall()
    return [r[0] for r in rows]


def files_under(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


# --- hand-made archives ---------------------------------------------------------------------


def read_members(path: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(path, "r:gz") as tar:
        return [(info, tar.extractfile(info).read()) for info in tar.getmembers()]  # type: ignore[union-attr]


def write_members(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    path.write_bytes(gzip.compress(buffer.getvalue()))
    return path


def with_manifest(path: Path, target: Path, change: Any) -> Path:
    """A copy of the backup at ``path`` whose manifest went through ``change(dict)``."""
    members = read_members(path)
    manifest = json.loads(members[0][1])
    change(manifest)
    members[0] = (members[0][0], json.dumps(manifest).encode())
    return write_members(target, members)


def entry(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
