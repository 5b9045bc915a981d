"""``tend train``: train the churn model now (the weekly ``churn-train`` schedule does the same).

``tend train`` backtests both model kinds on the customers' history and makes the chosen one
active; ``--horizon DAYS`` (or ``renewal``) sets the label's window; ``--traits-csv FILE
--label COLUMN [--id-column C]`` trains on a table of traits with a churned flag instead
(5-fold cross-validation); ``--json`` prints the run as JSON. Too little data exits non-zero
with "not enough data to train: N churned, need 20".
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tend.predict.errors import NotEnoughData
from tend.predict.models import ChurnModel, TrainingMode

MAX_CSV_BYTES = 200 * 2**20


def _horizon(value: str) -> int:
    text = value.strip().lower()
    if text == "renewal":
        return 0
    try:
        days = int(text)
    except ValueError:
        raise CommandError(
            f"--horizon: “{value}” is neither a number of days nor “renewal”."
        ) from None
    if not 1 <= days <= 730:
        raise CommandError(f"--horizon: {days} days is out of range (1 to 730, or “renewal”).")
    return days


def _rows(path: str) -> list[dict[str, Any]]:
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"--traits-csv: no file at {path}")
    if file.stat().st_size > MAX_CSV_BYTES:
        raise CommandError(f"--traits-csv: {path} is larger than 200 MB")
    raw = file.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CommandError(f"--traits-csv: {path} is not UTF-8 or GB18030 text")
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames:
        raise CommandError(f"--traits-csv: {path} has no header row")
    return list(reader)


def summary(model: ChurnModel) -> dict[str, Any]:
    metrics = model.metrics or {}
    out: dict[str, Any] = {
        "version": model.version,
        "status": model.status,
        "mode": model.mode,
        "message": str(model.message).format(**(model.message_params or {}))
        if model.message
        else "",
        "kind": model.kind,
        "active": model.is_active,
        "horizon_days": model.horizon_days,
        "rows": model.rows,
        "positives": model.positives,
        "customers": model.customers,
        "train_start": model.train_start.isoformat() if model.train_start else None,
        "train_end": model.train_end.isoformat() if model.train_end else None,
        "test_start": model.test_start.isoformat() if model.test_start else None,
        "test_end": model.test_end.isoformat() if model.test_end else None,
        "seconds": model.seconds,
        "peak_memory_mb": model.peak_memory_mb,
    }
    for kind in ("logistic", "boosting", "baseline"):
        if kind in metrics:
            out[kind] = {
                k: metrics[kind].get(k) for k in ("auc", "lift_top_decile", "brier", "rows")
            }
    out["baseline_wins"] = metrics.get("baseline_wins")
    out["importances"] = (model.importances or [])[:10]
    return out


class Command(BaseCommand):
    help = "Train the churn model (time-based backtest, or a traits CSV with 5-fold CV)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--horizon",
            help="label: churned within DAYS after the observation date, or “renewal” "
            "(default: TEND_CHURN_HORIZON_DAYS)",
        )
        parser.add_argument("--traits-csv", dest="traits_csv", metavar="FILE")
        parser.add_argument("--label", help="the churned flag's column (with --traits-csv)")
        parser.add_argument(
            "--id-column",
            dest="id_column",
            help="the column holding customers' external ids (with --traits-csv; scores are "
            "written for the ids that match customers)",
        )
        parser.add_argument("--json", action="store_true", help="print the run as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        from tend.predict.actions import churn_train
        from tend.predict.training import TraitsTableError

        kwargs: dict[str, Any] = {"label": "cli"}
        if options["horizon"] is not None:
            kwargs["horizon_days"] = _horizon(options["horizon"])
        if options["traits_csv"]:
            if not options["label"]:
                raise CommandError("--traits-csv needs --label COLUMN (the churned flag)")
            rows = _rows(options["traits_csv"])
            if rows and options["label"] not in rows[0]:
                raise CommandError(f"--label: the CSV has no column “{options['label']}”")
            if options["id_column"] and rows and options["id_column"] not in rows[0]:
                raise CommandError(f"--id-column: the CSV has no column “{options['id_column']}”")
            kwargs.update(
                mode=TrainingMode.TRAITS,
                traits_rows=rows,
                label_column=options["label"],
                id_column=options["id_column"],
            )
        elif options["label"] or options["id_column"]:
            raise CommandError("--label and --id-column go with --traits-csv")
        try:
            model = churn_train(**kwargs)
        except NotEnoughData as exc:
            latest = ChurnModel.objects.order_by("-version").first()
            if options["json"] and latest is not None:
                self.stdout.write(json.dumps(summary(latest), indent=2))
            raise CommandError(str(exc)) from None
        except TraitsTableError as exc:
            raise CommandError(f"--traits-csv: {exc}") from None
        if options["json"]:
            self.stdout.write(json.dumps(summary(model), indent=2))
            return
        self._print(model)

    def _print(self, model: ChurnModel) -> None:
        data = summary(model)
        self.stdout.write(
            f"Churn model v{model.version} ({model.mode}): chose {model.kind}, "
            f"{model.rows:,} rows, {model.positives:,} churned, {model.seconds:.1f} s, "
            f"peak {model.peak_memory_mb:.0f} MB"
        )
        if model.test_start:
            self.stdout.write(f"  backtest: tested on {model.test_start} … {model.test_end}")
        else:
            self.stdout.write("  backtest: stratified 5-fold cross-validation")
        for kind in ("logistic", "boosting", "baseline"):
            row = data.get(kind)
            if row:
                self.stdout.write(
                    f"  {kind:9} AUC {_f(row['auc'])}  top-decile lift {_f(row['lift_top_decile'])}"
                    f"  Brier {_f(row['brier'])}"
                )
        if data.get("baseline_wins"):
            self.stdout.write(
                self.style.WARNING(
                    "  The baseline (days since last activity) ranks as well as the model: "
                    "the model does not earn its place yet."
                )
            )
        if model.mode == TrainingMode.TRAITS:
            matched = (model.metrics or {}).get("matched_customers", 0)
            self.stdout.write(
                f"  scores written for {matched:,} matching customers"
                if matched
                else "  no ids matched customers: metrics only"
            )


def _f(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}"
