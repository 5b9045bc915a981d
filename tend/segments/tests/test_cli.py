"""``tend segments list|show|members|refresh`` through call_command."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from tend.segments.actions import segment_create
from tend.segments.tests.segment_helpers import BIG, customers, resize

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("segments", *args, stdout=out)
    return out.getvalue()


def test_list_show_and_members() -> None:
    big, _small = customers(120, 5)
    segment = segment_create(by=None, name="Big accounts", condition=BIG, description="Teams")

    listed = run("list")
    assert "Big accounts" in listed and str(segment.pk) in listed

    shown = run("show", str(segment.pk))
    assert "Rule: " in shown and '"field": "size"' in shown
    assert "Members: 1" in shown

    rows = list(csv.reader(io.StringIO(run("members", str(segment.pk), "--csv"))))
    assert rows[0] == ["customer_id", "name", "email", "stage", "mrr", "currency", "since"]
    assert [int(r[0]) for r in rows[1:]] == [big.pk]
    assert big.name in run("members", str(segment.pk))


def test_refresh_reports_moves_and_is_idempotent() -> None:
    _big, small = customers(120, 5)
    segment = segment_create(by=None, name="Big", condition=BIG)
    resize(small, 300)

    assert "Big: 1 entered, 0 left, 2 members" in run("refresh", "--segment", str(segment.pk))
    assert "Big: 0 entered, 0 left, 2 members" in run("refresh")
    assert "skipped" in run("refresh", "--as-of", "2000-01-01")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "999"), "no segment with id 999"),
        (("members", "999"), "no segment with id 999"),
        (("refresh", "--segment", "999"), "no segment with id 999"),
        (("refresh", "--as-of", "yesterday"), "YYYY-MM-DD"),
    ],
)
def test_mistakes_are_named(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)
