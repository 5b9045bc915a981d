"""``tend segments …``: segments from the command line.

tend segments rfm [--window 365] [--as-of YYYY-MM-DD] [--show]
tend segments clusters [--days 90] [--k-min 2] [--k-max 8] [--as-of YYYY-MM-DD] [--show]
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tend.segments.behaviour_cli import ACTIONS as BEHAVIOUR_ACTIONS
from tend.segments.behaviour_cli import behaviour_add_parsers, behaviour_run


class Command(BaseCommand):
    help = "Segments: behavioural groups (rfm, clusters)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="rfm|clusters")
        behaviour_add_parsers(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] in BEHAVIOUR_ACTIONS:
            behaviour_run(options["action"], options, self.stdout)
