"""What the rule builder (static/segments/builder.js) needs from the server, in the reader's
language: the field catalog (``condition_catalog``: fields, their operators with labels and
value kinds, choices) and the builder's own texts."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tend.segments.conditions import condition_catalog, type_label


def builder_texts() -> dict[str, Any]:
    """Every text builder.js writes into the page."""
    return {
        "modes": {
            "all": _("All of these are true"),
            "any": _("Any of these is true"),
            "none": _("None of these is true"),
        },
        "types": {kind: type_label(kind) for kind in ("number", "text", "bool", "date")},
        "add_condition": _("Add condition"),
        "add_group": _("Add group"),
        "remove": _("Remove"),
        "remove_group": _("Remove group"),
        "field": _("Field"),
        "operator": _("Operator"),
        "value": _("Value"),
        "and": pgettext("between two values", "and"),
        "add_value": _("Add a value"),
        "add_more": _("Add…"),
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
    return {"catalog": condition_catalog(), "texts": builder_texts()}
