"""``tend lifetime fit|show``: the retention projection from the command line.

``tend lifetime fit`` fits the shifted-beta-geometric model for all customers and each monthly
cohort, and Cox proportional hazards, stores them and prints a summary (``--json`` for the
stored fits); ``tend lifetime show`` prints the latest fits (``--json`` too).
"""

from __future__ import annotations

import io
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tend.predict.models import RetentionFit, RetentionFitKind, TrainingStatus
from tend.predict.retention import fit_as_dict, latest_run, lifetime_fit


class Command(BaseCommand):
    help = "Fit and show the retention projection (sBG per cohort, Cox)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="fit|show")
        fit = actions.add_parser("fit", help="fit sBG (all customers, each cohort) and Cox now")
        fit.add_argument("--json", action="store_true", help="print the stored fits as JSON")
        show = actions.add_parser("show", help="the latest fits")
        show.add_argument("--json", action="store_true", help="print the stored fits as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "fit":
            summary = lifetime_fit(label="cli")
            if options["json"]:
                self._json(summary)
                if not summary["sbg"]["trained"] and summary["cox"] != "trained":
                    raise CommandError("no lifetime model could be fitted: not enough data")
                return
            seconds = summary["seconds"]
            self.stdout.write(
                self.style.SUCCESS(
                    f"Fitted {summary['customers']} customers: sBG {summary['sbg']['trained']} "
                    f"trained, {summary['sbg']['not_enough_data']} not enough data, "
                    f"{summary['sbg']['failed']} failed; Cox {summary['cox']} "
                    f"(load {seconds['load']:.2f} s, sBG {seconds['sbg']:.2f} s, "
                    f"Cox {seconds['cox']:.2f} s)."
                )
            )
        self._show(json_out=options["json"] and options["action"] == "show")
        if (
            options["action"] == "fit"
            and not summary["sbg"]["trained"]
            and summary["cox"] != "trained"
        ):
            # Nothing could be fitted (the table above says why): exit 1, like `tend train`.
            raise CommandError("no lifetime model could be fitted: not enough data")

    def _json(self, summary: dict[str, Any] | None) -> None:
        rows = latest_run()
        out: dict[str, Any] = {"fits": [fit_as_dict(r) for r in rows]}
        if summary is not None:
            out = {"summary": summary, **out}
        self.stdout.write(json.dumps(out, indent=2, default=str))

    def _show(self, *, json_out: bool) -> None:
        if json_out:
            self._json(None)
            return
        rows = latest_run()
        if not rows:
            self.stdout.write("Not fitted yet: run `tend lifetime fit`.")
            return
        table = Table(title=f"sBG fits of {rows[0].fitted_at:%Y-%m-%d %H:%M} UTC")
        for column in ("cohort", "customers", "churned", "alpha", "beta", "lifetime", "status"):
            table.add_column(column)
        for row in rows:
            if row.kind == RetentionFitKind.SBG:
                table.add_row(*self._sbg_cells(row))
        self._print(table)
        cox = next((r for r in rows if r.kind == RetentionFitKind.COX), None)
        if cox is None:
            return
        if cox.status != TrainingStatus.TRAINED:
            self.stdout.write(f"Cox: {cox.status}: {cox.message}")
            return
        table = Table(title=f"Cox (concordance {cox.results['concordance']:.3f})")
        for column in ("covariate", "reference", "hazard ratio", "95% CI", "p"):
            table.add_column(column)
        for c in cox.params["covariates"]:
            table.add_row(
                c["column"].replace("\x00", ""),
                c["reference"].replace("\x00", "") or "—",
                f"{c['hr']:.2f}",
                f"{c['lower']:.2f}–{c['upper']:.2f}",
                f"{c['p']:.3g}",
            )
        self._print(table)

    def _sbg_cells(self, row: RetentionFit) -> list[str]:
        base = [row.cohort, str(row.customers), str(row.events)]
        if row.status != TrainingStatus.TRAINED:
            return [*base, "—", "—", "—", f"{row.status}: {row.message}"]
        lifetime = row.results.get("expected_lifetime_months")
        return [
            *base,
            f"{row.params['alpha']:.3f}",
            f"{row.params['beta']:.3f}",
            f"{lifetime:.1f} mo" if lifetime is not None else "—",
            row.status,
        ]

    def _print(self, table: Table) -> None:
        buffer = io.StringIO()
        Console(file=buffer, width=140).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
