"""Hostile input to the engine's writes: a PlaybookError naming the field, never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tend.playbooks.actions import PlaybookError, playbook_create
from tend.playbooks.models import Playbook

pytestmark = pytest.mark.django_db

text = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from(["\x00", "\ud800"]), max_size=30
)
scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | text
json = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "type",
                    "config",
                    "then",
                    "else",
                    "days",
                    "stage",
                    "template",
                    "tag",
                    "condition",
                    "field",
                    "op",
                    "value",
                    "weekday",
                    "hour",
                    "text",
                    "title",
                    "endpoint",
                ]
            )
            | text,
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)
step_types = st.sampled_from(
    ["note", "wait", "wait_until", "branch", "email", "task", "stage", "tag_add", "webhook", "nope"]
)
step = st.fixed_dictionaries(
    {"id": text | st.just("s1"), "type": step_types | text, "config": json}
)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=text,
    trigger=st.sampled_from(
        [
            "manual",
            "stage_entered",
            "holiday",
            "renewal",
            "recurring",
            "event",
            "segment_entered",
            "zzz",
        ]
    )
    | text,
    trigger_config=json,
    condition=json,
    steps=st.lists(step, max_size=4) | json,
    reentry=text | st.sampled_from(["once", "occurrence", "after_days"]),
    holdout=scalars,
)
def test_create_never_crashes(
    name: Any,
    trigger: Any,
    trigger_config: Any,
    condition: Any,
    steps: Any,
    reentry: Any,
    holdout: Any,
) -> None:
    before = Playbook.objects.count()
    try:
        playbook_create(
            by=None,
            name=name,
            trigger=trigger,
            trigger_config=trigger_config,
            condition=condition,
            steps=steps,
            reentry=reentry,
            holdout_percent=holdout,
        )
    except PlaybookError as exc:
        assert exc.errors and all(isinstance(f, str) and m for f, m in exc.errors)
        assert Playbook.objects.count() == before
    else:
        Playbook.objects.all().delete()
