"""``tend segments rfm`` and ``tend segments clusters``: recompute and print behavioural groups.

Kept apart from the ``segments`` command's other actions so each can grow on its own; the
command adds these sub-commands with ``behaviour_add_parsers`` and runs them with
``behaviour_run``.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from django.core.management.base import CommandError
from rich.console import Console
from rich.table import Table

from tend.segments.behaviour import cluster_summary, feature_labels, rfm_summary
from tend.segments.clusters import DAYS_DEFAULT, K_MAX_DEFAULT, K_MIN_DEFAULT, clusters_refresh
from tend.segments.rfm import RFM_WINDOW_DAYS, BehaviourError, rfm_refresh

ACTIONS = ("rfm", "clusters")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(f"--as-of: “{value}” is not a date; write it as YYYY-MM-DD.") from None


def behaviour_add_parsers(actions: Any) -> None:
    """Add ``rfm`` and ``clusters`` to the command's sub-parsers."""
    rfm = actions.add_parser("rfm", help="recompute RFM scores and print the groups")
    rfm.add_argument("--window", type=int, default=RFM_WINDOW_DAYS, help="days of orders (365)")
    rfm.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today, UTC)")
    rfm.add_argument("--show", action="store_true", help="print the latest run, recompute nothing")
    clusters = actions.add_parser("clusters", help="re-run k-means on usage and print clusters")
    clusters.add_argument("--days", type=int, default=DAYS_DEFAULT, help="days of usage (90)")
    clusters.add_argument("--k-min", dest="k_min", type=int, default=K_MIN_DEFAULT)
    clusters.add_argument("--k-max", dest="k_max", type=int, default=K_MAX_DEFAULT)
    clusters.add_argument("--as-of", dest="as_of", help="YYYY-MM-DD (default: today, UTC)")
    clusters.add_argument(
        "--show", action="store_true", help="print the latest run, recompute nothing"
    )


def _print(stdout: Any, table: Table) -> None:
    buffer = io.StringIO()
    Console(file=buffer, width=160).print(table)
    stdout.write(buffer.getvalue(), ending="")


def behaviour_run(action: str, options: dict[str, Any], stdout: Any) -> None:
    """Run ``tend segments rfm|clusters``; a refused value is a CommandError naming it."""
    as_of = _day(options["as_of"]) if options.get("as_of") else None
    try:
        if action == "rfm":
            if not options.get("show"):
                rfm_refresh(as_of, window_days=options["window"])
            _print_rfm(stdout)
        else:
            if not options.get("show"):
                clusters_refresh(
                    as_of, days=options["days"], k_min=options["k_min"], k_max=options["k_max"]
                )
            _print_clusters(stdout)
    except BehaviourError as exc:
        flag = {"window_days": "--window", "k_min": "--k-min", "k_max": "--k-max"}.get(
            exc.field, f"--{exc.field}" if exc.field else ""
        )
        raise CommandError(f"{flag}: {exc.message}" if flag else exc.message) from None


def _print_rfm(stdout: Any) -> None:
    summary = rfm_summary()
    run = summary.run
    if run is None:
        stdout.write("RFM scores have not been computed yet: tend segments rfm")
        return
    if not run.customers:
        stdout.write(
            f"No paid orders up to {run.as_of}, so there is nobody to score. RFM is for "
            "businesses that sell by order; import orders first."
        )
        return
    table = Table(
        "Group",
        "Rule",
        "Customers",
        f"Revenue ({run.currency})",
        "Share",
        title=(
            f"RFM as of {run.as_of} (window {run.window_days} days): {run.customers:,} "
            f"customers, {run.orders:,} paid orders"
        ),
    )
    for g in summary.groups:
        table.add_row(
            g.label, g.rule, f"{g.customers:,}", f"{g.revenue:,.2f}", f"{g.share * 100:.1f}%"
        )
    _print(stdout, table)
    if run.unconverted:
        stdout.write(f"{run.unconverted:,} orders had no exchange rate: counted in R and F, not M.")


def _print_clusters(stdout: Any) -> None:
    summary = cluster_summary()
    run = summary.run
    if run is None:
        stdout.write("Usage clusters have not been computed yet: tend segments clusters")
        return
    labels = feature_labels()
    table = Table(
        "#",
        "Cluster",
        "Customers",
        *[label for _f, label in labels],
        title=(
            f"Usage clusters as of {run.as_of} (last {run.days} days): {run.customers:,} "
            f"customers, k = {run.k}"
        ),
    )
    for row in summary.clusters:
        c = row.cluster.centroid
        table.add_row(
            str(row.cluster.number),
            row.title,
            f"{row.cluster.size:,}",
            *[f"{float(c.get(f, 0)):,.2f}" for f, _label in labels],
        )
    _print(stdout, table)
    stdout.write(
        "Silhouette by k: "
        + ", ".join(f"{k}={v:.3f}" for k, v in summary.silhouettes)
        + f" (chosen k = {run.k})"
    )
