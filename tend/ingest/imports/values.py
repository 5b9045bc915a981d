"""Value mapping: reading the values of a file (plan "Starter", country "德国", stage "已流失")
as Tend's own (a plan code, "DE", "churned").

Each mapped field that takes one of a fixed set of values (plans, acquisition channels,
countries, currencies, lifecycle stages, kinds, owners, subscription statuses, intervals,
order statuses) has a ``Rule``: what it takes as it is (``accept``), what it reads as an
obvious match (``suggest``: the same code or label in English or Chinese whatever the case,
spacing and punctuation; ISO country and currency names in both languages from pycountry;
a few common aliases such as UK → GB), and the values it allows, to list in messages.

The mapping step shows the values of a file that are not Tend's, each with its suggestion
(``value_rows``); the founder's choices are kept on the import (``Import.value_map``) and
every row is read through them (``ValueMap``). A value with neither a choice nor a suggestion
is refused with the allowed values listed, or becomes a new plan or channel when asked.
"""

from __future__ import annotations

import dataclasses
import gettext
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

import pycountry
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

# The fields of each kind whose values are read through a rule (see ``rule_for``).
VALUE_FIELDS: dict[str, tuple[str, ...]] = {
    "customers": ("plan", "channel", "country", "stage", "kind", "owner"),
    "subscriptions": ("plan", "status", "interval", "currency"),
    "orders": ("status", "currency"),
    "contacts": ("marketing_consent",),
}
# The reason a value with no match is refused with, per kind and field.
REASONS: dict[tuple[str, str], str] = {
    ("customers", "plan"): "unknown_plan",
    ("customers", "channel"): "unknown_channel",
    ("customers", "country"): "bad_country",
    ("customers", "stage"): "bad_stage",
    ("customers", "kind"): "bad_kind",
    ("customers", "owner"): "unknown_owner",
    ("subscriptions", "plan"): "unknown_plan",
    ("subscriptions", "status"): "bad_status",
    ("subscriptions", "interval"): "bad_interval",
    ("subscriptions", "currency"): "bad_currency",
    ("orders", "status"): "bad_order_status",
    ("orders", "currency"): "bad_currency",
    ("contacts", "marketing_consent"): "bad_consent",
}
SCAN_ROWS = 50_000  # rows read to list a file's values on the mapping step
SHOW = 200  # distinct values shown per field (most frequent first)
TRACK = 2_000  # distinct values counted per field while scanning
MAX_ENTRIES = 5_000  # entries of a value map, in all
MAX_VALUE = 255  # characters of a value in the file, as the map keeps it
LIST_FIRST = 12  # allowed values named in a message before "…"

# Common names that are no ISO name: read as the country (or currency, stage…) they name.
COUNTRY_ALIASES = {
    "uk": "GB", "england": "GB", "britain": "GB", "greatbritain": "GB", "scotland": "GB",
    "wales": "GB", "usa": "US", "us": "US", "america": "US", "unitedstatesofamerica": "US",
    "holland": "NL", "deutschland": "DE", "schweiz": "CH", "österreich": "AT",
    "españa": "ES", "italia": "IT", "southkorea": "KR", "korea": "KR", "russia": "RU",
    "vietnam": "VN", "taiwan": "TW", "iran": "IR", "syria": "SY", "laos": "LA",
    "czechia": "CZ", "czechrepublic": "CZ", "turkey": "TR", "türkiye": "TR",
    "中国大陆": "CN", "大陆": "CN", "内地": "CN", "美国": "US", "英国": "GB", "韩国": "KR",
    "南韩": "KR", "朝鲜": "KP", "北韩": "KP", "俄罗斯": "RU", "台湾": "TW", "中国台湾": "TW",
    "香港": "HK", "中国香港": "HK", "澳门": "MO", "中国澳门": "MO", "越南": "VN", "伊朗": "IR",
    "荷兰": "NL", "捷克": "CZ", "土耳其": "TR", "老挝": "LA", "叙利亚": "SY",
}  # fmt: skip
CURRENCY_ALIASES = {
    "€": "EUR", "euro": "EUR", "euros": "EUR", "欧元": "EUR", "£": "GBP", "pound": "GBP",
    "英镑": "GBP", "us$": "USD", "usdollar": "USD", "dollar": "USD", "美元": "USD",
    "美金": "USD", "rmb": "CNY", "人民币": "CNY", "元": "CNY", "￥": "CNY", "yuan": "CNY",
    "日元": "JPY", "yen": "JPY", "港币": "HKD", "港元": "HKD", "新台币": "TWD",
}  # fmt: skip
STAGE_ALIASES = {
    "lead": "prospect", "leads": "prospect", "潜在": "prospect", "潜在客户": "prospect",
    "线索": "prospect", "意向": "prospect", "意向客户": "prospect", "trialing": "trial",
    "intrial": "trial", "试用期": "trial", "试用中": "trial", "试用": "trial",
    "新客户": "onboarding", "上手": "onboarding", "入门": "onboarding", "实施": "onboarding",
    "实施中": "onboarding", "churn": "churned", "lost": "churned", "canceled": "churned",
    "cancelled": "churned", "流失": "churned", "已流失": "churned", "已取消": "churned",
    "待续费": "renewal_due", "续费": "renewal_due", "即将续费": "renewal_due",
    "有风险": "at_risk", "风险": "at_risk", "高风险": "at_risk", "增购": "expansion",
    "扩展": "expansion", "扩张": "expansion", "稳定": "established", "成熟": "established",
    "采用": "adopting", "使用中": "adopting",
}  # fmt: skip
KIND_ALIASES = {
    "business": "company", "b2b": "company", "organisation": "company",
    "organization": "company", "企业": "company", "公司": "company", "组织": "company",
    "individual": "person", "consumer": "person", "b2c": "person", "个人": "person",
}  # fmt: skip
CHANNEL_ALIASES = {
    "seo": "organic", "organic": "organic", "自然搜索": "organic", "sem": "paid_search",
    "ppc": "paid_search", "adwords": "paid_search", "googleads": "paid_search",
    "付费搜索": "paid_search", "竞价": "paid_search", "social": "social", "社交": "social",
    "社交媒体": "social", "referral": "referral", "referrals": "referral",
    "wordofmouth": "referral", "推荐": "referral", "转介绍": "referral", "口碑": "referral",
    "partners": "partner", "合作伙伴": "partner", "渠道商": "partner", "outbound": "outbound",
    "coldoutreach": "outbound", "外呼": "outbound", "陌拜": "outbound", "电销": "outbound",
    "应用市场": "marketplace", "blog": "content", "内容": "content", "其他": "other",
}  # fmt: skip


def norm(text: str) -> str:
    """``text`` as matching compares it: case, width, spacing and punctuation ignored."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).casefold())


def _key(text: str) -> str:
    """What the importer always read as the same code: lower case, "-" and " " as "_"."""
    return text.strip().lower().replace("-", "_").replace(" ", "_")


def _zh(label: Any) -> str:
    with translation.override("zh-hans"):
        return str(label)


def _en(label: Any) -> str:
    with translation.override("en"):
        return str(label)


@cache
def _iso_zh(domain: str) -> Callable[[str], str]:
    """pycountry's Chinese names for a standard (``iso3166-1``, ``iso4217``)."""
    try:
        return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["zh_CN"]).gettext
    except OSError:  # a pycountry without its translations: English names only
        return str


@cache
def _countries() -> tuple[dict[str, str], dict[str, str]]:
    """({alpha-2: English name}, {normalised name or alias: alpha-2})."""
    zh = _iso_zh("iso3166-1")
    codes: dict[str, str] = {}
    index: dict[str, str] = {}
    for c in pycountry.countries:
        code = c.alpha_2
        codes[code] = getattr(c, "common_name", None) or c.name
        for name in (c.name, getattr(c, "common_name", ""), getattr(c, "official_name", "")):
            if name:
                index.setdefault(norm(name), code)
                index.setdefault(norm(zh(name)), code)
        index.setdefault(norm(c.alpha_3), code)
        index.setdefault(norm(code), code)
    for alias, code in COUNTRY_ALIASES.items():
        index[norm(alias)] = code
    return codes, index


@cache
def _currencies() -> tuple[dict[str, str], dict[str, str]]:
    zh = _iso_zh("iso4217")
    codes: dict[str, str] = {}
    index: dict[str, str] = {}
    for c in pycountry.currencies:
        codes[c.alpha_3] = c.name
        index.setdefault(norm(c.alpha_3), c.alpha_3)
        index.setdefault(norm(c.name), c.alpha_3)
        index.setdefault(norm(zh(c.name)), c.alpha_3)
    for alias, code in CURRENCY_ALIASES.items():
        index[norm(alias) or alias] = code
    return codes, index


@dataclass
class Rule:
    """The values one field takes; see the module's docstring."""

    allowed: list[tuple[str, str]]  # (value, label) in the order they are offered
    accept: Callable[[str], str | None]  # the value as it is, or None
    index: dict[str, str] = field(default_factory=dict)  # normalised spelling → value

    def suggest(self, text: str) -> str | None:
        return self.index.get(norm(text) or text.strip())

    @property
    def codes(self) -> set[str]:
        return {code for code, _label in self.allowed}


def _choices_rule(
    choices: Iterable[tuple[Any, Any]], table: dict[str, str], aliases: dict[str, str]
) -> Rule:
    """A rule for a fixed choice list: ``table`` is what the importer already read as each
    value (lower-case keys), ``aliases`` more spellings read as an obvious match."""
    pairs = [(str(v), str(label)) for v, label in choices]
    values = {v for v, _l in pairs}
    index: dict[str, str] = {}
    for v, label in pairs:
        for spelling in (v, label, _en(label), _zh(label)):
            index.setdefault(norm(spelling), v)
    for spelling, v in [*table.items(), *aliases.items()]:
        if v in values:
            index[norm(spelling) or spelling] = v

    def accept(text: str) -> str | None:
        return table.get(_key(text))

    return Rule(allowed=pairs, accept=accept, index=index)


def _plan_rule() -> Rule:
    from tend.billing.models import Plan

    plans = list(Plan.objects.order_by("code").values_list("code", "name"))
    exact: dict[str, str] = {}
    index: dict[str, str] = {}
    for code, name in plans:
        exact[code.lower()] = code
        exact.setdefault(name.strip().lower(), code)
    for code, name in plans:
        index.setdefault(norm(code), code)
        index.setdefault(norm(name), code)
    return Rule(
        allowed=[(c, n) for c, n in plans], accept=lambda t: exact.get(t.lower()), index=index
    )


def _channel_rule() -> Rule:
    from tend.customers.channels import channel_choices
    from tend.customers.models import Channel

    pairs = channel_choices(include_archived=True)
    # The built-in codes are always taken, as ``validate_channel_code`` takes them.
    listed_codes = {code for code, _label in pairs}
    pairs += [(str(v), str(label)) for v, label in Channel.choices if v not in listed_codes]
    exact: dict[str, str] = {}
    index: dict[str, str] = {}
    for code, label in pairs:
        exact[code] = code
        exact.setdefault(code.lower(), code)
        exact.setdefault(_key(label), code)
        for spelling in (code, label):
            index.setdefault(norm(spelling), code)
        if code in Channel.values:  # a built-in channel, in both languages
            for spelling in (_en(Channel(code).label), _zh(Channel(code).label)):
                exact.setdefault(_key(spelling), code)
                index.setdefault(norm(spelling), code)
    codes = {c for c, _l in pairs}
    for spelling, code in CHANNEL_ALIASES.items():
        if code in codes:
            index.setdefault(norm(spelling), code)
    return Rule(allowed=pairs, accept=lambda t: exact.get(t) or exact.get(_key(t)), index=index)


def _named(codes: dict[str, str], domain: str) -> list[tuple[str, str]]:
    """(code, name) in the reader's language (Chinese names from pycountry), by code."""
    zh = (translation.get_language() or "").startswith("zh")
    name = _iso_zh(domain) if zh else str
    return [(code, name(label)) for code, label in sorted(codes.items())]


def _country_rule() -> Rule:
    codes, index = _countries()

    def accept(text: str) -> str | None:
        code = text.strip().upper()
        return code if len(code) == 2 and code.isascii() and code in codes else None

    return Rule(allowed=_named(codes, "iso3166-1"), accept=accept, index=index)


def _currency_rule() -> Rule:
    codes, index = _currencies()

    def accept(text: str) -> str | None:
        code = text.strip().upper()
        return code if len(code) == 3 and code.isascii() and code in codes else None

    return Rule(allowed=_named(codes, "iso4217"), accept=accept, index=index)


def _owner_rule() -> Rule:
    from tend.accounts.models import User

    users = list(
        User.objects.filter(is_active=True)
        .order_by("username")
        .values_list("username", "first_name", "last_name", "email")
    )
    exact: dict[str, str] = {}
    index: dict[str, str] = {}
    allowed = []
    for username, first, last, email in users:
        full = f"{first} {last}".strip()
        allowed.append((username, full or username))
        exact[username.lower()] = username
        for spelling in (username, email, full, f"{last}{first}"):
            if spelling:
                index.setdefault(norm(spelling), username)
    return Rule(allowed=allowed, accept=lambda t: exact.get(t.strip().lower()), index=index)


def rule_for(kind: str, name: str) -> Rule | None:
    """The rule for field ``name`` of a ``kind`` import; None for a free-text field."""
    if name not in VALUE_FIELDS.get(kind, ()):
        return None
    from tend.billing.models import Interval, OrderStatus, SubscriptionStatus
    from tend.customers.models import Kind, Stage
    from tend.ingest.imports import writers

    if name == "marketing_consent":
        from tend.customers.consent import SPELLINGS
        from tend.customers.models import MarketingConsent

        return _choices_rule(MarketingConsent.choices, SPELLINGS, {})
    if name == "plan":
        return _plan_rule()
    if name == "channel":
        return _channel_rule()
    if name == "country":
        return _country_rule()
    if name == "currency":
        return _currency_rule()
    if name == "owner":
        return _owner_rule()
    if name == "stage":
        return _choices_rule(Stage.choices, {v: v for v in Stage.values}, STAGE_ALIASES)
    if name == "kind":
        return _choices_rule(Kind.choices, {v: v for v in Kind.values}, KIND_ALIASES)
    if name == "interval":
        return _choices_rule(Interval.choices, writers.INTERVALS, {})
    if kind == "orders":
        return _choices_rule(OrderStatus.choices, writers.ORDER_STATUSES, {})
    return _choices_rule(SubscriptionStatus.choices, writers.STATUSES, {})


def listed(values: list[str], first: int = LIST_FIRST) -> str:
    """``a, b, c`` or, when long, the first few and "…"."""
    if not values:
        return _("none yet")
    shown = ", ".join(values[:first])
    return shown + (", …" if len(values) > first else "")


# --- the value map -------------------------------------------------------------------------


class ValueMapError(ValueError):
    """A value map that cannot be used; the message names every entry that is wrong."""


def check_value_map(kind: str, data: Any) -> dict[str, dict[str, str]]:
    """A value map as given (web form, ``--map-values``, a JSON file) made safe to keep:
    {field: {value in the file: allowed value}}. ValueMapError lists every problem at once:
    a field of no rule, a value that is too long or holds a NUL, a target not allowed."""
    if not isinstance(data, dict):
        raise ValueMapError(_('A value map is a JSON object: {"field": {"value": "to"}}.'))
    fields = VALUE_FIELDS.get(kind, ())
    errors: list[str] = []
    clean: dict[str, dict[str, str]] = {}
    entries = 0
    for name, pairs in data.items():
        shown = str(name)[:40]
        if name not in fields:
            errors.append(
                _("“%(field)s” takes no value mapping in a %(kind)s import; fields: %(fields)s.")
                % {"field": shown, "kind": kind, "fields": ", ".join(fields) or "—"}
            )
            continue
        if not isinstance(pairs, dict):
            errors.append(_("The values of “%(field)s” must be an object.") % {"field": shown})
            continue
        rule = rule_for(kind, name)
        assert rule is not None
        codes = rule.codes
        out: dict[str, str] = {}
        for source, target in pairs.items():
            entries += 1
            if not isinstance(source, str) or not isinstance(target, str):
                errors.append(_("“%(field)s”: values must be text.") % {"field": shown})
                continue
            if "\x00" in source or "\x00" in target:
                errors.append(
                    _("“%(field)s”: a value holds a NUL character (\\x00).") % {"field": shown}
                )
                continue
            if len(source) > MAX_VALUE or not source.strip():
                errors.append(
                    _("“%(field)s”: a value to map must have 1 to %(n)s characters.")
                    % {"field": shown, "n": MAX_VALUE}
                )
                continue
            if not target:
                continue  # no choice: the value is read as it is
            if target not in codes:
                errors.append(
                    _("“%(field)s”: “%(value)s” is not allowed; allowed: %(allowed)s.")
                    % {
                        "field": shown,
                        "value": target[:60],
                        "allowed": listed(sorted(codes)),
                    }
                )
                continue
            out[source.strip()] = target
        if out:
            clean[name] = out
    if entries > MAX_ENTRIES:
        errors.insert(
            0,
            _("A value map holds at most %(n)s values; this one holds %(m)s.")
            % {"n": f"{MAX_ENTRIES:,}", "m": f"{entries:,}"},
        )
    if errors:
        raise ValueMapError(" ".join(errors[:20]))
    return clean


def parse_map_values(items: Iterable[str]) -> dict[str, dict[str, str]]:
    """``["plan:Starter=basic", "country:Germany=DE"]`` → {"plan": {"Starter": "basic"}, …}."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        name, sep, rest = item.partition(":")
        source, eq, target = rest.rpartition("=")
        if not sep or not eq or not name.strip():
            raise ValueMapError(
                _(
                    "--map-values entries look like FIELD:VALUE=TO, e.g. plan:Starter=basic; "
                    "got “%(item)s”."
                )
                % {"item": item[:80]}
            )
        out.setdefault(name.strip(), {})[source] = target.strip()
    return out


@dataclass
class ValueMap:
    """How one import reads the values of its rule fields, shared by its writer's rows."""

    kind: str
    choices: dict[str, dict[str, str]] = field(default_factory=dict)
    create_plans: bool = False
    create_channels: bool = False
    owner_id: int | None = None
    stage: str = ""
    # (field, value in the file, value read) → rows, for matches made without a choice.
    auto: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    _rules: dict[str, Rule | None] = field(default_factory=dict)
    _normed: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, run: Any) -> ValueMap:
        options = run.options or {}
        return cls(
            kind=run.kind,
            choices=run.value_map or {},
            create_plans=bool(options.get("create_plans")),
            create_channels=bool(options.get("create_channels")),
            owner_id=options.get("owner") or None,
            stage=str(options.get("stage") or ""),
        )

    def rule(self, name: str) -> Rule | None:
        if name not in self._rules:
            self._rules[name] = rule_for(self.kind, name)
        return self._rules[name]

    def forget(self, name: str) -> None:
        """Build the rule of ``name`` again (a plan or channel was created)."""
        self._rules.pop(name, None)

    def read(self, name: str, text: str) -> tuple[str | None, str]:
        """(Tend's value, how: "choice", "as_is", "auto" or "") for a cleaned, non-empty
        ``text`` of field ``name``; (None, "") when nothing matches."""
        chosen = self.choices.get(name)
        if chosen:
            target = chosen.get(text)
            if target is None:
                normed = self._normed.get(name)
                if normed is None:
                    normed = self._normed[name] = {norm(k): v for k, v in chosen.items()}
                target = normed.get(norm(text))
            if target:
                return target, "choice"
        rule = self.rule(name)
        if rule is None:
            return text, "as_is"
        value = rule.accept(text)
        if value is not None:
            return value, "as_is"
        value = rule.suggest(text)
        if value is not None:
            self.auto[(name, text, value)] += 1
            return value, "auto"
        return None, ""


def new_plan_code(name: str) -> str:
    """The code a plan created for the value ``name`` gets (a slug of at most 60 characters)."""
    code = slugify(name)[:60].strip("-")
    if not code:  # a name of no Latin letters or digits, e.g. 基础版
        code = "plan-" + hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:10]
    return code


# --- the values of a file, for the mapping step ---------------------------------------------


@dataclass
class ValueRow:
    field: str
    label: str
    index: int  # position in its field's list: the form's select is named val_<field>_<index>
    value: str  # the most frequent spelling
    count: int  # rows of every spelling
    choice: str  # the founder's choice or the suggestion ("" when there is neither)
    suggested: bool
    # "starter" beside "Starter": one choice for both spellings
    others: list[str] = dataclasses.field(default_factory=list)


@dataclass
class FieldValues:
    field: str
    label: str
    rows: list[ValueRow]
    allowed: list[tuple[str, str]]
    more: int  # values not shown (beyond SHOW)
    scanned: int  # rows read
    complete: bool  # the whole file was read


def file_values(run: Any) -> list[FieldValues]:
    """For each rule field the import maps: the file's values that are not Tend's, the most
    frequent first (at most SHOW), each with the founder's choice or a suggestion."""
    from tend.ingest.imports.fields import fields_for
    from tend.ingest.imports.reading import Cleaner, Problem, open_table

    labels = {f.name: str(f.label) for f in fields_for(run.kind)}
    columns = {
        name: run.headers.index(header)
        for header, name in (run.mapping or {}).items()
        if name in VALUE_FIELDS.get(run.kind, ()) and header in run.headers
    }
    if not columns or not run.path:
        return []
    counts: dict[str, Counter[str]] = {name: Counter() for name in columns}
    cleaner = Cleaner()
    scanned = 0
    complete = True
    try:
        with open_table(Path(run.path), name=run.file_name) as table:
            for row in islice(table.rows, SCAN_ROWS + 1):
                if scanned == SCAN_ROWS:
                    complete = False
                    break
                scanned += 1
                for name, i in columns.items():
                    if i >= len(row) or row[i] in (None, ""):
                        continue
                    try:
                        text = cleaner.text(name, row[i])
                    except Problem:
                        continue  # refused row by row, with the reason
                    if not text or len(text) > MAX_VALUE:
                        continue
                    seen = counts[name]
                    if text in seen or len(seen) < TRACK:
                        seen[text] += 1
    except (OSError, ValueError):
        return []
    values = ValueMap.of(run)
    out: list[FieldValues] = []
    for name in VALUE_FIELDS[run.kind]:
        if name not in columns:
            continue
        rule = values.rule(name)
        assert rule is not None
        chosen = {norm(k): v for k, v in values.choices.get(name, {}).items()}
        # Spellings that differ only in case, spacing or punctuation are one value: the map
        # reads them alike (``ValueMap.read``).
        spellings: dict[str, list[tuple[str, int]]] = {}
        for v, n in counts[name].most_common():
            if rule.accept(v) is None:
                spellings.setdefault(norm(v) or v, []).append((v, n))
        unknown = sorted(spellings.values(), key=lambda s: -sum(n for _v, n in s))
        rows = []
        for i, group in enumerate(unknown[:SHOW]):
            value = group[0][0]
            choice = chosen.get(norm(value), "")
            suggested = False
            if not choice:
                choice = rule.suggest(value) or ""
                suggested = bool(choice)
            rows.append(
                ValueRow(
                    name,
                    labels.get(name, name),
                    i,
                    value,
                    sum(n for _v, n in group),
                    choice,
                    suggested,
                    [v for v, _n in group[1:6]],
                )
            )
        if rows:
            out.append(
                FieldValues(
                    field=name,
                    label=labels.get(name, name),
                    rows=rows,
                    allowed=rule.allowed,
                    more=max(len(unknown) - SHOW, 0),
                    scanned=scanned,
                    complete=complete,
                )
            )
    return out


# --- options of the mapping step -------------------------------------------------------------

# Which kinds offer which option.
OPTION_KINDS: dict[str, tuple[str, ...]] = {
    "create_plans": ("customers", "subscriptions"),
    "create_channels": ("customers",),
    "owner": ("customers",),
    "stage": ("customers",),
}


def check_options(
    kind: str,
    *,
    create_plans: bool = False,
    create_channels: bool = False,
    owner: str = "",
    stage: str = "",
) -> dict[str, Any]:
    """The mapping step's options as kept on the import. ``owner`` is a user name (or, from
    the web form, a user id); ``stage`` a stage code or name. ValueMapError lists every
    problem at once."""
    from tend.accounts.models import User
    from tend.customers.models import Stage

    errors: list[str] = []
    options: dict[str, Any] = {}
    for name, on in (("create_plans", create_plans), ("create_channels", create_channels)):
        if on:
            if kind not in OPTION_KINDS[name]:
                errors.append(
                    _("“%(option)s” is not an option of a %(kind)s import.")
                    % {"option": name, "kind": kind}
                )
            else:
                options[name] = True
    owner, stage = owner.strip(), stage.strip()
    if owner or stage:
        if kind not in OPTION_KINDS["owner"]:
            errors.append(_("Only a customers import takes an owner and a starting stage."))
        else:
            if owner:
                users = User.objects.filter(is_active=True)
                found = None
                if owner.isdigit() and len(owner) < 12:
                    found = users.filter(pk=int(owner)).first()
                elif "\x00" not in owner:  # PostgreSQL cannot even compare text with a NUL
                    found = users.filter(username__iexact=owner[:150]).first()
                if found is None:
                    names = list(users.order_by("username").values_list("username", flat=True))
                    errors.append(
                        _("No active user is called “%(name)s”; users: %(users)s.")
                        % {"name": owner[:60], "users": listed(names)}
                    )
                else:
                    options["owner"] = found.pk
            if stage:
                rule = rule_for("customers", "stage")
                assert rule is not None
                code = rule.accept(stage) or rule.suggest(stage) if "\x00" not in stage else None
                if code is None:
                    errors.append(
                        _("“%(stage)s” is not a lifecycle stage; stages: %(stages)s.")
                        % {"stage": stage[:60], "stages": ", ".join(Stage.values)}
                    )
                else:
                    options["stage"] = code
    if errors:
        raise ValueMapError(" ".join(errors))
    return options
