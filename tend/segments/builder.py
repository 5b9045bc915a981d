"""What the rule builder (static/segments/builder.js) needs from the server, in the reader's
language: the field catalog, the operators' labels per field type, and its button texts."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tend.segments.conditions import condition_catalog

# Ops whose value is a number of days.
DAY_OPS = ("within_last", "more_than_days_ago", "within_next")


def operator_labels() -> dict[str, dict[str, str]]:
    """Each field type's operators as the builder's menu shows them."""
    empty = pgettext("condition operator", "is empty")
    not_empty = pgettext("condition operator", "is not empty")
    return {
        "number": {
            "eq": "=",
            "ne": "≠",
            "gt": ">",
            "gte": "≥",
            "lt": "<",
            "lte": "≤",
            "between": pgettext("condition operator", "is between"),
            "is_empty": empty,
            "is_not_empty": not_empty,
        },
        "text": {
            "eq": pgettext("condition operator", "is"),
            "ne": pgettext("condition operator", "is not"),
            "contains": pgettext("condition operator", "contains"),
            "not_contains": pgettext("condition operator", "does not contain"),
            "starts_with": pgettext("condition operator", "starts with"),
            "in": pgettext("condition operator", "is one of"),
            "is_empty": empty,
            "is_not_empty": not_empty,
        },
        "choice": {
            "eq": pgettext("condition operator", "is"),
            "ne": pgettext("condition operator", "is not"),
            "in": pgettext("condition operator", "is any of"),
            "not_in": pgettext("condition operator", "is none of"),
            "is_empty": empty,
            "is_not_empty": not_empty,
        },
        "date": {
            "before": pgettext("condition operator", "is before"),
            "on_or_after": pgettext("condition operator", "is on or after"),
            "between": pgettext("condition operator", "is between"),
            "within_last": pgettext("condition operator", "is in the last … days"),
            "more_than_days_ago": pgettext("condition operator", "is more than … days ago"),
            "within_next": pgettext("condition operator", "is in the next … days"),
            "is_empty": empty,
            "is_not_empty": not_empty,
        },
        "tags": {
            "has": pgettext("condition operator", "include"),
            "has_any": pgettext("condition operator", "include any of"),
            "has_all": pgettext("condition operator", "include all of"),
            "has_none": pgettext("condition operator", "include none of"),
            "is_empty": pgettext("condition operator", "are empty"),
            "is_not_empty": pgettext("condition operator", "are not empty"),
        },
        "bool": {
            "is_true": pgettext("condition operator", "is yes"),
            "is_false": pgettext("condition operator", "is no"),
        },
    }


def builder_texts() -> dict[str, Any]:
    """Every text builder.js writes into the page."""
    return {
        "ops": operator_labels(),
        "modes": {
            "all": _("All of these are true"),
            "any": _("Any of these is true"),
            "none": _("None of these is true"),
        },
        "types": {
            "number": pgettext("trait type", "number"),
            "text": pgettext("trait type", "text"),
            "bool": pgettext("trait type", "yes/no"),
            "date": pgettext("trait type", "date"),
        },
        "add_condition": _("Add condition"),
        "add_group": _("Add group"),
        "remove": _("Remove"),
        "remove_group": _("Remove group"),
        "field": _("Field"),
        "operator": _("Operator"),
        "value": _("Value"),
        "and": pgettext("between two values", "and"),
        "days": _("days"),
        "days_ago": _("days ago"),
        "choose": _("Choose…"),
        "trait": _("Customer trait…"),
        "trait_key": _("Trait key"),
        "trait_type": _("Read as"),
        "list_hint": _("Separate values with commas"),
        "empty_group": _("No conditions yet: every customer matches."),
        "empty_any": _("Add at least one condition to this group."),
        "bad_json": _("Not valid JSON yet: %(error)s"),
        "json_applied": _("Applied to the builder."),
        "group": _("Group"),
    }


def builder_context() -> dict[str, Any]:
    return {"catalog": condition_catalog(), "texts": builder_texts(), "day_ops": DAY_OPS}
