"""schemathesis over the REST API's own OpenAPI document (``/api/v1/openapi.json``), sent over
HTTP to the live server with an owner's read_write key, on the database the suite runs on.

Every operation gets schema-valid and schema-violating requests (examples, coverage and
fuzzing phases; a fixed seed and derandomized generation, so CI is stable). The checks: no
5xx, every status and body as documented, invalid input refused, and valid input accepted —
except a 422 whose every error is ``unknown`` (a well-formed name of nothing stored: a plan
code, a tag, a username) or ``range`` (values that are each valid but not together, such as
``start`` after ``end`` or a target outside its metric's range), which no OpenAPI document
can declare in advance.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tend.accounts.actions import apikey_create
from tend.api.main import openapi_schema
from tend.factories import make_contact, make_customer, make_plan
from tend.goals.actions import goal_create
from tend.messaging.models import EmailTemplate

# Refusals the document cannot predict; see the module docstring and docs/api.md.
# ``template``: an email template's text the sandbox refuses (tend.messaging.templating); any
# string is schema-valid, and which template constructs are allowed no schema can say.
# ``confirm``: an erasure's typed confirmation that is not the customer's (or contact's) name;
# ``personal_data``: an erasure reference holding an email address (tend/privacy/actions.py).
DATA_DEPENDENT = {"unknown", "range", "template", "confirm", "personal_data"}

CONFIG = SchemathesisConfig.from_str(
    """
seed = 20261206

[generation]
mode = "all"
max-examples = 6
deterministic = true
database = "none"
with-security-parameters = false
# NUL is refused in every string (a 422 with code null_character, tested on its own in
# tend/api/tests/test_hostile_input_is_a_field_error_never_a_500.py and stated in the
# document's description); JSON Schema has no word for "any string but NUL".
allow-x00 = false

[phases.stateful]
enabled = false

[checks]
# Replaced by valid_data_is_accepted below.
positive_data_acceptance.enabled = false
# Keys and roles on every operation are tend/tests/test_access_everywhere.py's and
# tend/api/tests/test_every_operation_needs_a_key_of_the_right_kind.py's; resending every
# request without the key would triple the run.
ignored_auth.enabled = false
missing_required_header.enabled = false
"""
)

schema = schemathesis.openapi.from_dict(openapi_schema(), config=CONFIG)


def _whole_float(case: Any, error: dict[str, Any]) -> bool:
    """True for a strict integer field sent as ``1291.0``: JSON Schema's ``integer`` admits
    it, Tend refuses it on purpose (docs/api.md, "Strict input"); no document can say so."""
    if error.get("code") != "int_type" or not isinstance(case.body, dict):
        return False
    value: Any = case.body
    for part in str(error.get("field") or "").split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False
    return isinstance(value, float) and value.is_integer()


@schemathesis.check
def valid_data_is_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, but a 422 naming only unknown things or ranges may pass."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code < 400:
        return None
    if response.status_code in (401, 403, 404, 409, 429) or response.status_code >= 500:
        return None  # credentials, missing ids, taken values; 5xx is not_a_server_error's
    try:
        errors = json.loads(response.content)["errors"]
        codes = {error["code"] for error in errors if not _whole_float(case, error)}
    except (ValueError, KeyError, TypeError):
        errors, codes = [], set()
    if response.status_code == 422 and errors and codes <= DATA_DEPENDENT:
        return None
    # The customers list's `condition` is JSON of the condition language inside a query
    # string: the document states its size and where its rules are, but JSON Schema cannot
    # describe them, so a generated string that is not a valid condition may be refused.
    if response.status_code == 422 and errors and _only_condition(errors):
        return None
    # A playbook's `steps`, `trigger_config` and `condition` follow rules that come from the
    # trigger and action registries and the condition language (GET /playbooks/catalog), not
    # from JSON Schema: their errors, with data-dependent ones beside them, may refuse a
    # schema-valid request.
    if (
        response.status_code == 422
        and errors
        and "/playbooks" in case.path
        and all(e.get("code") in DATA_DEPENDENT or _in_rule_language(e) for e in errors)
    ):
        return None
    # JSON Schema counts 5.0 as an integer; the API takes JSON integers only (docs/api.md),
    # and the document cannot say "not 5.0". A whole float refused as int_type is not a miss.
    if (
        response.status_code == 422
        and codes
        and codes <= DATA_DEPENDENT | {"int_type"}
        and _has_whole_float(case.body)
    ):
        return None
    raise AssertionError(
        f"Schema-valid request refused: {response.status_code} {response.content[:500]!r}"
    )


PLAYBOOK_RULES = ("steps", "trigger_config", "condition")


def _in_rule_language(error: dict[str, Any]) -> bool:
    field = str(error.get("field") or "")
    return any(field == n or field.startswith((f"{n}.", f"{n}[")) for n in PLAYBOOK_RULES)


def _only_condition(errors: list[dict[str, Any]]) -> bool:
    fields = [str(error.get("field") or "") for error in errors]
    return all(f == "condition" or f.startswith("condition.") for f in fields)


def _has_whole_float(value: Any) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, dict):
        return any(_has_whole_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_whole_float(v) for v in value)
    return False


@pytest.fixture
def owner_key(owner: Any) -> str:
    _key, raw = apikey_create(name="schemathesis", kind="read_write", by=owner)
    return raw


@pytest.fixture
def stored(owner: Any) -> dict[str, int]:
    """Objects whose ids replace generated ones in valid requests, so writes reach the database."""
    customer = make_customer(name="Acme")
    contact = make_contact(customer)
    goal = goal_create(by=owner, metric="logo_churn", target="2")
    plan = make_plan("pro")
    from tend.messaging.actions import suppression_add, webhook_endpoint_create
    from tend.messaging.models import Message, MessageStatus
    from tend.messaging.outbox import email_enqueue

    message = email_enqueue(key="schemathesis", to="ada@example.com", subject="s", text="t")
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED)
    suppression, _ = suppression_add(email="gone@example.com", reason="manual")
    endpoint, _secret = webhook_endpoint_create(name="CRM", url="https://crm.example/h", by=owner)
    template = EmailTemplate.objects.create(name="Hello", subject_en="Hi", body_en="Hello")
    return {
        "customer_id": customer.pk,
        "contact_id": contact.pk,
        "goal_id": goal.pk,
        "plan_id": plan.pk,
        "message_id": message.pk,
        "suppression_id": suppression.pk,
        "endpoint_id": endpoint.pk,
        "template_id": template.pk,
    }


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_the_api_answers_every_generated_request_as_its_document_says(
    case: Any, owner_key: str, stored: dict[str, int], live_server: Any
) -> None:
    meta = case.meta
    if meta is not None and meta.generation.mode.is_positive and case.path_parameters:
        for name, pk in stored.items():
            if name in case.path_parameters:
                case.path_parameters[name] = pk
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Bearer {owner_key}"},
        additional_checks=[valid_data_is_accepted],
    )
