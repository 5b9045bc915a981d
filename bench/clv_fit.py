"""CLV model fit speed: tend.predict.clv against the `lifetimes` package (0.11.3) on CDNOW.

Fits BG/NBD, Pareto/NBD and Gamma-Gamma on the CDNOW calibration summary (2,357 customers;
tend/predict/tests/data/cdnow/) and on it tiled 100 times (235,700 customers, same maximum),
with both libraries in this one process. Each time is the median of several fits after one
untimed warm-up fit. Also prints both parameter sets, the log-likelihood (our formula) at each,
and checks that ``clv_discounted`` gives lifetimes' ``customer_lifetime_value`` for the same
parameters. Writes its table under "## CLV model fits" in docs/benchmarks.md (``--no-write``
to only print).

Needs the bench extra: ``pip install -e '.[bench]'`` (lifetimes==0.11.3).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tend.predict.clv import (  # noqa: E402
    BGNBDFit,
    GammaGammaFit,
    clv_discounted,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
)
from tend.predict.clv.bgnbd import bgnbd_loglik  # noqa: E402
from tend.predict.clv.gammagamma import gamma_gamma_loglik  # noqa: E402
from tend.predict.clv.pareto import pareto_nbd_loglik  # noqa: E402

DATA = (
    ROOT
    / "tend"
    / "predict"
    / "tests"
    / "data"
    / "cdnow"
    / "cdnow_customers_summary_with_transactions.csv"
)
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## CLV model fits"
START, END = "<!-- bench/clv_fit.py: start -->", "<!-- bench/clv_fit.py: end -->"


def lifetimes_module() -> Any:
    """Import lifetimes 0.11.3, which predates numpy 2 / pandas 2.

    On numpy 2.4 / pandas 2.3 / scipy 1.17 its fitters and customer_lifetime_value run as they
    are (checked by this script); the aliases below only matter for the removed numpy names an
    older code path might touch, and are set here, in the benchmark, never in Tend.
    """
    for name, alias in (("float", float), ("int", int), ("bool", bool), ("object", object)):
        if name not in np.__dict__:
            setattr(np, name, alias)
    warnings.filterwarnings("ignore", module="lifetimes")
    warnings.filterwarnings("ignore", category=FutureWarning)
    import lifetimes

    return lifetimes


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{os.cpu_count()} CPUs (`nproc`), {cpu}, load average {load} at the start"


def median_time(fn: Callable[[], Any], repeats: int, *, warm_up: bool) -> tuple[float, Any]:
    result = fn() if warm_up else None  # imports, caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def fmt_params(values: dict[str, float], decimals: int = 4) -> str:
    return ", ".join(f"{k} {v:.{decimals}f}" for k, v in values.items())


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def write_section(body: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    measured = f"{START}\n{body.rstrip()}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + measured + rest.split(END, 1)[1]
    elif HEADING in text:
        text = text.replace(HEADING, f"{HEADING}\n\n{measured}", 1)
    else:
        text = text.rstrip() + f"\n\n{HEADING}\n\n{measured}\n"
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed fits per case at 1× (median)")
    parser.add_argument("--large-repeats", type=int, default=3, help="timed fits per case at 100×")
    parser.add_argument("--scale", type=int, default=100, help="tiling factor of the large case")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    lifetimes = lifetimes_module()
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    where = machine()
    base = pd.read_csv(DATA)
    rows: list[str] = []
    params_lines: list[str] = []

    for scale, repeats in ((1, args.repeats), (args.scale, args.large_repeats)):
        d = pd.concat([base] * scale, ignore_index=True) if scale > 1 else base
        x, tx, T, m = (d[c].to_numpy(dtype=float) for c in ("x", "t_x", "T", "zbar"))
        rep = d[d["x"] > 0]
        cases: list[
            tuple[str, Callable[[], Any], Callable[[], Any], Callable[[Any, Any], None]]
        ] = []

        def bg_note(ours: Any, theirs: Any, x: Any = x, tx: Any = tx, T: Any = T) -> None:
            lt = theirs.params_
            lt_p = np.array([lt["r"], lt["alpha"], lt["a"], lt["b"]])
            lt_ll = float(bgnbd_loglik(lt_p, x, tx, T)[0].sum())
            params_lines.append(
                f"| BG/NBD | {fmt_params(ours.params)}; LL {ours.log_likelihood:,.4f} "
                f"| {fmt_params(dict(zip(['r', 'alpha', 'a', 'b'], lt_p, strict=True)))}; "
                f"LL {lt_ll:,.4f} |"
            )

        def pn_note(ours: Any, theirs: Any, x: Any = x, tx: Any = tx, T: Any = T) -> None:
            lt = theirs.params_
            lt_p = np.array([lt["r"], lt["alpha"], lt["s"], lt["beta"]])
            lt_ll = float(pareto_nbd_loglik(lt_p, x, tx, T).sum())
            params_lines.append(
                f"| Pareto/NBD | {fmt_params(ours.params)}; LL {ours.log_likelihood:,.4f} "
                f"| {fmt_params(dict(zip(['r', 'alpha', 's', 'beta'], lt_p, strict=True)))}; "
                f"LL {lt_ll:,.4f} |"
            )

        def gg_note(ours: Any, theirs: Any, rep: Any = rep) -> None:
            lt = theirs.params_
            lt_p = np.array([lt["p"], lt["q"], lt["v"]])
            xr, mr = rep["x"].to_numpy(dtype=float), rep["zbar"].to_numpy(dtype=float)
            lt_ll = float(gamma_gamma_loglik(lt_p, xr, mr)[0].sum())
            params_lines.append(
                f"| Gamma-Gamma | {fmt_params(ours.params)}; LL {ours.log_likelihood:,.4f} "
                f"| {fmt_params(dict(zip(['p', 'q', 'gamma'], lt_p, strict=True)))}; "
                f"LL {lt_ll:,.4f} |"
            )

        cases = [
            (
                "BG/NBD",
                lambda x=x, tx=tx, T=T: fit_bgnbd(x, tx, T),
                lambda x=x, tx=tx, T=T: lifetimes.BetaGeoFitter().fit(x, tx, T),
                bg_note,
            ),
            (
                "Pareto/NBD",
                lambda x=x, tx=tx, T=T: fit_pareto_nbd(x, tx, T),
                lambda x=x, tx=tx, T=T: lifetimes.ParetoNBDFitter().fit(x, tx, T),
                pn_note,
            ),
            (
                "Gamma-Gamma",
                lambda x=x, m=m: fit_gamma_gamma(x, m),
                lambda rep=rep: lifetimes.GammaGammaFitter().fit(rep["x"], rep["zbar"]),
                gg_note,
            ),
        ]
        for name, ours_fn, theirs_fn, note in cases:
            t_ours, ours = median_time(ours_fn, repeats, warm_up=scale == 1)
            t_theirs, theirs = median_time(theirs_fn, repeats, warm_up=scale == 1)
            row = (
                f"| {name} | {len(d):,} | {fmt_time(t_ours)} | {fmt_time(t_theirs)} | "
                f"{t_ours / t_theirs:.3f} | {repeats} |"
            )
            print(row, flush=True)
            rows.append(row)
            if scale == 1:
                note(ours, theirs)

        if scale == 1:
            # Same parameters → same CLV: lifetimes' 1 % a month = our 12.68 % a year.
            bg_lt = lifetimes.BetaGeoFitter().fit(x, tx, T)
            gg_lt = lifetimes.GammaGammaFitter().fit(rep["x"], rep["zbar"])
            lt_clv = gg_lt.customer_lifetime_value(
                bg_lt, d["x"], d["t_x"], d["T"], d["zbar"], time=12, discount_rate=0.01, freq="W"
            ).to_numpy()
            p = bg_lt.params_
            bg = BGNBDFit(
                r=p["r"], alpha=p["alpha"], a=p["a"], b=p["b"], log_likelihood=0.0, n=len(d)
            )
            g = gg_lt.params_
            gg = GammaGammaFit(p=g["p"], q=g["q"], gamma=g["v"], log_likelihood=0.0, n=len(rep))
            ours_clv = clv_discounted(
                bg,
                x,
                tx,
                T,
                gg.expected_spend(x, m),
                months=12,
                annual_discount_rate=1.01**12 - 1,
                unit="week",
            )
            clv_diff = float(np.max(np.abs(ours_clv - lt_clv) / np.maximum(np.abs(lt_clv), 1e-12)))
            print(
                f"CLV vs lifetimes customer_lifetime_value: max relative difference {clv_diff:.1e}"
            )

    flags_text = " ".join(shlex.quote(a) for a in sys.argv[1:])
    body = "\n".join(
        [
            f"Measured {when} on {where}, by",
            "",
            f"    python bench/clv_fit.py {flags_text}".rstrip(),
            "",
            "Each time is the median of the timed fits (after one warm-up fit), both libraries in "
            f"one process; ratio = ours / lifetimes. {args.scale}× is the CDNOW summary tiled "
            f"{args.scale} times (same maximum). lifetimes {lifetimes.__version__} fits one row "
            "per customer as given; ours fits the distinct (x, tₓ, T) rows with counts as "
            "weights. The warm-up fit is done at 1× only.",
            "",
            "| Model | Customers | tend.predict.clv | lifetimes | Ratio | Fits timed |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "Estimates on CDNOW (LL = total log-likelihood by our formula at each parameter set):",
            "",
            "| Model | tend.predict.clv | lifetimes |",
            "|---|---|---|",
            *params_lines,
            "",
            "`clv_discounted` (12 months, 12.68 % a year) against lifetimes' "
            "`customer_lifetime_value` (12 months, 1 % a month, freq W), lifetimes' parameters: "
            f"largest relative difference {clv_diff:.1e} over the 2,357 customers.",
        ]
    )
    print(body)
    if not args.no_write:
        write_section(body)


if __name__ == "__main__":
    main()
