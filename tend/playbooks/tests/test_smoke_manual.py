import pytest

from tend.customers.models import TimelineEntry
from tend.factories import make_customer
from tend.playbooks.actions import playbook_create, playbook_set_status, playbook_start
from tend.playbooks.engine import runs_advance
from tend.playbooks.models import RunStatus

pytestmark = pytest.mark.django_db


def test_manual_note_and_stage(owner):
    c = make_customer()
    pb = playbook_create(
        by=owner,
        name="Hello",
        trigger="manual",
        steps=[
            {"id": "n1", "type": "note", "config": {"text": "Hi"}},
            {"id": "s1", "type": "stage", "config": {"stage": "at_risk"}},
        ],
    )
    playbook_set_status(playbook=pb, status="active", by=owner)
    assert playbook_start(playbook=pb, customers=[c], by=owner) == 1
    assert playbook_start(playbook=pb, customers=[c], by=owner) == 0
    assert runs_advance() == 3
    run = pb.runs.get()
    assert run.status == RunStatus.DONE
    c.refresh_from_db()
    assert c.stage == "at_risk"
    assert TimelineEntry.objects.filter(customer=c, kind="playbook").count() >= 2
