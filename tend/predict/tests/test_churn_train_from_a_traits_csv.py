"""``tend train --traits-csv FILE --label COLUMN --id-column C``: a CRM export with a churned
flag is cross-validated (5 stratified folds); rows whose id is a customer's external id get
a score, the others only count in the metrics."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from tend.factories import make_customer
from tend.predict.models import ChurnModel, ChurnScore, TrainingMode, TrainingStatus

pytestmark = pytest.mark.django_db


def _csv(path: Path, rows: int = 200) -> Path:
    rng = np.random.default_rng(0)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["crm_id", "seats", "region", "nps", "churned"])
        for i in range(rows):
            seats = int(rng.integers(1, 50))
            churned = rng.random() < (0.6 if seats < 10 else 0.08)
            writer.writerow(
                [
                    f"crm-{i}",
                    seats,
                    rng.choice(["north", "south"]),
                    int(rng.integers(0, 11)),
                    "yes" if churned else "no",
                ]
            )
    return path


def test_a_traits_csv_trains_with_five_folds_and_scores_matching_customers(tmp_path: Path) -> None:
    known = [make_customer(external_id=f"crm-{i}") for i in range(5)]
    out = StringIO()
    call_command(
        "train",
        "--traits-csv",
        str(_csv(tmp_path / "crm.csv")),
        "--label",
        "churned",
        "--id-column",
        "crm_id",
        "--json",
        stdout=out,
    )
    shown = json.loads(out.getvalue())
    run = ChurnModel.objects.get()
    assert shown["version"] == run.version and shown["mode"] == "traits"
    assert run.status == TrainingStatus.TRAINED and run.mode == TrainingMode.TRAITS
    assert not run.is_active  # the daily scores keep using the history model
    assert run.metrics["split"] == "cv5"
    assert len(run.metrics[run.kind]["folds"]) == 5
    assert run.metrics[run.kind]["auc"] > 0.7
    assert run.importances[0]["feature"] == "seats"
    assert run.metrics["matched_customers"] == 5
    scores = ChurnScore.objects.filter(model=run)
    assert sorted(scores.values_list("customer_id", flat=True)) == sorted(c.pk for c in known)


def test_a_csv_without_the_label_column_is_refused(tmp_path: Path) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no column “flag”"):
        call_command("train", "--traits-csv", str(_csv(tmp_path / "a.csv")), "--label", "flag")
    assert not ChurnModel.objects.exists()
