"""``tend changes react|list``: consumers run from the command line, changes are listed."""

from __future__ import annotations

from collections.abc import Sequence
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tend.changes.consumers import Consumer, consumers
from tend.changes.models import CustomerChange
from tend.customers.actions import customer_add_note, customer_change_stage
from tend.factories import make_customer

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("changes", *args, stdout=out)
    return out.getvalue()


def test_react_hands_each_consumer_its_changes_once() -> None:
    seen: list[str] = []

    def handle(rows: Sequence[CustomerChange]) -> None:
        seen.extend(row.kind for row in rows)

    customer = make_customer(stage="trial")
    customer_change_stage(customer=customer, stage="onboarding", by=None)
    consumers.register(Consumer("test-stage-watcher", ("stage",), handle))
    try:
        out = run("react")
        assert "test-stage-watcher: 1 changes handled" in out
        assert seen == ["stage"]
        assert "test-stage-watcher: 0 changes handled" in run("react")
    finally:
        consumers.unregister("test-stage-watcher")


def test_list_shows_the_latest_changes_of_one_customer(owner) -> None:  # type: ignore[no-untyped-def]
    acme = make_customer("Acme", stage="trial")
    other = make_customer("Other")
    customer_change_stage(customer=acme, stage="onboarding", by=owner)
    customer_add_note(customer=acme, by=owner, body="hello")
    out = run("list", "--customer", str(acme.pk))
    assert "Acme" in out and "Other" not in out
    lines = [line for line in out.splitlines() if "│" in line and "Acme" in line]
    assert [line.split("│")[4].strip() for line in lines] == ["note", "stage", "created"]
    assert '"manual": true' in out
    only = run("list", "--kind", "created", "--limit", "1")
    assert "Other" in only and "Acme" not in only
    assert other.pk


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customer", "abc"], "--customer: “abc” is not a whole number"),
        (["--customer", "999999"], "--customer: there is no customer with id 999999"),
        (["--limit", "0"], "--limit: give a number from 1 to 10000"),
        (["--limit", "1e9"], "--limit: “1e9” is not a whole number"),
    ],
)
def test_bad_options_are_refused_naming_the_option(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("list", *args)


def test_an_empty_outbox_says_so() -> None:
    assert run("list") == "No changes recorded.\n"
