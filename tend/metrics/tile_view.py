"""How a figure reads on the revenue pages, and the KPI tiles: each value formatted, its
change against the period compared with, its colour and formula, and the sentence saying
what the tiles compare (``tend.metrics.tiles``)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from tend.lib.money import format_money
from tend.metrics import formulas
from tend.metrics.filters import Filters
from tend.metrics.kpis import PeriodKpis
from tend.metrics.tiles import Comparison, tiles
from tend.metrics.value import lifetime_value, referral_rate

REVENUE_KEYS = ("mrr", "arr", "net_new_mrr", "customers", "arpa")
RETENTION_KEYS = ("logo_churn", "revenue_churn", "crr", "grr", "nrr", "cer", "renewal_rate")
VALUE_KEYS = ("clv_simple", "cac", "ltv_cac", "cac_payback")

# --- values ---------------------------------------------------------------------------------

META: dict[str, tuple[Any, Any, str, bool]] = {
    # key: (label, formula, unit, higher is better) for figures the registry does not hold.
    "customers": (
        gettext_lazy("Paying customers"),
        gettext_lazy(
            "Customers = customers with an active paid subscription at the end of the period"
        ),
        "count",
        True,
    ),
    # Subscription CLV from the sBG retention projection (tend/predict/retention.py).
    "clv_sbg": (
        gettext_lazy("CLV, retention projection (sBG)"),
        gettext_lazy(
            "CLV (sBG) = ARPA × gross margin × Σ S(t) ÷ (1 + d)^t over t = 0 … H − 1 months: "
            "S(t) = projected share of a new customer still paying after t months "
            "(shifted-beta-geometric fit to all customers), d = the monthly equivalent of the "
            "yearly discount rate, H = TEND_LIFETIME_CLV_MONTHS (120)"
        ),
        "money",
        True,
    ),
}


# Short names for the tiles; the full name and the formula are in each tile's tooltip.
SHORT: dict[str, Any] = {
    "mrr": gettext_lazy("MRR"),
    "arr": gettext_lazy("ARR"),
    "net_new_mrr": gettext_lazy("Net new MRR"),
    "customers": gettext_lazy("Paying customers"),
    "arpa": gettext_lazy("ARPA"),
    "logo_churn": gettext_lazy("Logo churn"),
    "revenue_churn": gettext_lazy("Revenue churn"),
    "crr": gettext_lazy("CRR"),
    "grr": gettext_lazy("GRR"),
    "nrr": gettext_lazy("NRR"),
    "cer": gettext_lazy("CER"),
    "renewal_rate": gettext_lazy("Renewal rate"),
    "clv_simple": gettext_lazy("CLV"),
    "clv_discounted": gettext_lazy("CLV, discounted"),
    "clv_sbg": gettext_lazy("CLV (sBG)"),
    "cac": gettext_lazy("CAC"),
    "ltv_cac": gettext_lazy("LTV:CAC"),
    "cac_payback": gettext_lazy("CAC payback"),
    "referral_rate": gettext_lazy("Referral rate"),
}


def meta(key: str) -> tuple[str, str, str, bool]:
    if key in formulas.FORMULAS:
        f = formulas.FORMULAS[key]
        return str(f.label), str(f.formula), f.unit, f.higher_is_better
    label, formula, unit, better = META[key]
    return str(label), str(formula), unit, better


def money_text(value: Any, *, decimals: int = 2) -> str:
    """``$1,234.50`` / ``−$20.00`` in the reporting currency (``tend.lib.money``)."""
    return format_money(value, decimals=decimals)


def display(value: Any, kind: str, *, whole: bool = False) -> str:
    """A value as the page shows it; "—" when it cannot be computed."""
    if value is None or value == "":
        return "—"
    if kind == "money":
        return money_text(value, decimals=0 if whole else 2)
    if kind == "percent":
        return f"{float(value):.1f}%"
    if kind == "ratio":
        return f"{float(value):.1f}×"
    if kind == "months":
        return _("%(value)s mo") % {"value": f"{float(value):.1f}"}
    if kind in ("count", "score"):
        return f"{value:,}" if isinstance(value, int) else f"{float(value):,.1f}"
    if kind == "bool":
        return _("yes") if value else _("no")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def change_of(current: Any, previous: Any, unit: str) -> tuple[float | None, str]:
    if unit == "percent":
        return formulas.point_change(current=current, previous=previous), "points"
    return formulas.percent_change(current=current, previous=previous), "percent"


def tile(
    key: str, value: Any, previous: Any, *, has_previous: bool = True, tiled: Any = None
) -> dict[str, Any]:
    """One KPI tile: formatted value, change against the previous period, colour and formula.

    ``tiled`` is the ``Tile`` of the key when the series reader made one; its change is
    used as it is, so the page and the API show the same number.
    """
    label, formula, unit, better = meta(key)
    if tiled is not None:
        change, kind = tiled.change, tiled.change_kind
    elif has_previous:
        change, kind = change_of(value, previous, unit)
    else:
        change, kind = None, ""
    big = key in (
        *("mrr", "arr", "net_new_mrr"),
        *("clv_simple", "clv_discounted", "clv_sbg", "clv_probabilistic"),
    )
    out: dict[str, Any] = {
        "key": key,
        "label": str(SHORT.get(key, label)),
        "long_label": label,
        "formula": formula,
        "unit": unit,
        "value": value,
        "previous": previous,
        "text": display(value, unit, whole=big),
        "previous_text": display(previous, unit, whole=big),
        "change": change,
        "change_text": "",
        "arrow": "",
        "tone": "muted",
    }
    if change is None:
        return out
    size = abs(change)
    if kind == "points":
        out["change_text"] = _("%(value)s pts") % {"value": f"{size:.1f}"}
    else:
        out["change_text"] = f"{size:.1f}%"
    if round(size, 1) == 0:
        out["arrow"], out["tone"] = "→", "muted"
    else:
        up = change > 0
        out["arrow"] = "▲" if up else "▼"
        out["tone"] = "good" if up == better else "bad"
        out["direction"] = _("up") if up else _("down")
    return out


PERIOD_NOUNS = {
    "month": pgettext_lazy("period", "month"),
    "quarter": pgettext_lazy("period", "quarter"),
    "year": pgettext_lazy("period", "year"),
}
COMPLETE_CHOICES = {
    "month": gettext_lazy("Last complete month"),
    "quarter": gettext_lazy("Last complete quarter"),
    "year": gettext_lazy("Last complete year"),
}
TO_DATE_CHOICES = {
    "month": gettext_lazy("Month to date"),
    "quarter": gettext_lazy("Quarter to date"),
    "year": gettext_lazy("Year to date"),
}


def span_label(period: PeriodKpis | None, compared: Comparison | None) -> str:
    """How the page names a compared period: "2025-11", or "Dec 1 – Dec 6" for a window."""
    if period is None:
        return ""
    if compared is not None and compared.mode == "to_date":
        return _("%(first)s – %(last)s") % {
            "first": date_format(period.start, "MONTH_DAY_FORMAT"),
            "last": date_format(period.end, "MONTH_DAY_FORMAT"),
        }
    return period.label


def compare_context(
    compared: Comparison | None, filters: Filters, *, running: bool = True
) -> dict[str, Any]:
    """The sentence above the tiles saying what they compare, and the two choices (only when
    the range's last period is ``running``: otherwise there is nothing "to date")."""
    if compared is None:
        return {}
    current = span_label(compared.current, compared)
    previous = span_label(compared.previous, compared)
    noun = PERIOD_NOUNS[filters.period]
    if compared.mode == "to_date":
        text = _(
            "Tiles show %(current)s (%(period)s to date) against the same %(days)s days of the "
            "%(period)s before: %(previous)s."
        ) % {"current": current, "previous": previous, "days": compared.days, "period": noun}
        if compared.previous_days != compared.days:
            text = _(
                "Tiles show %(current)s (%(period)s to date) against the %(period)s before, "
                "which is shorter: %(previous)s."
            ) % {"current": current, "previous": previous, "period": noun}
    elif compared.previous is None:
        text = _("Tiles show %(current)s.") % {"current": current}
    elif compared.current.to_date:
        text = _("Tiles show %(current)s (to date) against %(previous)s.") % {
            "current": current,
            "previous": previous,
        }
    else:
        text = _("Tiles show %(current)s, the last complete %(period)s, against %(previous)s.") % {
            "current": current,
            "previous": previous,
            "period": noun,
        }
    base = {k: v for k, v in filters.as_query().items() if k != "compare"}
    choices = (
        []
        if not running
        else [
            ("complete", str(COMPLETE_CHOICES[filters.period]), urlencode(base, doseq=True)),
            (
                "to_date",
                str(TO_DATE_CHOICES[filters.period]),
                urlencode({**base, "compare": "to_date"}, doseq=True),
            ),
        ]
    )
    return {
        "compare_mode": compared.mode,
        "compare_text": text,
        "compare_choices": choices,
        "compare_current": current,
        "compare_previous": previous,
    }


def tile_groups(
    kpis: list[PeriodKpis], filters: Filters, compared: Comparison | None
) -> list[dict[str, Any]]:
    by_key = {t.key: t for t in tiles(compared)}
    # Lifetime value and CAC cover the range up to the period the tiles show.
    kpis = kpis[: compared.index + 1] if compared is not None else kpis
    revenue = [tile(k, by_key[k].value, by_key[k].previous, tiled=by_key[k]) for k in REVENUE_KEYS]
    retention = [
        tile(k, by_key[k].value, by_key[k].previous, tiled=by_key[k]) for k in RETENTION_KEYS
    ]
    # Lifetime value and acquisition cover the whole range; "previous" is the same figure
    # over the range that ends one period earlier.
    now = lifetime_value(kpis)
    before = lifetime_value(kpis[:-1]) if len(kpis) > 1 else {}
    keys = [
        # Order-based business: the predicted (probabilistic) CLV takes the CLV tile.
        *(["clv_probabilistic"] if "clv_probabilistic" in now else VALUE_KEYS[:1]),
        *(["clv_discounted"] if "clv_discounted" in now else []),
        *(["clv_sbg"] if now.get("clv_sbg") is not None else []),  # sBG projection (predict)
        *VALUE_KEYS[1:],
    ]
    value = {k: tile(k, now[k], before.get(k), has_previous=len(kpis) > 1) for k in keys}
    if "clv_simple" in value and now["monthly_churn"] is not None and now["arpa"] is not None:
        value["clv_simple"]["note"] = _(
            "ARPA %(arpa)s × margin %(margin)s ÷ churn %(churn)s a month"
        ) % {
            "arpa": display(now["arpa"], "money"),
            "margin": f"{float(now['gross_margin']) * 100:.0f}%",
            "churn": display(now["monthly_churn"], "percent"),
        }
    if "clv_probabilistic" in value:
        value["clv_probabilistic"]["note"] = _("Mean of %(n)s customers' CLV, from orders") % {
            "n": f"{now['clv_probabilistic_customers']:,}"
        }
    if "clv_discounted" in value and now.get("clv_years"):
        value["clv_discounted"]["note"] = _(
            "%(years)s years, discounted %(rate)s a year, growing %(growth)s a year"
        ) % {
            "years": now["clv_years"],
            "rate": f"{float(now['clv_discount_rate']) * 100:.0f}%",
            "growth": f"{float(now['clv_growth_rate']) * 100:.0f}%",
        }
    if "clv_sbg" in value:  # sBG projection (tend/predict/retention.py)
        value["clv_sbg"]["note"] = _(
            "α %(alpha)s, β %(beta)s: %(months)s discounted months paid over %(horizon)s"
        ) % {
            "alpha": f"{now['clv_sbg_alpha']:.3f}",
            "beta": f"{now['clv_sbg_beta']:.3f}",
            "months": f"{now['clv_sbg_discounted_months']:.1f}",
            "horizon": now["clv_sbg_months"],
        }
    value["cac"]["note"] = _("%(cost)s for %(n)s customers") % {
        "cost": display(now["acquisition_cost"], "money", whole=True),
        "n": f"{now['acquired']:,}",
    }
    referral = referral_rate(filters)
    ref = tile("referral_rate", referral["referral_rate"], None, has_previous=False)
    ref["note"] = _("%(referrers)s of %(customers)s customers, all time") % {
        "referrers": f"{referral['referrers']:,}",
        "customers": f"{referral['customers']:,}",
    }
    return [
        {"key": "revenue", "title": _("Revenue"), "tiles": revenue},
        {"key": "retention", "title": _("Retention"), "tiles": retention},
        {
            "key": "value",
            "title": _("Lifetime value and acquisition, over the range"),
            "tiles": [*value.values(), ref],
        },
    ]
