"""Privacy entry of lifecycle: a stage a person chose by hand, and why."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from tend.lifecycle.models import StageOverride
from tend.privacy.registry import ANONYMISE, PrivacyEntry, privacy
from tend.privacy.scrub import customer_rows


def register() -> None:
    privacy.register(
        PrivacyEntry(
            name="stage-override",
            description=_("A lifecycle stage set by hand, by whom, when and the reason given."),
            models=("lifecycle.StageOverride",),
            **customer_rows(StageOverride),
            erase=lambda c, ctx: (
                StageOverride.objects.filter(customer=c).exclude(reason="").update(reason="")
            ),
            on_erase=ANONYMISE,
            order=800,
        )
    )
