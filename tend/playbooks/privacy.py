"""Privacy entry of playbooks: the customer's runs and what each step did."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _

from tend.customers.models import Contact, Customer
from tend.playbooks.models import PlaybookRun, RunStatus, RunStep
from tend.privacy.registry import ANONYMISE, PrivacyEntry, privacy
from tend.privacy.scrub import ErasureContext, model_rows, scrub_rows


def _rows(customer: Customer) -> Iterator[dict[str, Any]]:
    runs = PlaybookRun.objects.filter(customer=customer)
    for row in model_rows(runs):
        yield {"record": "run", **row}
    for row in model_rows(RunStep.objects.filter(run__in=runs.values("pk"))):
        yield {"record": "step", **row}


def _erase(customer: Customer, ctx: ErasureContext) -> int:
    """Runs stay (a playbook's results count them), scrubbed; running ones stop."""
    runs = PlaybookRun.objects.filter(customer=customer)
    runs.filter(status__in=[RunStatus.ACTIVE, RunStatus.PAUSED]).update(
        status=RunStatus.CANCELED, next_at=None, claimed_until=None, claim_token=""
    )
    changed = runs.update(context={})
    changed += scrub_rows(ctx, runs, ["last_error"])
    changed += scrub_rows(
        ctx, RunStep.objects.filter(run__in=runs.values("pk")), ["detail", "error"]
    )
    return changed


def _erase_contact(contact: Contact, ctx: ErasureContext) -> int:
    runs = PlaybookRun.objects.filter(customer_id=contact.customer_id)
    return scrub_rows(ctx, runs, ["context", "last_error"]) + scrub_rows(
        ctx, RunStep.objects.filter(run__in=runs.values("pk")), ["detail", "error"]
    )


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="playbook-runs",
            description=_("Playbooks the customer went through and what each step did."),
            models=("playbooks.PlaybookRun", "playbooks.RunStep"),
            export=_rows,
            erase=_erase,
            erase_contact=_erase_contact,
            count=lambda c: PlaybookRun.objects.filter(customer=c).count(),
            on_erase=ANONYMISE,
            order=300,
        )
    )
