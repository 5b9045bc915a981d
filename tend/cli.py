"""The ``tend`` command: every Django management command, with friendlier names.

``tend demo-data`` runs the ``demo_data`` command, ``tend apikey create`` the ``apikey``
command, and so on; ``tend help`` lists them all.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tend.settings")
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    args[0] = "tend"
    from django.core.management import execute_from_command_line

    from tend.accounts.audit_context import AuditOrigin, audit_origin

    # Every write a command makes is audited as coming from the command line (the worker
    # command narrows this to "worker"; a server started here sets "web"/"api" per request).
    with audit_origin(AuditOrigin(via="cli")):
        execute_from_command_line(args)


if __name__ == "__main__":
    main()
