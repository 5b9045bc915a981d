"""The built-in playbook triggers.

Change triggers read the customer-change outbox (one consumer, "playbooks"): stage entered,
health colour changed, health score below, segment entered or left — the occurrence is the
change's id, so a change is acted on once. Date triggers (renewal, birthday, signup
anniversary, holiday) and the recurring schedule are scanned once per local day at the
business hour; the occurrence is the date they are about (a renewal date and how many days
before it, a year, a holiday), so a second scan enrolls nobody twice. The event trigger reads
events by arrival time; the occurrence is the event's id. Manual playbooks are started from a
customer or a segment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from tend.customers.models import Customer, Stage
from tend.playbooks.config import config_int, stage_label
from tend.playbooks.registry import ConfigError, Enrollment, Setting, Trigger, triggers
from tend.playbooks.timing import business_hour, local_date, local_instant

MAX_DAYS_BEFORE = 365


# --- manual --------------------------------------------------------------------------------


def _no_config(config: dict[str, Any]) -> dict[str, Any]:
    return {}


# --- stage entered -------------------------------------------------------------------------


def stage_clean(config: dict[str, Any]) -> dict[str, Any]:
    stage = config.get("stage")
    if stage not in Stage.values:
        raise ConfigError(
            _("Choose a stage: %(stages)s.") % {"stages": ", ".join(Stage.values)}, field="stage"
        )
    return {"stage": stage}


def stage_match(config: dict[str, Any], change: Any) -> str | None:
    data = change.data or {}
    if data.get("to") == config.get("stage") and data.get("from") != data.get("to"):
        return f"stage:{change.pk}"
    return None


def stage_preview(config: dict[str, Any], now: datetime, limit: int) -> Iterator[Enrollment]:
    qs = Customer.objects.filter(stage=config.get("stage")).order_by("pk")
    for pk in qs.values_list("pk", flat=True)[:limit]:
        yield Enrollment(pk, "preview")


# --- health --------------------------------------------------------------------------------


COLOURS = ("red", "amber", "green")


def _colour_label(value: str) -> str:
    from tend.health.models import Colour

    try:
        return str(Colour(value).label)
    except ValueError:
        return value


def colour_clean(config: dict[str, Any]) -> dict[str, Any]:
    colour = config.get("colour")
    if colour not in COLOURS:
        raise ConfigError(_("Choose red, amber or green."), field="colour")
    return {"colour": colour}


def colour_match(config: dict[str, Any], change: Any) -> str | None:
    data = change.data or {}
    if data.get("to") == config.get("colour") and data.get("from") != data.get("to"):
        return f"health:{change.pk}"
    return None


def colour_preview(config: dict[str, Any], now: datetime, limit: int) -> Iterator[Enrollment]:
    qs = Customer.objects.filter(health__colour=config.get("colour")).order_by("pk")
    for pk in qs.values_list("pk", flat=True)[:limit]:
        yield Enrollment(pk, "preview")


def score_clean(config: dict[str, Any]) -> dict[str, Any]:
    return {"score": config_int(config, "score", 1, 100)}


def score_match(config: dict[str, Any], change: Any) -> str | None:
    data = change.data or {}
    score = data.get("score")
    if isinstance(score, bool) or not isinstance(score, int | float):
        return None
    if score < int(config.get("score") or 0):
        return f"health:{change.pk}"
    return None


def score_preview(config: dict[str, Any], now: datetime, limit: int) -> Iterator[Enrollment]:
    qs = Customer.objects.filter(health__score__lt=config.get("score")).order_by("pk")
    for pk in qs.values_list("pk", flat=True)[:limit]:
        yield Enrollment(pk, "preview")


# --- segment entered / left ----------------------------------------------------------------


def segment_clean(config: dict[str, Any]) -> dict[str, Any]:
    from tend.segments.models import Segment

    raw = config.get("segment")
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) < 19:
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 < raw < 2**63:
        raise ConfigError(_("Choose a segment."), field="segment")
    if not Segment.objects.filter(pk=raw).exists():
        raise ConfigError(_("There is no segment with this id."), field="segment")
    return {"segment": raw}


def _segment_name(config: dict[str, Any]) -> str:
    from tend.segments.models import Segment

    segment = Segment.objects.filter(pk=config.get("segment") or 0).first()
    return segment.name if segment is not None else f"#{config.get('segment')}"


def _segment_match(entered: bool) -> Any:
    def match(config: dict[str, Any], change: Any) -> str | None:
        data = change.data or {}
        if data.get("segment") == config.get("segment") and bool(data.get("entered")) is entered:
            return f"segment:{change.pk}"
        return None

    return match


def _segment_preview(entered: bool) -> Any:
    def preview(config: dict[str, Any], now: datetime, limit: int) -> Iterator[Enrollment]:
        from tend.segments.models import SegmentMember

        members = SegmentMember.objects.filter(segment_id=int(config.get("segment") or 0)).values(
            "customer_id"
        )
        qs = Customer.objects.all()
        qs = qs.filter(pk__in=members) if entered else qs.exclude(pk__in=members)
        for pk in qs.order_by("pk").values_list("pk", flat=True)[:limit]:
            yield Enrollment(pk, "preview")

    return preview


# --- date triggers -------------------------------------------------------------------------


def _days_before_clean(config: dict[str, Any], *, many: bool = False) -> list[int] | int:
    raw = config.get("days_before", 0)
    if many and isinstance(raw, list):
        if not raw or len(raw) > 6:
            raise ConfigError(_("Give 1 to 6 numbers of days."), field="days_before")
        values = sorted(
            {config_int({"days_before": v}, "days_before", 0, MAX_DAYS_BEFORE) for v in raw},
            reverse=True,
        )
        return values
    value = config_int(config, "days_before", 0, MAX_DAYS_BEFORE, 0)
    return [value] if many else value


def _ids(qs: Any) -> Iterator[int]:
    yield from qs.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=5_000)


def renewal_clean(config: dict[str, Any]) -> dict[str, Any]:
    return {"days_before": _days_before_clean(config, many=True)}


RENEWING = ("active", "trialing", "past_due")


def renewal_scan(config: dict[str, Any], moment: datetime) -> Iterator[Enrollment]:
    from tend.billing.models import Subscription

    day = local_date(moment)
    for days in config.get("days_before") or [0]:
        target = day + timedelta(days=int(days))
        rows = (
            Subscription.objects.filter(
                status__in=RENEWING,
                current_period_end__gte=local_instant(target),
                current_period_end__lt=local_instant(target + timedelta(days=1)),
            )
            .order_by("customer_id")
            .values_list("customer_id", flat=True)
            .distinct()
        )
        context = {"days_left": int(days), "renewal_date": target.isoformat()}
        for cid in rows.iterator(chunk_size=5_000):
            yield Enrollment(cid, f"renewal:{target.isoformat()}:{days}", context)


def _month_day_q(target: date, field: str) -> Any:
    from django.db.models import Q

    q = Q(**{f"{field}__month": target.month, f"{field}__day": target.day})
    leap = target.year % 4 == 0 and (target.year % 100 != 0 or target.year % 400 == 0)
    if target.month == 2 and target.day == 28 and not leap:
        q |= Q(**{f"{field}__month": 2, f"{field}__day": 29})  # 29 February, in other years
    return q


def birthday_clean(config: dict[str, Any]) -> dict[str, Any]:
    return {"days_before": _days_before_clean(config)}


def birthday_scan(config: dict[str, Any], moment: datetime) -> Iterator[Enrollment]:
    target = local_date(moment) + timedelta(days=int(config.get("days_before") or 0))
    qs = Customer.objects.filter(_month_day_q(target, "birthday"))
    context = {"birthday": target.isoformat()}
    for cid in _ids(qs):
        yield Enrollment(cid, f"birthday:{target.year}", context)


def anniversary_scan(config: dict[str, Any], moment: datetime) -> Iterator[Enrollment]:
    target = local_date(moment) + timedelta(days=int(config.get("days_before") or 0))
    qs = Customer.objects.filter(
        _month_day_q(target, "signed_up_at"), signed_up_at__lt=local_instant(target)
    )
    rows = qs.order_by("pk").values_list("pk", "signed_up_at").iterator(chunk_size=5_000)
    for cid, signed_up in rows:
        years = target.year - local_date(signed_up).year
        if years >= 1:
            yield Enrollment(
                cid, f"anniversary:{target.year}", {"years": years, "anniversary": str(target)}
            )


@lru_cache(maxsize=1)
def supported_countries() -> frozenset[str]:
    import holidays

    return frozenset(holidays.list_supported_countries())


@lru_cache(maxsize=256)
def _holidays(country: str, year: int, language: str | None = None) -> dict[date, str]:
    import holidays

    try:
        if language is not None:
            calendar = holidays.country_holidays(country, years=year)
            if language not in (calendar.supported_languages or ()):
                return {}
            found = holidays.country_holidays(country, years=year, language=language)
        else:
            found = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return {}
    return dict(found.items())


ZH_SUFFIX_RE = re.compile(r"（[^）]*）$")


def holiday_name_zh(country: str, day: date) -> str:
    """The holiday's name in Simplified Chinese where the calendar has one ("春节"), else ""."""
    name = _holidays(country, day.year, "zh_CN").get(day, "")
    return ZH_SUFFIX_RE.sub("", name.split(";")[0]).strip()


OBSERVED_RE = re.compile(r"\s*\((observed|estimated)\)", re.I)


def holiday_on(country: str, day: date, wanted: str = "") -> str | None:
    """The holiday of ``country`` on ``day`` (its name, without "(observed)"), or None;
    ``wanted`` keeps only names holding that text (e.g. "Spring Festival")."""
    name = _holidays(country, day.year).get(day)
    if not name:
        return None
    for part in name.split(";"):
        clean = OBSERVED_RE.sub("", part).strip()
        if not wanted or wanted.casefold() in clean.casefold():
            return clean
    return None


def holiday_clean(config: dict[str, Any]) -> dict[str, Any]:
    country = str(config.get("country") or "").strip()
    if country.lower() == "customer":
        country = "customer"
    else:
        country = country.upper()
        if country not in supported_countries():
            raise ConfigError(
                _("Give a country code the holiday calendar knows (CN, US, GB, …) or “customer”."),
                field="country",
            )
    wanted = config.get("holiday") or ""
    if not isinstance(wanted, str) or len(wanted) > 80 or "\x00" in wanted:
        raise ConfigError(_("At most 80 characters."), field="holiday")
    return {
        "country": country,
        "holiday": wanted.strip(),
        "days_before": _days_before_clean(config),
    }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def holiday_scan(config: dict[str, Any], moment: datetime) -> Iterator[Enrollment]:
    target = local_date(moment) + timedelta(days=int(config.get("days_before") or 0))
    wanted = str(config.get("holiday") or "")
    country = str(config.get("country") or "")
    if country == "customer":
        countries = (
            Customer.objects.exclude(country="")
            .order_by()
            .values_list("country", flat=True)
            .distinct()
        )
        groups = [(c.upper(), Customer.objects.filter(country=c)) for c in countries]
    else:
        groups = [(country, Customer.objects.all())]
    for code, qs in groups:
        if code not in supported_countries():
            continue
        name = holiday_on(code, target, wanted)
        if name is None:
            continue
        # The first day of a holiday of several days (the Spring Festival's week) counts.
        occurrence = f"holiday:{code}:{target.year}:{_slug(name)}"
        context = {"holiday": name, "holiday_date": target.isoformat(), "country": code}
        zh = holiday_name_zh(code, target)
        if zh:
            context["holiday_zh_hans"] = zh
        for cid in _ids(qs):
            yield Enrollment(cid, occurrence, context)


# --- recurring -----------------------------------------------------------------------------


def recurring_clean(config: dict[str, Any]) -> dict[str, Any]:
    every = config.get("every")
    if every == "month":
        return {"every": "month", "day": config_int(config, "day", 1, 28)}
    if every == "week":
        return {"every": "week", "weekday": config_int(config, "weekday", 0, 6)}
    raise ConfigError(_("Choose “month” or “week”."), field="every")


def recurring_due(config: dict[str, Any], day: date) -> bool:
    if config.get("every") == "month":
        return day.day == int(config.get("day") or 1)
    return day.weekday() == int(config.get("weekday") or 0)


def recurring_scan(config: dict[str, Any], moment: datetime) -> Iterator[Enrollment]:
    day = local_date(moment)
    if not recurring_due(config, day):
        return
    for cid in _ids(Customer.objects.all()):
        yield Enrollment(cid, f"recurring:{day.isoformat()}", {"due": day.isoformat()})


# --- event received ------------------------------------------------------------------------


PROPERTY_OPS = ("equals", "contains", "exists")


def event_clean(config: dict[str, Any]) -> dict[str, Any]:
    name = config.get("event")
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or "\x00" in name:
        raise ConfigError(_("Give the event's name (at most 200 characters)."), field="event")
    props = config.get("properties") or []
    if not isinstance(props, list) or len(props) > 10:
        raise ConfigError(_("At most 10 property tests."), field="properties")
    clean = []
    for i, prop in enumerate(props):
        where = f"properties[{i}]"
        if not isinstance(prop, dict):
            raise ConfigError(_("A property test is an object."), field=where)
        key = prop.get("key")
        if not isinstance(key, str) or not key.strip() or len(key) > 100 or "\x00" in key:
            raise ConfigError(_("Give the property's name."), field=f"{where}.key")
        op = prop.get("op", "equals")
        if op not in PROPERTY_OPS:
            raise ConfigError(_("Choose equals, contains or exists."), field=f"{where}.op")
        item: dict[str, Any] = {"key": key.strip(), "op": op}
        if op != "exists":
            value = prop.get("value")
            if not isinstance(value, str | int | float | bool) or (
                isinstance(value, str) and (len(value) > 200 or "\x00" in value)
            ):
                raise ConfigError(_("Give a text or a number."), field=f"{where}.value")
            item["value"] = value
        clean.append(item)
    return {"event": name.strip(), "properties": clean}


def event_properties_match(config: dict[str, Any], properties: Any) -> bool:
    props = properties if isinstance(properties, dict) else {}
    for test in config.get("properties") or []:
        key, op = test["key"], test["op"]
        if key not in props or props[key] is None:
            return False
        value = props[key]
        if op == "equals" and not (
            value == test["value"] or str(value).casefold() == str(test["value"]).casefold()
        ):
            return False
        if op == "contains" and str(test["value"]).casefold() not in str(value).casefold():
            return False
    return True


def event_scan(config: dict[str, Any], now: datetime) -> Iterator[Enrollment]:
    from tend.activity.models import Event

    since = datetime.fromisoformat(config["_since"]) if config.get("_since") else now
    rows = (
        Event.objects.filter(
            name=config.get("event"),
            received_at__gte=since,
            received_at__lte=now,
            customer__isnull=False,
        )
        .order_by("received_at", "pk")
        .values_list("pk", "customer_id", "properties")
    )
    for pk, cid, properties in rows.iterator(chunk_size=2_000):
        if event_properties_match(config, properties):
            yield Enrollment(cid, f"event:{pk}", {"event": config.get("event")})


def event_preview(config: dict[str, Any], now: datetime, limit: int) -> Iterator[Enrollment]:
    """Customers with a matching event in the last day."""
    seen: set[int] = set()
    config = {**config, "_since": (now - timedelta(days=1)).isoformat()}
    for item in event_scan(config, now):
        if item.customer_id not in seen:
            seen.add(item.customer_id)
            yield item
            if len(seen) >= limit:
                return


# --- previews and words --------------------------------------------------------------------


PREVIEW_DAYS = 7


def _date_preview(scan: Any) -> Any:
    """Date triggers in a dry run: whose date falls in the next seven days of scans."""

    def preview(config: dict[str, Any], now: datetime, limit: int) -> Iterator[Enrollment]:
        day = local_date(now)
        found = 0
        for offset in range(PREVIEW_DAYS):
            moment = local_instant(day + timedelta(days=offset), business_hour())
            for item in scan(config, moment):
                yield item
                found += 1
                if found >= limit:
                    return

    return preview


def _days(n: int) -> str:
    return ngettext("%(n)s day", "%(n)s days", n) % {"n": n}


def _renewal_describe(config: dict[str, Any]) -> str:
    values = [int(v) for v in (config.get("days_before") or [0])]
    return ngettext(
        "%(days)s day before a renewal", "%(days)s days before a renewal", values[-1]
    ) % {"days": ", ".join(str(v) for v in values)}


def _before(text: str, config: dict[str, Any]) -> str:
    days = int(config.get("days_before") or 0)
    if not days:
        return text
    return _("%(days)s before: %(what)s") % {"days": _days(days), "what": text}


def _holiday_shown(country: str, wanted: str) -> str:
    """The holiday a playbook waits for, as the reader would name it: "春节" for "Spring
    Festival" in China when the calendar has the Chinese name; otherwise as written."""
    if not wanted or country == "customer" or not get_language().startswith("zh"):
        return wanted
    year = date.today().year
    for day in sorted({**_holidays(country, year), **_holidays(country, year + 1)}):
        if holiday_on(country, day, wanted):
            return holiday_name_zh(country, day) or wanted
    return wanted


def _holiday_describe(config: dict[str, Any]) -> str:
    country = config.get("country", "")
    where = _("the customer's country") if country == "customer" else country
    what = _holiday_shown(country, str(config.get("holiday") or "")) or _("any public holiday")
    return _before(_("Holiday (%(what)s) in %(where)s") % {"what": what, "where": where}, config)


def _recurring_describe(config: dict[str, Any]) -> str:
    from tend.playbooks.steps import weekday_name

    if config.get("every") == "month":
        return _("Every month on day %(day)s") % {"day": config.get("day")}
    return _("Every week on %(weekday)s") % {
        "weekday": weekday_name(int(config.get("weekday") or 0))
    }


def _event_describe(config: dict[str, Any]) -> str:
    text = _("Event received: %(event)s") % {"event": config.get("event", "")}
    tests = config.get("properties") or []
    if tests:
        parts = []
        for t in tests:
            if t["op"] == "exists":
                parts.append(_("%(key)s is set") % {"key": t["key"]})
            elif t["op"] == "contains":
                parts.append(_("%(key)s contains “%(value)s”") % t)
            else:
                parts.append(_("%(key)s = “%(value)s”") % t)
        text += " (" + ", ".join(parts) + ")"
    return text


def register_triggers() -> None:
    stage_choices = tuple((s.value, s.label) for s in Stage)
    colour_choices = (
        ("red", gettext_lazy("Red")),
        ("amber", gettext_lazy("Amber")),
        ("green", gettext_lazy("Green")),
    )
    days_before = Setting(
        "days_before",
        gettext_lazy("Days before"),
        "int",
        required=False,
        min=0,
        max=MAX_DAYS_BEFORE,
        default=0,
    )
    entries: Iterable[Trigger] = (
        Trigger(
            name="manual",
            label=gettext_lazy("Started by hand"),
            clean=_no_config,
            describe=lambda c: _("Started by hand on a customer or a segment"),
            manual=True,
            order=1,
        ),
        Trigger(
            name="stage_entered",
            label=gettext_lazy("Stage entered"),
            clean=stage_clean,
            describe=lambda c: (
                _("Stage entered: %(stage)s") % {"stage": stage_label(c.get("stage", ""))}
            ),
            kinds=("stage",),
            match=stage_match,
            preview=stage_preview,
            listens=lambda c: [("stage", str(c.get("stage")))],
            order=10,
            settings=(Setting("stage", gettext_lazy("Stage"), "stage", choices=stage_choices),),
        ),
        Trigger(
            name="health_colour",
            label=gettext_lazy("Health colour changed"),
            clean=colour_clean,
            describe=lambda c: (
                _("Health turned %(colour)s")
                % {"colour": _colour_label(c.get("colour", "")).lower()}
            ),
            kinds=("health",),
            match=colour_match,
            preview=colour_preview,
            listens=lambda c: [("health", str(c.get("colour")))],
            order=20,
            settings=(Setting("colour", gettext_lazy("Colour"), "choice", choices=colour_choices),),
        ),
        Trigger(
            name="health_score_below",
            label=gettext_lazy("Health score below"),
            clean=score_clean,
            describe=lambda c: _("Health score fell below %(score)s") % {"score": c.get("score")},
            kinds=("health",),
            match=score_match,
            preview=score_preview,
            order=21,
            settings=(Setting("score", gettext_lazy("Score"), "int", min=1, max=100),),
        ),
        Trigger(
            name="segment_entered",
            label=gettext_lazy("Segment entered"),
            clean=segment_clean,
            describe=lambda c: _("Entered segment “%(segment)s”") % {"segment": _segment_name(c)},
            kinds=("segment",),
            match=_segment_match(True),
            preview=_segment_preview(True),
            listens=lambda c: [("segment", str(c.get("segment")))],
            order=30,
            settings=(Setting("segment", gettext_lazy("Segment"), "segment"),),
        ),
        Trigger(
            name="segment_left",
            label=gettext_lazy("Segment left"),
            clean=segment_clean,
            describe=lambda c: _("Left segment “%(segment)s”") % {"segment": _segment_name(c)},
            kinds=("segment",),
            match=_segment_match(False),
            preview=_segment_preview(False),
            listens=lambda c: [("segment", str(c.get("segment")))],
            order=31,
            settings=(Setting("segment", gettext_lazy("Segment"), "segment"),),
        ),
        Trigger(
            name="renewal",
            label=gettext_lazy("Days before a renewal"),
            clean=renewal_clean,
            describe=_renewal_describe,
            scan=renewal_scan,
            preview=_date_preview(renewal_scan),
            order=40,
            settings=(
                Setting(
                    "days_before",
                    gettext_lazy("Days before"),
                    "text",
                    help=gettext_lazy("One number or several (60, 30, 7): a run for each."),
                ),
            ),
        ),
        Trigger(
            name="birthday",
            label=gettext_lazy("Birthday"),
            clean=birthday_clean,
            describe=lambda c: _before(_("Birthday"), c),
            scan=birthday_scan,
            preview=_date_preview(birthday_scan),
            order=41,
            settings=(days_before,),
        ),
        Trigger(
            name="anniversary",
            label=gettext_lazy("Signup anniversary"),
            clean=birthday_clean,
            describe=lambda c: _before(_("Signup anniversary"), c),
            scan=anniversary_scan,
            preview=_date_preview(anniversary_scan),
            order=42,
            settings=(days_before,),
        ),
        Trigger(
            name="holiday",
            label=gettext_lazy("Public holiday"),
            clean=holiday_clean,
            describe=_holiday_describe,
            scan=holiday_scan,
            preview=_date_preview(holiday_scan),
            order=43,
            settings=(
                Setting(
                    "country",
                    gettext_lazy("Country"),
                    "country",
                    help=gettext_lazy("A country code (CN, US, GB…) or “customer”."),
                ),
                Setting(
                    "holiday",
                    gettext_lazy("Only holidays named"),
                    "text",
                    required=False,
                    max=80,
                    help=gettext_lazy("e.g. “Spring Festival”; empty: every public holiday."),
                ),
                days_before,
            ),
        ),
        Trigger(
            name="recurring",
            label=gettext_lazy("Recurring schedule"),
            clean=recurring_clean,
            describe=_recurring_describe,
            scan=recurring_scan,
            preview=_date_preview(recurring_scan),
            order=50,
            settings=(
                Setting(
                    "every",
                    gettext_lazy("Every"),
                    "choice",
                    choices=(("month", gettext_lazy("Month")), ("week", gettext_lazy("Week"))),
                ),
                Setting(
                    "day", gettext_lazy("Day of the month"), "int", required=False, min=1, max=28
                ),
                Setting("weekday", gettext_lazy("Weekday"), "weekday", required=False),
            ),
        ),
        Trigger(
            name="event",
            label=gettext_lazy("Event received"),
            clean=event_clean,
            describe=_event_describe,
            scan=event_scan,
            preview=event_preview,
            order=60,
            settings=(
                Setting("event", gettext_lazy("Event name"), "text", max=200),
                Setting(
                    "properties",
                    gettext_lazy("Property tests"),
                    "json",
                    required=False,
                    help=gettext_lazy(
                        '[{"key": "plan", "op": "equals"|"contains"|"exists", "value": "pro"}]'
                    ),
                ),
            ),
        ),
    )
    for entry in entries:
        triggers.register(entry)
