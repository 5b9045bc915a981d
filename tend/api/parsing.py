"""The one gate every string of a REST API request passes: JSON bodies and query parameters.

A NUL character (``\\u0000``) cannot be stored in a PostgreSQL text column and a lone UTF-16
surrogate (``"\\ud800"``, legal in JSON, not in UTF-8) cannot be encoded for either database;
both used to reach the database and answer 500. The parser refuses them before any schema
sees the request, in keys and values at any depth, with a 422 naming the field
(``traits.note``, ``tags.2``, ``search``). Path parameters are ids (integers) or declare a
pattern that leaves no room for them.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

# A NUL, or a surrogate code point (only ever present alone: json.loads joins valid pairs).
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")

# Deeper JSON than this is refused before validation: nothing in the API nests beyond a few
# levels (traits are free-form but shallow), and Python's recursion limit is 1,000.
MAX_DEPTH = 32


class BadText(ValueError):
    """A string the database cannot store; ``field`` is its dotted path."""

    def __init__(self, field: str, message: str, code: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code


def text_problem(value: str) -> tuple[str, str] | None:
    """``(message, code)`` when ``value`` holds a NUL or a lone surrogate, else None."""
    found = _BAD_CHARACTER.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "NUL characters (\\u0000) are not allowed.", "null_character"
    return "Lone UTF-16 surrogates (\\ud800-\\udfff) are not allowed.", "surrogate"


def check_text(value: Any, path: tuple[str, ...] = ()) -> None:
    """Raise ``BadText`` for the first bad string in ``value`` (keys included)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if len(where) > MAX_DEPTH:
            raise BadText(".".join(where) or "body", f"Nested deeper than {MAX_DEPTH}.", "depth")
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                raise BadText(".".join(where) or "body", *problem)
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = text_problem(key)
                if problem is not None:
                    shown = _BAD_CHARACTER.sub("\ufffd", key)
                    raise BadText(".".join((*where, shown)), *problem)
                stack.append((child, (*where, key)))
        elif isinstance(item, list):
            stack.extend((child, (*where, str(i))) for i, child in enumerate(item))


def _no_constant(name: str) -> Any:
    # json.loads takes NaN and Infinity, which are not JSON and which no database column holds.
    raise ValueError(f"{name} is not a JSON number")


class TendParser(Parser):
    """ninja's JSON parser plus the text check above, for bodies and query parameters."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body, parse_constant=_no_constant)
        check_text(data)
        return cast(dict[str, Any], data)

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        for key, values in data.lists():
            field = (_BAD_CHARACTER.sub("\ufffd", key),)
            check_text(key, field)
            for value in values:
                check_text(value, field)
        return super().parse_querydict(data, list_fields, request)
