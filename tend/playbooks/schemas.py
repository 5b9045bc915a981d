"""Schemas of the playbooks REST API (tend/playbooks/api.py). Every bound the server enforces
is stated here, so the OpenAPI document says what is refused before it is sent."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from ninja import Field, Schema

from tend.api.parsing import MAX_DEPTH
from tend.api.schemas import (
    UNSET,
    Id,
    InputSchema,
    Page,
    PageParams,
    QueryId,
    QueryInt,
    StrictInt,
    UtcDatetime,
)
from tend.playbooks.forms import (
    MAX_DESCRIPTION,
    MAX_HOLDOUT,
    MAX_NAME,
    MAX_OUTCOME_DAYS,
    MAX_REENTRY_DAYS,
    MAX_STEPS,
)
from tend.playbooks.models import PlaybookStatus, Reentry, RunStatus

STEPS_DOC = (
    'Ordered steps: `{"id": "s1", "type": "<action>", "config": {…}}`; a branch is '
    '`{"type": "branch", "config": {"condition": {…}, "then": [steps], "else": [steps]}}`. '
    f"At most {MAX_STEPS} steps in all (branches' steps included); the whole request body nests "
    f"at most {MAX_DEPTH} levels. The settings of each action: `GET /playbooks/catalog`. "
    "An error names its path, e.g. `steps[2].config.template`."
)
CONDITION_DOC = (
    "Only customers matching this condition enter (the language shared with segments, "
    "docs/conditions.md); null for every customer. Errors name the path, e.g. "
    "`condition.all[1].op`."
)
TRIGGER_DOC = "A trigger name from `GET /playbooks/catalog`."
TRIGGER_CONFIG_DOC = (
    "The trigger's settings (see the catalog); errors name `trigger_config.<setting>`."
)

# Something besides blanks (Python's str.strip also strips \x1c-\x1f and \x85).
PlaybookName = Annotated[
    str, Field(min_length=1, max_length=MAX_NAME, pattern=r"[^\s\x1c-\x1f\x85]")
]
Description = Annotated[str, Field(max_length=MAX_DESCRIPTION)]
TriggerName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
ReentryName = Literal[tuple(Reentry.values)]  # type: ignore[valid-type]
StatusName = Literal[tuple(PlaybookStatus.values)]  # type: ignore[valid-type]
RunStatusName = Literal[tuple(RunStatus.values)]  # type: ignore[valid-type]
Steps = Annotated[list[dict[str, Any]], Field(max_length=MAX_STEPS, description=STEPS_DOC)]
ReentryDays = Annotated[StrictInt, Field(ge=0, le=MAX_REENTRY_DAYS)]
Holdout = Annotated[
    StrictInt,
    Field(ge=0, le=MAX_HOLDOUT, description="Share of entering customers held out, 0–90 %."),
]


class PlaybookOutcomeIn(InputSchema):
    kind: Literal["retention", "mrr", "event"] = Field(
        ...,
        description="`retention`: still a customer after `days`; `mrr`: MRR kept after `days`; "
        "`event`: did `event` within `days`.",
    )
    days: StrictInt = Field(30, ge=1, le=MAX_OUTCOME_DAYS)
    event: str = Field("", max_length=100, description="For `event`: the event name.")


class PlaybookIn(InputSchema):
    name: PlaybookName
    description: Description = ""
    trigger: TriggerName = Field(..., description=TRIGGER_DOC)
    trigger_config: dict[str, Any] = Field({}, description=TRIGGER_CONFIG_DOC)
    condition: dict[str, Any] | None = Field(None, description=CONDITION_DOC)
    steps: Steps
    reentry: ReentryName = Reentry.PER_OCCURRENCE  # type: ignore[valid-type]
    reentry_days: ReentryDays = 0
    holdout_percent: Holdout = 0
    outcome: PlaybookOutcomeIn | None = None


class PlaybookPatch(InputSchema):
    name: PlaybookName = UNSET
    description: Description = UNSET
    trigger: TriggerName = Field(UNSET, description=TRIGGER_DOC)
    trigger_config: dict[str, Any] = Field(UNSET, description=TRIGGER_CONFIG_DOC)
    condition: dict[str, Any] | None = Field(UNSET, description=CONDITION_DOC)
    steps: Steps = UNSET
    reentry: ReentryName = UNSET  # type: ignore[valid-type]
    reentry_days: ReentryDays = UNSET
    holdout_percent: Holdout = UNSET
    outcome: PlaybookOutcomeIn | None = UNSET


class PlaybookStatusIn(InputSchema):
    status: Literal["active", "paused", "archived", "draft"] = Field(
        ...,
        description="`active` switches a draft on (or resumes a paused one), `paused` pauses, "
        "`archived` archives (unfinished runs are canceled), `draft` restores an archived one.",
    )


class PlaybookStartIn(InputSchema):
    customer_ids: list[Id] = Field(
        [], max_length=1000, description="Customers to start it for (at most 1,000)."
    )
    segment_id: Id | None = Field(None, description="Or: every customer of this segment.")


class PlaybookStartOut(Schema):
    started: int = Field(..., description="Runs created (customers already in it are skipped).")


class PlaybookRunCounts(Schema):
    active: int
    paused: int
    done: int
    failed: int
    control: int


class PlaybookOut(Schema):
    id: int
    name: str
    description: str
    key: str = Field(..., description="The built-in template it came from, or empty.")
    status: str
    trigger: str
    trigger_text: str = Field(..., description="The trigger in words, in the caller's language.")
    trigger_config: dict[str, Any]
    condition: dict[str, Any] | None
    steps: list[dict[str, Any]]
    reentry: str
    reentry_days: int
    holdout_percent: int
    outcome: dict[str, Any]
    version: int = Field(..., description="+1 on every saved change.")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    enabled_at: UtcDatetime | None
    runs: PlaybookRunCounts | None = Field(None, description="In lists only.")
    last_run_at: UtcDatetime | None = Field(None, description="In lists only.")


class PlaybookPage(Page):
    items: list[PlaybookOut]


class PlaybookListParams(PageParams):
    status: StatusName | None = Field(None, description="Only playbooks with this status.")  # type: ignore[valid-type]


class PlaybookRunStepOut(Schema):
    step_id: str
    step_type: str
    outcome: str
    text: str = Field(..., description="What the step did, in the caller's language.")
    detail: dict[str, Any]
    error: str
    at: UtcDatetime


class PlaybookRunOut(Schema):
    id: int
    playbook_id: int
    customer_id: int
    customer_name: str
    occurrence: str
    group: str = Field(..., description="`treated` or `control`.")
    status: str
    position: list[str] = Field(..., description="Path to the next step (step ids, then/else).")
    current_step: str = Field(..., description="The next step in words, or empty.")
    next_at: UtcDatetime | None
    attempts: int
    last_error: str
    playbook_version: int
    started_at: UtcDatetime
    finished_at: UtcDatetime | None


class PlaybookRunDetailOut(PlaybookRunOut):
    steps: list[PlaybookRunStepOut]


class PlaybookRunPage(Page):
    items: list[PlaybookRunOut]


class PlaybookRunListParams(PageParams):
    playbook: QueryId | None = Field(None, description="Only runs of this playbook.")
    customer: QueryId | None = Field(None, description="Only runs of this customer.")
    status: RunStatusName | None = Field(None, description="Only runs with this status.")  # type: ignore[valid-type]


class PlaybookDryRunParams(Schema):
    limit: QueryInt = Field(50, ge=1, le=200, description="Customers listed, 1–200.")
    segment: QueryId | None = Field(
        None, description="Try it on every customer of this segment instead of the trigger's."
    )


class PlaybookDryRunStepOut(Schema):
    step_id: str
    type: str
    text: str = Field(..., description="What the step would do for this customer, in words.")


class PlaybookDryRunCustomer(Schema):
    customer_id: int
    customer_name: str
    occurrence: str
    group: str = Field(..., description="`control`: held out, no step would run.")
    steps: list[PlaybookDryRunStepOut]


class PlaybookDryRunOut(Schema):
    trigger: str = Field(..., description="The trigger in words.")
    candidates: int = Field(..., description="Customers the trigger (or segment) found.")
    not_matching: int = Field(..., description="Left out by the playbook's condition.")
    already: int = Field(..., description="Left out by the re-entry rule.")
    notes: list[str]
    customers: list[PlaybookDryRunCustomer] = Field(
        ..., description="Who would enter, at most `limit`."
    )


class PlaybookGalleryOut(Schema):
    key: str
    name: str
    description: str
    trigger: str
    trigger_text: str
    steps: list[str] = Field(..., description="The top-level steps in words.")
    installed_id: int | None = Field(..., description="The playbook installed from it, if any.")


class PlaybookSettingOut(Schema):
    name: str
    label: str
    kind: str = Field(
        ...,
        description="text, textarea, int, bool, choice, multichoice, date, json, or a pick list: "
        "template, tag, stage, segment, endpoint, weekday, hour.",
    )
    required: bool
    choices: list[dict[str, Any]]
    min: int | None
    max: int | None
    help: str
    default: Any = None


class PlaybookCatalogEntry(Schema):
    name: str
    label: str
    settings: list[PlaybookSettingOut] = Field(
        ..., description="Empty when the entry does not describe its settings."
    )
    manual: bool | None = Field(None, description="Triggers: started by hand.")


class PlaybookCatalogOut(Schema):
    triggers: list[PlaybookCatalogEntry]
    actions: list[PlaybookCatalogEntry]
