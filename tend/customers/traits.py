"""What a customer's traits may hold, checked the same way by the web form and the REST API.

Traits are free-form facts about a customer ("seats": 12, "beta": true). A person edits them
as key/value rows; the API also takes nested objects and lists (Segment-style). Both surfaces
bound their size so one customer cannot carry megabytes of JSON into every page that reads it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.utils.translation import gettext as _

MAX_KEY_LENGTH = 256
MAX_KEYS = 200
MAX_TEXT_LENGTH = 2_000
# The whole object as compact JSON; the largest real CRM record seen was about 6 KB.
MAX_JSON_BYTES = 64 * 1024


def traits_problems(traits: dict[str, Any], *, flat: bool) -> list[str]:
    """Every reason ``traits`` cannot be stored, in the reader's language ([] when fine).

    ``flat`` (the web editor) allows only text, numbers and true/false as values.
    """
    problems: list[str] = []
    if len(traits) > MAX_KEYS:
        problems.append(
            _("At most %(max)d traits; this has %(count)d.")
            % {"max": MAX_KEYS, "count": len(traits)}
        )
    long_keys = [k for k in traits if len(k) > MAX_KEY_LENGTH]
    if long_keys:
        problems.append(
            _("A trait name has at most %(max)d characters: “%(key)s…” is longer.")
            % {"max": MAX_KEY_LENGTH, "key": long_keys[0][:40]}
        )
    if any(not k.strip() for k in traits):
        problems.append(_("Every trait needs a name."))
    for key, value in traits.items():
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(_("“%(key)s”: a number must be finite.") % {"key": key[:40]})
        elif flat and not isinstance(value, str | int | float | bool):
            problems.append(
                _("“%(key)s”: a value is text, a number or true/false, not a list or an object.")
                % {"key": key[:40]}
            )
        elif flat and isinstance(value, str) and len(value) > MAX_TEXT_LENGTH:
            problems.append(
                _("“%(key)s”: a value has at most %(max)d characters.")
                % {"key": key[:40], "max": MAX_TEXT_LENGTH}
            )
    if not problems:
        size = len(json.dumps(traits, ensure_ascii=False, separators=(",", ":")).encode())
        if size > MAX_JSON_BYTES:
            problems.append(
                _("Traits take at most %(max)d KB as JSON; these take %(size)d KB.")
                % {"max": MAX_JSON_BYTES // 1024, "size": math.ceil(size / 1024)}
            )
    return problems
