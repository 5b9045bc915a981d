"""First match wins; a stage set by hand sticks through the daily run until it is cleared; the
outbox consumer reacts to each change once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tend.changes.actions import change_record, consumer_position
from tend.changes.consumers import consumers, consumers_run
from tend.changes.models import CustomerChange
from tend.customers.models import Customer, Stage, StageChange
from tend.lifecycle.actions import (
    customer_set_stage_by_hand,
    rule_create,
    stage_override_clear,
)
from tend.lifecycle.engine import lifecycle_evaluate, lifecycle_pipeline_step
from tend.lifecycle.models import LifecycleRule, StageOverride
from tend.lifecycle.tests.helpers import (
    now,
    paying,
    record_manual_move,
    set_stage,
    skip_pending_changes,
)

pytestmark = pytest.mark.django_db

BIG = {"field": "mrr", "op": "gte", "value": 50}
ANY: dict[str, list[object]] = {"all": []}


def only_rules(*rules: tuple[str, dict[str, object], str]) -> list[LifecycleRule]:
    LifecycleRule.objects.all().delete()
    return [
        rule_create(by=None, name=name, condition=cond, stage=stage) for name, cond, stage in rules
    ]


def test_the_first_matching_rule_decides_even_when_a_later_one_also_matches() -> None:
    t = now()
    customer = paying("Both", days=100, at=t)
    only_rules(("big", BIG, Stage.EXPANSION), ("everyone", ANY, Stage.AT_RISK))
    lifecycle_evaluate(now=t)
    customer.refresh_from_db()
    assert customer.stage == Stage.EXPANSION


def test_a_first_match_naming_the_current_stage_holds_the_customer_there() -> None:
    t = now()
    customer = paying("Holder", days=100, at=t)
    set_stage(customer, Stage.RENEWAL_DUE)
    only_rules(("hold", BIG, Stage.RENEWAL_DUE), ("everyone", ANY, Stage.AT_RISK))
    assert lifecycle_evaluate(now=t).moved == 0
    customer.refresh_from_db()
    assert customer.stage == Stage.RENEWAL_DUE


def test_only_from_stages_limits_who_a_rule_may_move() -> None:
    t = now()
    trial = paying("Trial", days=100, at=t, stage=Stage.TRIAL)
    prospect = paying("Prospect", days=100, at=t, stage=Stage.PROSPECT)
    LifecycleRule.objects.all().delete()
    rule_create(by=None, name="r", condition=ANY, stage=Stage.ONBOARDING, from_stages=["trial"])
    lifecycle_evaluate(now=t)
    assert Customer.objects.get(pk=trial.pk).stage == Stage.ONBOARDING
    assert Customer.objects.get(pk=prospect.pk).stage == Stage.PROSPECT


def test_a_disabled_rule_is_skipped() -> None:
    t = now()
    customer = paying("Skip", days=100, at=t)
    first, _second = only_rules(("big", BIG, Stage.EXPANSION), ("everyone", ANY, Stage.AT_RISK))
    LifecycleRule.objects.filter(pk=first.pk).update(enabled=False)
    lifecycle_evaluate(now=t)
    customer.refresh_from_db()
    assert customer.stage == Stage.AT_RISK


def test_a_stage_set_by_hand_sticks_through_the_daily_run_until_cleared(owner: object) -> None:
    t = now()
    customer = paying("Hand", days=100, at=t)
    lifecycle_pipeline_step(date.today())
    customer.refresh_from_db()
    assert customer.stage == Stage.ESTABLISHED
    customer_set_stage_by_hand(customer=customer, stage=Stage.EXPANSION, by=owner)  # type: ignore[arg-type]
    result = lifecycle_pipeline_step(date.today())
    customer.refresh_from_db()
    assert customer.stage == Stage.EXPANSION
    assert result["overrides"] == 1
    assert stage_override_clear(customer=customer, by=owner) is True  # type: ignore[arg-type]
    customer.refresh_from_db()
    assert customer.stage == Stage.ESTABLISHED  # the rules apply again at once
    assert not StageOverride.objects.active().exists()
    assert stage_override_clear(customer=customer, by=owner) is False  # type: ignore[arg-type]


def test_a_manual_move_read_from_the_outbox_becomes_an_override_before_the_daily_run(
    owner: object,
) -> None:
    """Another app moved the customer by hand minutes ago; only the outbox row tells us."""
    t = now()
    customer = paying("Outbox", days=100, at=t)
    set_stage(customer, Stage.EXPANSION)
    record_manual_move(customer, to=Stage.EXPANSION, by_id=owner.pk, at=t)  # type: ignore[attr-defined]
    lifecycle_pipeline_step(date.today())
    customer.refresh_from_db()
    assert customer.stage == Stage.EXPANSION  # not reverted to established
    override = StageOverride.objects.get(customer=customer)
    assert override.by == owner and override.stage == Stage.EXPANSION


def test_a_manual_move_older_than_the_clearing_does_not_bring_the_override_back(
    owner: object,
) -> None:
    t = now()
    customer = paying("Late", days=100, at=t)
    customer_set_stage_by_hand(customer=customer, stage=Stage.AT_RISK, by=owner)  # type: ignore[arg-type]
    stage_override_clear(customer=customer, by=owner)  # type: ignore[arg-type]
    record_manual_move(customer, to=Stage.AT_RISK, by_id=owner.pk, at=t - timedelta(minutes=1))  # type: ignore[attr-defined]
    consumers_run()
    assert not StageOverride.objects.active().exists()


def test_the_consumer_reacts_to_a_change_exactly_once() -> None:
    assert "lifecycle" in consumers.names()
    t = now()
    customer = paying("Changed", days=100, at=t)
    set_stage(customer, Stage.TRIAL)
    skip_pending_changes()
    change_record(customer_id=customer.pk, kind="mrr", key="test:mrr:1", data={})
    consumers_run()
    customer.refresh_from_db()
    assert customer.stage == Stage.ESTABLISHED
    moves = StageChange.objects.filter(customer=customer).count()
    # Put the customer back: a second run must not see the same change again.
    set_stage(customer, Stage.TRIAL)
    consumers_run()
    customer.refresh_from_db()
    assert customer.stage == Stage.TRIAL
    assert StageChange.objects.filter(customer=customer).count() == moves
    assert consumer_position("lifecycle") == CustomerChange.objects.latest("id").id


def test_the_consumer_evaluates_only_the_changed_customers() -> None:
    t = now()
    changed = paying("Changed", days=100, at=t, stage=Stage.TRIAL)
    untouched = paying("Untouched", days=100, at=t, stage=Stage.TRIAL)
    skip_pending_changes()
    change_record(customer_id=changed.pk, kind="subscription", key="test:sub:1", data={})
    consumers_run()
    assert Customer.objects.get(pk=changed.pk).stage == Stage.ESTABLISHED
    assert Customer.objects.get(pk=untouched.pk).stage == Stage.TRIAL


def test_the_daily_pipeline_runs_the_lifecycle_step() -> None:
    from tend.jobs.models import PipelineStepRun
    from tend.jobs.pipeline import pipeline_run

    customer = paying("Piped", days=100, at=now(), stage=Stage.TRIAL)
    skip_pending_changes()
    (result,) = pipeline_run(only=["lifecycle"])
    assert result.counts["moved"] == 1 and result.counts["rules"] == 8
    assert PipelineStepRun.objects.get(step="lifecycle").counts["moved"] == 1
    assert Customer.objects.get(pk=customer.pk).stage == Stage.ESTABLISHED


def test_a_stage_changed_on_the_customer_page_becomes_an_override(
    owner: object, owner_client: object
) -> None:
    t = now()
    customer = paying("Page", days=100, at=t, stage=Stage.ESTABLISHED)
    skip_pending_changes()
    response = owner_client.post(  # type: ignore[attr-defined]
        f"/customers/{customer.pk}/stage/", {"stage": "expansion", "reason": "big deal"}
    )
    assert response.status_code == 302
    if not CustomerChange.objects.filter(customer=customer, kind="stage").exists():
        # Until the customers app writes its outbox rows: the row it will write.
        record_manual_move(customer, to=Stage.EXPANSION, by_id=owner.pk, at=t)  # type: ignore[attr-defined]
    consumers_run()
    override = StageOverride.objects.get(customer=customer)
    assert override.active and override.stage == Stage.EXPANSION and override.by == owner
    lifecycle_pipeline_step(date.today())
    assert Customer.objects.get(pk=customer.pk).stage == Stage.EXPANSION


def test_a_rule_naming_a_deleted_segment_is_skipped_and_the_others_still_run() -> None:
    from tend.segments.models import Segment

    t = now()
    customer = paying("Segmented", days=100, at=t, stage=Stage.TRIAL)
    segment = Segment.objects.create(
        name="Big", condition={"field": "mrr", "op": "gte", "value": 1}
    )
    LifecycleRule.objects.all().delete()
    rule_create(
        by=None,
        name="in big",
        condition={"field": "segment", "op": "eq", "value": segment.pk},
        stage=Stage.EXPANSION,
    )
    rule_create(by=None, name="everyone", condition=ANY, stage=Stage.ADOPTING)
    segment.delete()
    evaluation = lifecycle_evaluate(now=t)
    assert evaluation.outcomes[0].error and evaluation.outcomes[0].matched == 0
    assert Customer.objects.get(pk=customer.pk).stage == Stage.ADOPTING


def test_many_manual_moves_in_one_batch_become_overrides_in_a_few_statements() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    t = now()
    customers = [paying(f"Bulk {i}", days=100, at=t) for i in range(6)]
    skip_pending_changes()
    for customer in customers[:2]:
        record_manual_move(customer, to=Stage.AT_RISK, by_id=987654, at=t)  # a deleted user
    with CaptureQueriesContext(connection) as few:
        consumers_run()
    for customer in customers[2:]:
        record_manual_move(customer, to=Stage.AT_RISK, by_id=987654, at=t)
    with CaptureQueriesContext(connection) as many:
        consumers_run()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert StageOverride.objects.active().count() == 6
    assert not StageOverride.objects.filter(by__isnull=False).exists()
