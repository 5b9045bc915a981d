"""``tend clv fit [--model bgnbd|pareto_nbd] [--json]`` refits probabilistic CLV on the paid
orders and prints the fit; ``tend clv show CUSTOMER_ID [--json]`` prints one customer's CLV.

Too few repeat buyers: the refused fit is stored and the command exits with status 1 and the
reason (``--json`` prints the fit with its ``status`` and ``message`` first).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from tend.predict.clv_actions import clv_fit_run
from tend.predict.clv_api import fit_out
from tend.predict.clv_views import FORMULAS, fit_message, latest_fits, period_unit
from tend.predict.models import ClvModelKind, CustomerClv, TrainingStatus


class Command(BaseCommand):
    help = "Fit probabilistic CLV on orders, or show a customer's CLV."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        fit = actions.add_parser("fit", help="refit CLV on the paid orders and print the fit")
        fit.add_argument("--model", choices=ClvModelKind.values, help="default TEND_CLV_MODEL")
        fit.add_argument("--json", action="store_true", help="print the fit as JSON")
        show = actions.add_parser("show", help="print a customer's CLV from the latest fit")
        show.add_argument("customer_id", help="the customer's id")
        show.add_argument("--json", action="store_true", help="print it as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "fit":
            self._fit(options)
        else:
            self._show(options)

    def _json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))

    def _fit(self, options: dict[str, Any]) -> None:
        fit = clv_fit_run(by=None, kind=options.get("model"), label="cli")
        if options["json"]:
            self._json(fit_out(fit))
        if fit.status != TrainingStatus.TRAINED:
            raise CommandError(f"CLV not fitted: {fit_message(fit)}")
        if options["json"]:
            return
        d = fit.diagnostics
        params = ", ".join(f"{k} = {v:.4f}" for k, v in fit.params.items())
        spend = ", ".join(f"{k} = {v:.4f}" for k, v in fit.spend_params.items())
        self.stdout.write(
            f"{fit.get_kind_display()} fitted on {d.get('orders', 0):,} paid orders "
            f"[{fit.calibration_start}, {fit.calibration_end}) in {fit.seconds:.1f} s: "
            f"{fit.customers:,} customers, {fit.repeaters:,} bought more than once."
        )
        self.stdout.write(f"  purchases: {params}; log-likelihood {fit.log_likelihood:.2f}")
        self.stdout.write(f"  spend (Gamma-Gamma): {spend}; log-likelihood "
                          f"{fit.spend_log_likelihood:.2f}")  # fmt: skip
        self.stdout.write(
            f"  mean CLV {d.get('clv_mean')} {fit.currency} over {fit.horizon_periods} "
            f"{period_unit(fit.period_days)}, mean P(alive) {d.get('p_alive_mean')}"
        )
        holdout = d.get("holdout") or {}
        if holdout.get("status") == TrainingStatus.TRAINED:
            self.stdout.write(
                f"  holdout: fitted before {holdout['cutoff']}, expected {holdout['expected']:,.0f}"
                f" repeat purchases up to {holdout['end']}, actual {holdout['actual']:,}"
            )
        if d.get("unconverted"):
            self.stdout.write(f"  {d['unconverted']:,} orders had no exchange rate: not in spend.")

    def _show(self, options: dict[str, Any]) -> None:
        raw = str(options["customer_id"]).strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise CommandError(f"CUSTOMER_ID: “{raw}” is not a customer id (a whole number).")
        row = CustomerClv.objects.select_related("fit", "customer").filter(pk=int(raw)).first()
        if row is None:
            from tend.customers.models import Customer

            if not Customer.objects.filter(pk=int(raw)).exists():
                raise CommandError(f"No customer {raw}.")
            latest, trained = latest_fits()
            if latest is not None and trained is None:
                raise CommandError(f"CLV not fitted: {fit_message(latest)}")
            raise CommandError(
                f"Customer {raw} has no CLV: no paid order when the models were fitted "
                "(tend clv fit)."
            )
        fit = row.fit
        unit = period_unit(fit.period_days)
        data = {
            "customer_id": row.customer_id,
            "customer": row.customer.name,
            "fit_id": fit.pk,
            "model": fit.kind,
            "fitted_at": fit.fitted_at,
            "frequency": row.frequency,
            "recency": row.recency,
            "age": row.age,
            "expected_purchases": row.expected_purchases,
            "horizon_periods": fit.horizon_periods,
            "p_alive": row.p_alive,
            "expected_spend": row.expected_spend,
            "clv": row.clv,
            "currency": fit.currency,
        }
        if options["json"]:
            self._json(data)
            return
        self.stdout.write(f"{row.customer.name} (#{row.customer_id}), {fit.get_kind_display()} "
                          f"fit of {fit.fitted_at:%Y-%m-%d}")  # fmt: skip
        lines = [
            (f"Expected purchases, next {fit.horizon_periods} {unit}",
             f"{row.expected_purchases:.2f}", "expected_purchases"),
            ("P(alive)", f"{row.p_alive:.1%}", "p_alive"),
            ("Expected spend per purchase", f"{row.expected_spend} {fit.currency}",
             "expected_spend"),
            ("CLV", f"{row.clv} {fit.currency}", "clv"),
        ]  # fmt: skip
        for label, value, key in lines:
            self.stdout.write(f"  {label}: {value}")
            self.stdout.write(f"    {FORMULAS[key]}")
