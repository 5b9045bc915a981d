"""Who the demo customers are: when they sign up, from where, and what they look like.

Sign-ups grow over the window (about 3× from the first month to the last over two years),
follow the business's seasons and the working week, and come through channels whose mix and
cost drift (paid search gets both busier and dearer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from tend.customers.models import Channel
from tend.demo.catalog import COUNTRY_UTC_OFFSET, JOB_TITLES, Business
from tend.demo.names import INDUSTRIES, INDUSTRY_WEIGHTS, NameMaker
from tend.demo.timebase import DAY, Timebase

SOURCES = {
    Channel.ORGANIC: ["google", "google", "bing", "duckduckgo"],
    Channel.PAID_SEARCH: ["google_ads", "google_ads", "bing_ads"],
    Channel.SOCIAL: ["linkedin", "twitter", "youtube", "instagram"],
    Channel.REFERRAL: ["referral_link"],
    Channel.CONTENT: ["blog", "newsletter", "podcast"],
    Channel.PARTNER: ["partner_portal", "agency"],
    Channel.OUTBOUND: ["sales_email", "event"],
    Channel.MARKETPLACE: ["app_marketplace", "zapier"],
    Channel.OTHER: ["direct"],
}
CN_SOCIAL = ["wechat", "weibo", "xiaohongshu", "bilibili"]
PHONE_PREFIX = {"US": "+1", "CA": "+1", "GB": "+44", "CN": "+86", "AU": "+61", "DE": "+49"}


@dataclass
class People:
    signup_day: np.ndarray
    signup_sec: np.ndarray  # absolute seconds in the window
    country: list[str]
    chinese: np.ndarray
    utc_offset: np.ndarray
    name: list[str]
    email: list[str]
    phone: list[str]
    industry: list[str]
    size: list[int | None]
    channel: list[str]
    cac_cents: np.ndarray
    tier: np.ndarray
    seats: np.ndarray
    base_rate: np.ndarray
    birthday_day: np.ndarray  # days relative to the window start; only for persons
    traits: list[dict[str, object]]
    tags: list[list[str]]
    # Contacts, flat: customer index, name, email, phone, title, primary.
    contact_cust: list[int] = field(default_factory=list)
    contact_rows: list[tuple[str, str, str, str, bool]] = field(default_factory=list)
    contact_first: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    contact_count: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _signup_days(biz: Business, tb: Timebase, n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(tb.days)
    growth = np.log(1 + 2 * min(tb.days, 730) / 730)  # ×3 over two years
    weight = np.exp(growth * t / max(tb.days, 1))
    weight *= np.array(biz.seasonality)[tb.month[: tb.days] - 1]
    weekend = tb.weekday[: tb.days] >= 5
    weight *= np.where(weekend, 0.45 if biz.key == "saas" else 1.1, 1.0)
    return rng.choice(tb.days, size=n, p=weight / weight.sum())


def make_people(
    *, biz: Business, tb: Timebase, n: int, rng: np.random.Generator, names: NameMaker
) -> People:
    countries = list(biz.countries)
    cweights = np.array([biz.countries[c] for c in countries])
    country_idx = rng.choice(len(countries), size=n, p=cweights / cweights.sum())
    offsets_all = np.array([COUNTRY_UTC_OFFSET.get(c, 0) for c in countries])
    day = _signup_days(biz, tb, n, rng)
    hours = np.array(biz.hour_usage)
    local = rng.choice(24, size=n, p=hours / hours.sum()) * 3600 + rng.integers(0, 3600, n)
    sec = (local - offsets_all[country_idx] * 3600) % DAY
    order = np.lexsort((sec, day))
    day, sec, country_idx = day[order], sec[order], country_idx[order]
    signup_sec = day * DAY + sec
    country = [countries[i] for i in country_idx.tolist()]
    cn = np.array([c == "CN" for c in country])
    chinese = cn & (rng.random(n) < 0.8)
    frac = day / max(tb.days, 1)

    # Channels: shares drift linearly from start to end of the window; so does their cost.
    specs = biz.channels
    start = np.array([c.share_start for c in specs])
    end = np.array([c.share_end for c in specs])
    shares = start[None, :] + (end - start)[None, :] * frac[:, None]
    cum = np.cumsum(shares / shares.sum(axis=1, keepdims=True), axis=1)
    ch_idx = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(specs) - 1)
    median = np.array([c.cac for c in specs])[ch_idx]
    trend = 1 + np.array([c.cac_trend for c in specs])[ch_idx] * frac
    cac_cents = np.rint(median * trend * rng.lognormal(0.0, 0.45, n) * 100).astype(np.int64)
    channel = [specs[i].channel for i in ch_idx.tolist()]

    if biz.person_customers:
        size_arr = np.zeros(n, dtype=np.int64)
        seats = np.ones(n, dtype=np.int64)
        tier = np.zeros(n, dtype=np.int64)
        base_rate = rng.lognormal(0.0, 0.5, n)
        industry_idx = np.zeros(n, dtype=np.int64)
    else:
        size_arr = np.clip(np.rint(np.exp(rng.normal(2.8, 1.3, n))), 1, 20_000).astype(np.int64)
        logsize = np.log(size_arr)
        seats = np.clip(np.rint(np.exp(0.55 * logsize + rng.normal(0, 0.5, n))), 1, 250)
        seats = seats.astype(np.int64)
        score = 0.45 * logsize + rng.normal(0, 0.8, n)
        tier = np.searchsorted([1.4, 2.3, 3.2], score).astype(np.int64)
        base_rate = seats**0.6 * rng.lognormal(0.0, 0.35, n)
        iw = np.array(INDUSTRY_WEIGHTS)
        industry_idx = rng.choice(len(INDUSTRIES), size=n, p=iw / iw.sum())
    age_days = rng.integers(18 * 365, 70 * 365, n)
    birthday_day = (tb.days - age_days).astype(np.int64)

    tag_names = list(biz.tags)
    tag_p = np.array([biz.tags[t] for t in tag_names])
    tag_hit = rng.random((n, len(tag_names))) < tag_p[None, :]

    people = People(
        signup_day=day.astype(np.int64),
        signup_sec=signup_sec.astype(np.int64),
        country=country,
        chinese=chinese,
        utc_offset=offsets_all[country_idx].astype(np.float64),
        name=[],
        email=[],
        phone=[],
        industry=[],
        size=[],
        channel=channel,
        cac_cents=cac_cents,
        tier=tier,
        seats=seats,
        base_rate=base_rate,
        birthday_day=birthday_day,
        traits=[],
        tags=[[tag_names[j] for j in np.flatnonzero(row)] for row in tag_hit],
    )
    first = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    for i in range(n):
        cc = country[i]
        zh = bool(chinese[i])
        locale = "zh-CN" if cc == "CN" else ("en-US" if cc in {"US", "CA"} else "en")
        source_pool = SOURCES[Channel(channel[i])]
        if channel[i] == Channel.SOCIAL and cc == "CN":
            source_pool = CN_SOCIAL
        source = source_pool[int(names.random() * len(source_pool))]
        phone = _phone(names, cc) if names.random() < (0.3 if biz.person_customers else 0.6) else ""
        first[i] = len(people.contact_rows)
        if biz.person_customers:
            pname, fslug, lslug = names.person(chinese=zh)
            email = names.personal_email(fslug, lslug, chinese=cc == "CN")
            people.name.append(pname)
            people.email.append(email)
            people.industry.append("")
            people.size.append(None)
            people.traits.append(
                {
                    "signup_source": source,
                    "locale": locale,
                    "marketing_opt_in": names.random() < 0.6,
                }
            )
            if names.random() < 0.75:
                people.contact_cust.append(i)
                people.contact_rows.append((pname, email, phone, "", True))
                count[i] = 1
        else:
            industry = INDUSTRIES[int(industry_idx[i])]
            cname, domain = names.company(industry=industry, country=cc, chinese=zh)
            size = int(size_arr[i])
            people.name.append(cname)
            mailbox = ("billing", "finance", "hello", "accounts", "ops")[names.integer(0, 5)]
            people.email.append(f"{mailbox}@{domain}")
            people.industry.append(industry)
            people.size.append(size)
            people.traits.append(
                {"domain": domain, "signup_source": source, "locale": locale, "country": cc}
            )
            p_more = min(0.12 + 0.08 * float(np.log(size)), 0.7)
            k = 1 + sum(names.random() < p_more for _ in range(3))
            titles_used: set[str] = set()
            for j in range(k):
                pname, fslug, lslug = names.person(chinese=zh)
                title = JOB_TITLES[names.integer(0, len(JOB_TITLES))]
                if title in titles_used:
                    title = "Team Member"
                titles_used.add(title)
                cphone = _phone(names, cc) if names.random() < 0.4 else ""
                people.contact_cust.append(i)
                people.contact_rows.append(
                    (pname, names.work_email(fslug, lslug, domain), cphone, title, j == 0)
                )
            count[i] = k
        people.phone.append(phone)
    people.contact_first = first
    people.contact_count = count
    return people


def _phone(names: NameMaker, country: str) -> str:
    prefix = PHONE_PREFIX.get(country, "+1")
    if country == "CN":
        head, mid, tail = (
            names.integer(30, 90),
            names.integer(1000, 9999),
            names.integer(1000, 9999),
        )
        return f"{prefix} 1{head} {mid} {tail}"
    return (
        f"{prefix} {names.integer(200, 999)} {names.integer(200, 999)} {names.integer(1000, 9999)}"
    )


def traits_json(traits: dict[str, object]) -> str:
    return json.dumps(traits, ensure_ascii=False, sort_keys=True)


def birthday(day: int, start: date) -> str:
    from datetime import timedelta

    return (start + timedelta(days=day)).isoformat()
