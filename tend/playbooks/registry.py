"""The playbook trigger and action registries: what can start a playbook, what a step can do.

Apps register entries in ``AppConfig.ready()`` (this app registers the built-in ones; surveys,
loyalty, support and prediction add "survey answered", "points reached", "ticket breached",
"churn risk above"). The engine (tend.playbooks.engine) only reads these registries.

A trigger finds enrollments in one or more of three ways:
- ``kinds`` + ``match``: it reads the customer-change outbox (one consumer, "playbooks");
  ``match(config, change)`` returns the occurrence key (or None) for a change of those kinds.
- ``scan(config, now)``: the engine calls it on the "playbooks-scan" schedule for date-relative,
  recurring and event triggers; it yields (customer id, occurrence key, context) — the same key
  for the same occurrence on every call, so enrollment stays idempotent.
- manual: started from a customer or a segment (``manual`` True).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise

from tend.lib.registry import Registry

if TYPE_CHECKING:
    from tend.changes.models import CustomerChange
    from tend.customers.models import Customer
    from tend.playbooks.models import PlaybookRun


class ConfigError(ValueError):
    """A trigger's or step's settings are wrong; ``field`` names the setting (for forms and the
    API: ``steps[2].config.template``)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Setting:
    """One setting of a trigger or an action, described for forms (the editor draws a field
    per setting; ``clean`` stays the judge of what is valid)."""

    name: str  # key in trigger_config / step config
    label: str | Promise
    # "text" | "textarea" | "int" | "choice" | "template" | "tag" | "stage" | "segment"
    # | "endpoint" | "weekday" | "hour" | "country" | "user" | "condition" | "bool"
    kind: str
    required: bool = True
    choices: tuple[tuple[str, str | Promise], ...] = ()
    min: int | None = None
    max: int | None = None
    help: str | Promise = ""
    default: Any = None


@dataclass(frozen=True)
class Enrollment:
    customer_id: int
    occurrence: str
    context: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"holiday": "Spring Festival"}


@dataclass(frozen=True)
class Trigger:
    name: str
    label: str | Promise
    # Checks and normalises the settings (raises ConfigError naming the field).
    clean: Callable[[dict[str, Any]], dict[str, Any]]
    # One line in the reader's language ("Stage entered: At risk").
    describe: Callable[[dict[str, Any]], str]
    kinds: tuple[str, ...] = ()  # ChangeKind values read from the outbox
    match: Callable[[dict[str, Any], CustomerChange], str | None] | None = None
    scan: Callable[[dict[str, Any], datetime], Iterable[Enrollment]] | None = None
    manual: bool = False
    order: int = 100
    settings: tuple[Setting, ...] = ()
    # Dry run: the customers (ids, at most ``limit``) the trigger would enroll now (change
    # triggers: those currently in the state; date triggers: whose date falls in the next
    # days), with their occurrence keys.
    preview: Callable[[dict[str, Any], datetime, int], Iterable[Enrollment]] | None = None
    # What the trigger reacts to, for the loop guard: ("stage", "at_risk"), ("segment", "4").
    listens: Callable[[dict[str, Any]], Iterable[tuple[str, str]]] | None = None


@dataclass
class StepContext:
    """What an action sees when it runs: the run, its customer, the step's id and settings, and
    ``key`` — a stable id for this step of this run, to use as the unique key of anything it
    creates (a message, a task), so a retried step creates it once."""

    run: PlaybookRun
    customer: Customer
    step_id: str
    config: dict[str, Any]
    key: str
    dry_run: bool = False


@dataclass(frozen=True)
class Result:
    """What an action did: a message id with parameters (shown on the run and the timeline)."""

    msg: str
    params: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False


class StepFailed(Exception):
    """An action could not do its work. ``retry`` False: retrying cannot help (a deleted
    template); True: it may (an SMTP server that is down)."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Action:
    name: str
    label: str | Promise
    clean: Callable[[dict[str, Any]], dict[str, Any]]  # raises ConfigError naming the field
    describe: Callable[[dict[str, Any]], str]
    run: Callable[[StepContext], Result]  # raises StepFailed
    # What a dry run says this step would do for one customer (no writes).
    preview: Callable[[StepContext], str] | None = None
    order: int = 100
    settings: tuple[Setting, ...] = ()
    # What the action can make other playbooks react to, for the loop guard: pairs like
    # ("stage", "at_risk"), ("tag", "vip").
    effects: Callable[[dict[str, Any]], Iterable[tuple[str, str]]] | None = None


triggers: Registry[Trigger] = Registry("playbook trigger")
actions: Registry[Action] = Registry("playbook action")
