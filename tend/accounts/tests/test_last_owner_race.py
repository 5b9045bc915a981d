"""Two owners demote each other at the same moment: exactly one succeeds, so there is always
an active owner left (the owners' rows are locked in one order before the check)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tend.accounts.actions import user_change_role, user_create, user_deactivate
from tend.accounts.models import Role, User
from tend.testing import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("how", ["demote", "deactivate"])
def test_two_owners_removing_each_other_at_once_leave_one_owner(how):
    a = user_create(username="ann", password=PASSWORD, role=Role.OWNER)
    b = user_create(username="bob", password=PASSWORD, role=Role.OWNER)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def remove(target: User, by: User) -> None:
        try:
            barrier.wait(timeout=30)
            if how == "demote":
                user_change_role(user=target, role=Role.MEMBER, by=by)
            else:
                user_deactivate(user=target, by=by)
            outcomes.append("done")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=remove, args=(b, a)),
        threading.Thread(target=remove, args=(a, b)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["done", "refused"]
    assert User.objects.filter(role=Role.OWNER, is_active=True).count() == 1
