"""KPI goals ("monthly logo churn ≤ 2 %", "NRR ≥ 105 %") and the timeline of their status.

A goal names a metric of the KPI series (``tend.metrics.kpis``), a comparator, a target
and a period, optionally for a slice of customers (stored as ``Filters.as_query()`` without
the date range). ``goals_evaluate`` (tend.goals.actions) reads each period's value and
appends a ``GoalAlert`` whenever a period's status changes.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from tend.metrics.filters import PERIODS, FilterError, Filters
from tend.metrics.formulas import FORMULAS, Formula, value_range
from tend.metrics.kpis import PeriodKpis

VALUE_PLACES = Decimal("0.0001")
# Customer filters a goal may carry; the period and date range come from the goal itself.
# "segment" is a saved segment's id (one at most), its membership evaluated live.
FILTER_KEYS = ("plan", "channel", "country", "tag", "segment")


@functools.cache
def goal_metrics() -> tuple[str, ...]:
    """Registry keys the KPI series computes for every period: the metrics a goal can target."""
    sample = PeriodKpis(start=date(2000, 1, 1), end=date(2000, 1, 31))
    computed = sample.compute(gross_margin=Decimal("0.8")).metrics
    return tuple(key for key in computed if key in FORMULAS)


# Ceilings where a metric has none of its own (NRR, ARR…): far beyond any business, they only
# keep typing slips out. A metric without a floor (net new MRR) goes down to minus its ceiling.
TARGET_CEILINGS: dict[str, Decimal] = {
    "percent": Decimal(1000),
    "money": Decimal("1e12"),
    "months": Decimal(1200),
    "ratio": Decimal(1000),
    "score": Decimal(100),
    "count": Decimal("1e12"),
}


class Comparator(models.TextChoices):
    AT_MOST = "lte", "≤"
    AT_LEAST = "gte", "≥"


class Period(models.TextChoices):
    MONTH = "month", pgettext_lazy("goal period", "Monthly")
    QUARTER = "quarter", pgettext_lazy("goal period", "Quarterly")
    YEAR = "year", pgettext_lazy("goal period", "Yearly")


def default_comparator(metric: str) -> str:
    """≥ for metrics where higher is better (NRR), ≤ for the others (churn)."""
    formula = FORMULAS.get(metric)
    if formula is None or formula.higher_is_better:
        return Comparator.AT_LEAST
    return Comparator.AT_MOST


def target_range(metric: str) -> tuple[Decimal, Decimal]:
    """The targets a goal on ``metric`` may have: the values the metric can take
    (``tend.metrics.formulas.value_range``: logo churn 0–100 %, money from 0…)."""
    low, high = value_range(metric)
    if high is None:
        high = TARGET_CEILINGS[FORMULAS[metric].unit]
    if low is None:
        low = -high
    return low, high


def _plain(number: Decimal) -> str:
    """1E+12 → 1000000000000, 100.0000 → 100, −5 with a true minus sign."""
    text = f"{number.normalize():f}"
    return text.replace("-", "−")


def target_error(metric: str, target: Decimal) -> ValidationError | None:
    """Why ``target`` cannot be the target of a goal on ``metric`` (None when it can)."""
    low, high = target_range(metric)
    formula = FORMULAS[metric]
    if not low <= target <= high:
        suffix = "%" if formula.unit == "percent" else ""
        return ValidationError(
            gettext("The target of %(metric)s must be between %(low)s and %(high)s; got %(value)s.")
            % {
                "metric": formula.label,
                "low": _plain(low) + suffix,
                "high": _plain(high) + suffix,
                "value": _plain(target) + suffix,
            },
            code="range",
        )
    if formula.unit == "count" and target != target.to_integral_value():
        return ValidationError(
            gettext("The target of %(metric)s is a count: enter a whole number; got %(value)s.")
            % {"metric": formula.label, "value": _plain(target)},
            code="range",
        )
    return None


def _two_capitals(value: str) -> bool:
    return re.fullmatch("[A-Z]{2}", value) is not None


def country_error(value: str) -> str | None:
    """Why ``value`` is not an ISO 3166-1 alpha-2 country code in capitals (None when it is)."""
    import pycountry

    if _two_capitals(value) and pycountry.countries.get(alpha_2=value) is not None:
        return None
    return gettext(
        "“%(value)s” is not an ISO 3166-1 alpha-2 country code (two capital letters, such as DE)."
    ) % {"value": value}


def country_name(code: str) -> str:
    """The country's name in the active language ("Germany", "德国"); the code when unknown."""
    import gettext as gettext_module

    import pycountry
    from django.utils.translation import get_language

    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = str(getattr(country, "common_name", None) or country.name)
    if (get_language() or "").startswith("zh"):
        zh = gettext_module.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"], fallback=True
        )
        return zh.gettext(name)
    return name


def clean_filters(raw: Any) -> dict[str, list[str]]:
    """Customer filters as stored: ``{"plan": ["3"], "channel": ["ads"]}``, checked by
    ``Filters.parse``. Raises ``FilterError`` naming the filter at fault."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise FilterError("filters", 'must be an object such as {"plan": [3]}')
    unknown = sorted(set(raw) - set(FILTER_KEYS))
    if unknown:
        raise FilterError(unknown[0], f"not a goal filter; use {', '.join(FILTER_KEYS)}")
    parsed = Filters.parse({key: _listed(raw[key]) for key in FILTER_KEYS if raw.get(key)})
    return stored_filters(parsed)


def _listed(value: Any) -> Any:
    # A filter is stored as a list; a lone id (an int from a form or a script) is one item.
    return [str(value)] if isinstance(value, int) and not isinstance(value, bool) else value


def stored_filters(filters: Filters) -> dict[str, list[str]]:
    """The customer filters of ``filters`` as a goal stores them: every value a list of text."""
    query = filters.as_query()
    return {
        key: query[key] if isinstance(query[key], list) else [str(query[key])]
        for key in FILTER_KEYS
        if key in query
    }


def validate_goal(
    *, metric: str, comparator: str, target: Any, period: str, filters: Any
) -> dict[str, list[ValidationError]]:
    """Check a goal's definition; returns the errors by field (empty when it is valid).

    Codes: ``range`` for a target outside its metric's range, ``unknown`` for a filter naming
    a plan or tag that does not exist (the API's document cannot say either in advance)."""
    errors: dict[str, list[ValidationError]] = {}
    if metric not in goal_metrics():
        errors["metric"] = [
            ValidationError(
                gettext("Unknown metric %(metric)r; choose one of %(choices)s.")
                % {"metric": metric, "choices": ", ".join(goal_metrics())}
            )
        ]
    if comparator not in Comparator.values:
        errors["comparator"] = [ValidationError(gettext("Choose ≤ (lte) or ≥ (gte)."))]
    if period not in PERIODS:
        errors["period"] = [ValidationError(gettext("Choose month, quarter or year."))]
    try:
        if target is None:  # reported by the field's own check
            raise ValueError
        number = Decimal(str(target)) if not isinstance(target, Decimal) else target
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        if target is not None:
            errors["target"] = [ValidationError(gettext("Enter a number."))]
    else:
        if "metric" not in errors:
            problem = target_error(metric, number)
            if problem is not None:
                errors["target"] = [problem]
    countries = filters.get("country") if isinstance(filters, dict) else None
    if isinstance(countries, list | tuple):
        # "unknown": well formed but assigned to no country (the API cannot say in advance).
        bad = [
            ValidationError(message, code="unknown" if _two_capitals(str(c)) else "invalid")
            for c in countries
            if (message := country_error(str(c)))
        ]
        if bad:
            errors["filters.country"] = bad
    if "filters.country" not in errors:
        try:
            clean_filters(filters)
        except FilterError as exc:
            errors["filters"] = [ValidationError(exc.text(), code=exc.code)]
    return errors


class GoalQuerySet(models.QuerySet["Goal"]):
    def active(self) -> GoalQuerySet:
        """Goals that are evaluated and shown (not archived)."""
        return self.filter(active=True)


class Goal(models.Model):
    """A KPI target per period: "monthly logo churn ≤ 2 %", "quarterly NRR ≥ 105 %"."""

    name = models.CharField(_("name"), max_length=120, blank=True)
    note = models.TextField(_("note"), blank=True)
    metric = models.CharField(_("metric"), max_length=40)
    comparator = models.CharField(_("comparator"), max_length=3, choices=Comparator.choices)
    target = models.DecimalField(_("target"), max_digits=16, decimal_places=4)
    period = models.CharField(
        _("period"), max_length=8, choices=Period.choices, default=Period.MONTH
    )
    # Customer filters as Filters.as_query() gives them, without period and dates.
    filters: models.JSONField[dict[str, list[str]]] = models.JSONField(
        _("customer filters"), default=dict, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    # Bumped when the definition changes, so the next reading starts a fresh status history
    # instead of reporting a "crossing" that only the edit caused.
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = GoalQuerySet.as_manager()

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self) -> str:
        return str(self.title)

    def clean(self) -> None:
        errors = validate_goal(
            metric=self.metric,
            comparator=self.comparator,
            # A target that is not a number was already reported by clean_fields().
            target=self.target if isinstance(self.target, Decimal) else None,
            period=self.period,
            filters=self.filters,
        )
        if errors:
            raise ValidationError(errors)

    @property
    def formula(self) -> Formula:
        return FORMULAS[self.metric]

    @property
    def unit(self) -> str:
        return self.formula.unit

    @property
    def title(self) -> str:
        """The name given, or "Logo churn rate ≤ 2%" in the reader's language."""
        if self.name:
            return self.name
        return f"{self.formula.label} {self.get_comparator_display()} {self.target_text}"

    @property
    def target_text(self) -> str:
        from tend.goals.display import format_value

        return format_value(self.target, self.unit)

    def customer_filters(self) -> Filters:
        """The goal's customer slice (all customers when it has none)."""
        return Filters.parse({**self.filters, "period": self.period})

    def is_met(self, value: Decimal) -> bool:
        if self.comparator == Comparator.AT_MOST:
            return value <= self.target
        return value >= self.target

    def progress(self, value: Decimal | None) -> float:
        """How far towards the target, 0–100 (100 when met).

        "At least" goals: value ÷ target. "At most" goals (churn): target ÷ value, so 3 %
        churn against a 2 % ceiling is 67 %. 0 when the ratio has no meaning (no value,
        a target or value of zero or below).
        """
        if value is None:
            return 0.0
        if self.is_met(value):
            return 100.0
        part, whole = (
            (value, self.target) if self.comparator == Comparator.AT_LEAST else (self.target, value)
        )
        if part <= 0 or whole <= 0:
            return 0.0
        return round(min(float(part / whole) * 100, 100.0), 1)


class AlertKind(models.TextChoices):
    INITIAL = "initial", _("First reading")
    MET = "met", _("Target met")
    MISSED = "missed", _("Target missed")


class GoalAlert(models.Model):
    """A change of a goal's status in one period: the goal's timeline.

    The first reading of a period (``initial``) is recorded without an email; every later
    change (``met``/``missed``) is a crossing and is emailed to the owners. ``seq`` numbers
    the rows of one goal revision and period; the unique constraint makes two evaluators
    racing on the same crossing record (and email) it once.
    """

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="alerts")
    revision = models.PositiveIntegerField()
    period = models.CharField(_("period"), max_length=8)  # "2025-03", "2025-Q1", "2025"
    period_start = models.DateField()
    seq = models.PositiveIntegerField()
    kind = models.CharField(_("kind"), max_length=8, choices=AlertKind.choices)
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)
    target = models.DecimalField(_("target"), max_digits=16, decimal_places=4)
    comparator = models.CharField(max_length=3, choices=Comparator.choices)
    met = models.BooleanField(_("met"))
    # The period had ended when this was read (its figures are final, not to date).
    final = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)
    # Set when a sender claims the alert; put back to null if sending failed, so it is retried.
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("goal alert")
        verbose_name_plural = _("goal alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["goal", "revision", "period", "seq"], name="goalalert_sequence_unique"
            )
        ]
        indexes = [
            # The goal's timeline on /goals/ and the API (newest first).
            models.Index(fields=["goal", "-at"], name="goalalert_goal_at_idx"),
            # goal_alerts_notify: crossings whose email has not gone out yet.
            models.Index(
                fields=["at"],
                name="goalalert_unsent_idx",
                condition=Q(notified_at__isnull=True) & ~Q(kind="initial"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.goal_id} {self.period} {self.kind}"

    @property
    def is_crossing(self) -> bool:
        return self.kind != AlertKind.INITIAL
