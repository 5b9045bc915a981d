"""``tend playbooks``: every sub-command through call_command."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tend.factories import make_customer
from tend.playbooks.models import Playbook, RunStatus
from tend.segments.models import Segment, SegmentMember

pytestmark = pytest.mark.django_db


def tend(*args: str) -> str:
    out = StringIO()
    call_command("playbooks", *args, stdout=out)
    return out.getvalue()


def test_install_enable_start_dry_run_advance_runs(owner: Any) -> None:
    pytest.importorskip("tend.messaging.templating")  # contract 2, on its owner's branch
    assert "birthday" in tend("gallery")
    assert "as a draft" in tend("install", "birthday", "--user", owner.username)
    playbook = Playbook.objects.get(key="birthday")
    assert "Birthday greeting" in tend("list")
    assert "greet: Send email" in tend("show", str(playbook.pk))
    tend("enable", playbook.name)
    c = make_customer(email="")
    out = tend("dry-run", playbook.name)
    assert "Nothing was written" in out
    assert "Started 1 run(s)" in tend("start", playbook.name, "--customer", str(c.pk))
    assert "2 step(s) run." in tend("advance")  # the email (skipped: no address), the end
    assert RunStatus.DONE in tend("runs", playbook.name)
    tend("pause", playbook.name)
    tend("resume", playbook.name)
    tend("archive", str(playbook.pk))
    playbook.refresh_from_db()
    assert playbook.status == "archived"
    assert "run(s) started by scans" in tend("scan")


def test_start_on_a_segment_and_clear_errors() -> None:
    Playbook.objects.create(name="Hand", trigger="manual", status="active", steps=[])
    segment = Segment.objects.create(name="S", condition={})
    a, _b = make_customer(), make_customer()
    SegmentMember.objects.create(segment=segment, customer=a, since="2027-01-01")
    assert "Started 1 run(s)" in tend("start", "Hand", "--segment", str(segment.pk))
    with pytest.raises(CommandError, match="no playbook"):
        tend("show", "Nope")
    with pytest.raises(CommandError, match="--customer"):
        tend("start", "Hand", "--customer", "x1")
    with pytest.raises(CommandError, match="No built-in playbook"):
        tend("install", "nope")
    with pytest.raises(CommandError, match="not paused"):
        tend("resume", "Hand")
