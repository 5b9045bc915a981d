"""The Simplified Chinese catalog keeps to the glossary our Chinese users wrote.

The rules are data: add a row to REQUIRED or FORBIDDEN when the glossary
(docs/decisions.md, "The Chinese glossary is a test") gains a term. A failure names the
msgid, what it says and what the glossary wants.
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

CATALOG = Path(__file__).resolve().parent.parent / "locale/zh_Hans/LC_MESSAGES/django.po"

# (msgctxt, msgid, the exact msgstr). A plural entry is checked through its msgstr[0].
REQUIRED: list[tuple[str | None, str, str]] = [
    # One English word, two meanings: each meaning has its context and its own word.
    ("email address", "Email", "邮箱"),
    ("email message", "Email", "邮件"),
    (None, "Expansion", "扩展"),
    ("lifecycle stage", "Expansion", "扩展期"),
    ("date column", "Created", "创建时间"),
    (None, "Created", "新建"),
    ("date column", "Started", "开始日期"),
    ("date column", "Canceled", "取消日期"),
    (None, "Canceled", "已取消"),
    ("date column", "Churned", "流失日期"),
    (None, "Churned", "已流失"),
    (None, "Owner", "所有者"),
    ("person responsible for a customer", "Owner", "负责人"),
    ("survival table: customers still observed at that month", "At risk", "在险客户数"),
    # Lifecycle stages: one set of -期 names.
    (None, "Trial", "试用期"),
    (None, "Onboarding", "上手期"),
    (None, "Adopting", "成长期"),
    (None, "Established", "稳定期"),
    (None, "At risk", "流失风险"),
    # Metrics in the users' own words.
    (None, "Monthly recurring revenue (MRR)", "月度经常性收入（MRR）"),
    (None, "Annual recurring revenue (ARR)", "年度经常性收入（ARR）"),
    (None, "Renewal rate", "续费率"),
    (None, "Renewals due", "应续费数"),
    (None, "Renewals done", "已续费数"),
    (None, "Acquisition cost", "获客费用"),
    (None, "acquisition cost", "获客费用"),
    (None, "CAC = acquisition cost ÷ customers acquired", "CAC = 获客费用 ÷ 获客数"),
    (None, "Customers acquired", "获客数"),
    (None, "Referral rate", "客户推荐率"),
    (None, "Satisfaction ratio", "收益满意度"),
    (None, "Months since first payment", "首次付费后的月数"),
    (None, "Over the range", "所选时间范围"),
    (None, "all time", "累计"),
    (None, "Tracking API", "事件采集 API"),
    (None, "Quarterly", "按季度"),  # billing interval: 按周 / 按月 / 按季度 / 按年
    # Owner filter and empty values.
    (None, "Anyone", "全部负责人"),
    (None, "Nobody", "未分配"),
    (None, "nobody", "未分配"),
    (None, "never", "暂无"),
    # Counts of customers take 个 (most customers are companies; 位 is for people).
    (None, "%(total)s customer", "%(total)s 个客户"),
    # Labels joined to values in code take a full-width colon.
    (None, "%(field)s: %(message)s", "%(field)s：%(message)s"),
    # Django humanize's relative times, overridden: 3 个月前, 4 天前, 15 小时前.
    (None, "%(delta)s ago", "%(delta)s前"),
    (None, "an hour ago", "%(count)s\u00a0小时前"),
    (None, "a minute ago", "%(count)s\u00a0分钟前"),
    ("naturaltime-past", "%(num)d month", "%(num)d 个月"),
    ("naturaltime-past", "%(num)d day", "%(num)d 天"),
    ("naturaltime-past", "%(num)d year", "%(num)d 年"),
]

# (substring no msgstr may contain, msgids allowed to contain it, why).
FORBIDDEN: list[tuple[str, frozenset[str], str]] = [
    ("获客成本", frozenset(), "获客成本 reads as CAC itself; money spent is 获客费用"),
    ("续约", frozenset(), "users say 续费 (续费率, 应续费数)"),
    ("月经常性收入", frozenset(), "misreads as 月经…; write 月度经常性收入"),
    ("年经常性收入", frozenset(), "write 年度经常性收入, like 月度"),
    ("末日", frozenset(), "末日 is doomsday; a period's last day is 结束日期"),
    ("老客户", frozenset(), "老客户 is a loyal customer, not a former one"),
    ("采用期", frozenset(), "Adopting is 成长期"),
    ("首次付款", frozenset(), "first payment is 首次付费"),
    ("整个时间范围", frozenset(), "the filter's range is 所选时间范围; all time is 累计"),
    ("贬损者", frozenset(), "detractors are 批评者"),
    ("追踪 API", frozenset(), "the tracking API is 事件采集 API"),
    ("国家代码", frozenset(), "a country code is 国家/地区代码"),
    ("位客户", frozenset(), "customers are counted with 个"),
    ("新获客户", frozenset(), "customers acquired is 获客数"),
    ("满意度比率", frozenset(), "the satisfaction ratio is 收益满意度"),
    ("方案", frozenset(), "a plan is 套餐"),
    ("您", frozenset(), "the user is addressed as 你"),
    ("小时之前", frozenset(), "relative times end in 前: 15 小时前"),
    ("分钟之前", frozenset(), "relative times end in 前: 5 分钟前"),
    ("秒之前", frozenset(), "relative times end in 前: 5 秒前"),
]

CJK = "\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
# (pattern no msgstr may match, why). Formulas keep half-width brackets: "(期初 MRR − …)".
PUNCTUATION: list[tuple[re.Pattern[str], str]] = [
    (re.compile(f"[{CJK}][:;,?!]"), "half-width punctuation right after Chinese text"),
    (re.compile(f"[{CJK}]\\("), "an ASCII “(” glued to Chinese text; write （）"),
    (re.compile(r" [，。：；（）？！]|[，。：；？！] "), "a space next to full-width punctuation"),
]


def _entries() -> dict[tuple[str | None, str], polib.POEntry]:
    po = polib.pofile(str(CATALOG))
    return {(e.msgctxt, e.msgid): e for e in po if not e.obsolete}


def _texts(entry: polib.POEntry) -> list[str]:
    return [entry.msgstr, *entry.msgstr_plural.values()]


@pytest.fixture(scope="module")
def entries() -> dict[tuple[str | None, str], polib.POEntry]:
    return _entries()


@pytest.mark.parametrize(("context", "msgid", "wanted"), REQUIRED)
def test_key_terms_read_as_the_glossary_says(
    entries: dict[tuple[str | None, str], polib.POEntry],
    context: str | None,
    msgid: str,
    wanted: str,
) -> None:
    entry = entries.get((context, msgid))
    assert entry is not None, f"{msgid!r} (context {context!r}) is not in the catalog"
    said = entry.msgstr_plural[0] if entry.msgid_plural else entry.msgstr
    assert said == wanted, f"{msgid!r} (context {context!r}) reads {said!r}, not {wanted!r}"


@pytest.mark.parametrize(("word", "allowed", "why"), FORBIDDEN, ids=[w for w, _a, _y in FORBIDDEN])
def test_no_translation_uses_a_word_the_glossary_rules_out(
    entries: dict[tuple[str | None, str], polib.POEntry],
    word: str,
    allowed: frozenset[str],
    why: str,
) -> None:
    found = [
        f"{msgid!r}: {text!r}"
        for (_context, msgid), entry in entries.items()
        if msgid not in allowed
        for text in _texts(entry)
        if word in text
    ]
    assert found == [], f"{word} ({why}) in: " + "; ".join(found)


@pytest.mark.parametrize(("pattern", "why"), PUNCTUATION, ids=[w for _p, w in PUNCTUATION])
def test_chinese_text_uses_full_width_punctuation(
    entries: dict[tuple[str | None, str], polib.POEntry], pattern: re.Pattern[str], why: str
) -> None:
    found = [
        f"{msgid!r}: {text!r}"
        for (_context, msgid), entry in entries.items()
        for text in _texts(entry)
        if pattern.search(text)
    ]
    assert found == [], f"{why} in: " + "; ".join(found)
