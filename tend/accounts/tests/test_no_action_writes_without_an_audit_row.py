"""A static net under the audit log: every public function in a ``tend/*/actions.py`` module
(and the other write modules listed below) that writes rows must call ``audit_record`` (or a
bulk audit writer), directly or through another function of its module — unless it is
listed in ``NOT_AUDITED`` with the reason. A new action that forgets its audit row fails here.
The runtime check, with addresses and customers, is test_audit_records_every_write_action."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(
    {
        *ROOT.glob("*/actions.py"),
        *ROOT.glob("*/*_actions.py"),
        ROOT / "health" / "scorecards.py",
        ROOT / "customers" / "channels.py",
        ROOT / "ingest" / "imports" / "actions.py",
        ROOT / "predict" / "retention.py",  # lifetime_fit (customer lifetime)
    }
)
WRITES = re.compile(
    r"\.(save|delete|bulk_create|bulk_update|update_or_create|get_or_create)\(|"
    r"objects\.(create|update)\(|\)\.update\(|insert_rows\("
)
AUDITS = re.compile(r"audit_record|audit_record_bulk|_bulk_record\(")

# Writes that are bookkeeping, not someone's change: derived data the worker recomputes,
# counters, cursors, and helpers whose callers write the audit row.
NOT_AUDITED = {
    "accounts.apikey_authenticate": "touches last_used_at at most once a minute",
    "activity.rollups_rebuild": "derived daily rollups",
    "activity.rollups_increment": "derived daily rollups",
    "activity.rollups_add_stored": "derived daily rollups",
    "activity.customers_touch": "last-seen stamps from tracked events",
    "backups.backup_restore": "replaces the whole database with the backup's rows: an audit row "
    "would break the identical-rows promise (docs/backups.md)",
    "billing.customer_mrr_sync": "called by the subscription actions, which audit",
    "changes.changes_consume": "a consumer's cursor",
    "customers.timeline_add": "the timeline itself; callers audit",
    "customers.channels_seed_defaults": "built-in rows on an empty table (like the migration)",
    "goals.goals_evaluate": "derived goal results",
    "goals.goal_alerts_notify": "alerts sent (messaging outbox)",
    "lifecycle.stage_override_set": "called by customer_set_stage_by_hand, which audits",
    "ratelimit.counters_prune": "rate-limit counters",
    "today.today_owners_refresh": "denormalised owner copy on Today items",
    "imports.import_create": "an uploaded file waiting; import.start/import.run audit",
    "imports.import_claim": "worker claim",
    "imports.import_run": "import.run row written at its end (_end)",
    "imports.imports_interrupt_stale": "audits each interrupted import",
}


def _functions(path: Path) -> dict[str, str]:
    src = path.read_text("utf-8")
    tree = ast.parse(src)
    return {
        n.name: ast.get_source_segment(src, n) or ""
        for n in tree.body
        if isinstance(n, ast.FunctionDef)
    }


def _reaches(
    pattern: re.Pattern[str], name: str, funcs: dict[str, str], seen: set[str], app: str
) -> bool:
    """Whether ``name`` matches ``pattern`` itself or through a function of its module (not
    through one listed in NOT_AUDITED)."""
    if name in seen or (seen and f"{app}.{name}" in NOT_AUDITED):
        return False
    seen.add(name)
    body = funcs[name]
    if pattern.search(body):
        return True
    return any(
        _reaches(pattern, other, funcs, seen, app)
        for other in funcs
        if other != name and re.search(rf"\b{other}\(", body)
    )


def _unaudited() -> list[str]:
    out = []
    for path in MODULES:
        funcs = _functions(path)
        for name in funcs:
            if name.startswith("_") or f"{path.parent.name}.{name}" in NOT_AUDITED:
                continue
            app = path.parent.name
            writes = _reaches(WRITES, name, funcs, set(), app)
            if writes and not _reaches(AUDITS, name, funcs, set(), app):
                out.append(f"{path.relative_to(ROOT)}:{name}")
    return out


def test_the_modules_are_found():
    assert len(MODULES) >= 15


@pytest.mark.parametrize("entry", sorted(NOT_AUDITED))
def test_every_exception_still_names_a_function_that_exists(entry):
    app, name = entry.split(".")
    assert any(name in _functions(path) for path in MODULES if path.parent.name == app), (
        f"{entry} is listed in NOT_AUDITED but no longer exists: remove it"
    )


def test_no_action_writes_without_an_audit_row():
    assert _unaudited() == [], (
        "These functions write rows but record no audit row: call audit_record (or a bulk "
        "audit writer), or list them in NOT_AUDITED with the reason."
    )
