"""The words of an experiment's results, in the reader's language: the verdict sentence, the
outcome's formula and how the statistics are computed (docs/experiments.md, "The sentence")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from tend.playbooks.experiments import ExperimentResults, Outcome


def points(fraction: float, *, signed: bool = False) -> str:
    """0.081 → "8.1"; with ``signed`` a real minus sign for negatives ("−3.6")."""
    value = round(fraction * 100, 1)
    if value == 0:
        value = 0.0  # no "−0.0"
    text = f"{abs(value):.1f}"
    return f"−{text}" if signed and value < 0 else text


def formula_text(outcome: Outcome) -> str:
    days = outcome.days
    if outcome.kind == "event":
        return _(
            "Event rate = customers who did “%(event)s” within %(days)d days of entering ÷ "
            "customers who entered at least %(days)d days ago."
        ) % {"event": outcome.event, "days": days}
    if outcome.kind == "mrr":
        return _(
            "MRR kept = MRR %(days)d days after entering ÷ MRR when entering, averaged over the "
            "customers who were paying when they entered at least %(days)d days ago."
        ) % {"days": days}
    return _(
        "Retention = customers still paying %(days)d days after entering ÷ customers who were "
        "paying when they entered at least %(days)d days ago. Paying means MRR above 0 in the "
        "MRR ledger, as in the logo churn of the metrics."
    ) % {"days": days}


def statistics_text(outcome: Outcome) -> str:
    if outcome.kind == "mrr":
        return _(
            "Difference = treated − control. 95%% confidence interval and p-value from Welch's "
            "t-test; customers needed for %(power)d%% power at the %(alpha)d%% level."
        ) % {"power": 80, "alpha": 5}
    return _(
        "Difference = treated − control, in percentage points. 95%% confidence interval by "
        "Newcombe's hybrid score method, p-value from the score test; customers needed for "
        "%(power)d%% power at the %(alpha)d%% level."
    ) % {"power": 80, "alpha": 5}


def outcome_label(outcome: Outcome) -> str:
    if outcome.kind == "event":
        return _("Did “%(event)s” within %(days)d days") % {
            "event": outcome.event,
            "days": outcome.days,
        }
    if outcome.kind == "mrr":
        return _("MRR kept after %(days)d days") % {"days": outcome.days}
    return _("Retention after %(days)d days") % {"days": outcome.days}


def _effect(results: ExperimentResults) -> str:
    c = results.comparison
    assert c is not None
    values = {
        "points": points(c.difference),
        "low": points(c.low, signed=True),
        "high": points(c.high, signed=True),
        "event": results.outcome.event,
    }
    kind, better = results.outcome.kind, c.difference > 0
    if kind == "event":
        text = (
            _("Treated customers did “%(event)s” %(points)s points more often")
            if better
            else _("Treated customers did “%(event)s” %(points)s points less often")
        )  # fmt: skip
    elif kind == "mrr":
        text = (
            _("Treated customers kept %(points)s points more of their MRR")
            if better
            else _("Treated customers kept %(points)s points less of their MRR")
        )  # fmt: skip
    else:
        text = (
            _("Treated customers were retained %(points)s points more often")
            if better
            else _("Treated customers were retained %(points)s points less often")
        )  # fmt: skip
    return _("%(effect)s (95%% CI %(low)s to %(high)s)") % {**values, "effect": text % values}


def sentence_text(results: ExperimentResults) -> str:
    """The verdict as one plain sentence (see ``ExperimentResults.verdict``)."""
    from tend.playbooks.experiments import MIN_PER_GROUP

    verdict = results.verdict
    if verdict == "no_control":
        return _(
            "This playbook has no control group, so there is nothing to compare: hold out a "
            "control group to learn whether it works."
        )
    if verdict == "not_enough":
        values = {
            "min": MIN_PER_GROUP,
            "days": results.outcome.days,
            "treated": results.treated.judged,
            "control": results.control.judged,
            "waiting": results.treated.waiting + results.control.waiting,
        }
        if values["waiting"]:
            return (
                _(
                    "Not enough data: at least %(min)d customers per group have to be %(days)d "
                    "days past enrollment (now %(treated)d treated and %(control)d control; "
                    "%(waiting)d still waiting)."
                )
                % values
            )
        return (
            _(
                "Not enough data: at least %(min)d customers per group have to be %(days)d days "
                "past enrollment (now %(treated)d treated and %(control)d control)."
            )
            % values
        )
    c = results.comparison
    assert c is not None
    if verdict == "works":
        return _("%(effect)s: the playbook works.") % {"effect": _effect(results)}
    if verdict == "harms":
        return _("%(effect)s: the playbook seems to do harm.") % {"effect": _effect(results)}
    target = points(c.target)
    if verdict == "need_more":
        more_t, more_c = results.more_treated, results.more_control
        more = {"treated": more_t, "control": more_c, "target": target}
        if more_t and more_c:
            return (
                _(
                    "No detectable difference yet: need about %(treated)d more treated and "
                    "%(control)d more control customers to detect a difference of %(target)s "
                    "points."
                )
                % more
            )
        if more_t:
            return (
                _(
                    "No detectable difference yet: need about %(treated)d more treated customers "
                    "to detect a difference of %(target)s points."
                )
                % more
            )
        return (
            _(
                "No detectable difference yet: need about %(control)d more control customers to "
                "detect a difference of %(target)s points."
            )
            % more
        )
    return _(
        "No detectable difference: with groups this size a difference of %(target)s points or "
        "more would very likely have shown, so any effect is smaller."
    ) % {"target": target}
