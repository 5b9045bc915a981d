"""What each demo business sells and what its customers do: plans, products, events, channels.

Three businesses: ``saas`` (a B2B reporting tool billed per seat), ``course`` (an online school
selling courses and a membership) and ``shop`` (a specialty coffee web shop with an optional
monthly box). Everything here is static data; randomness lives in ``simulate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tend.customers.models import Channel


@dataclass(frozen=True)
class PlanSpec:
    code: str
    name: str
    interval: str  # "month" | "year"
    price: Decimal  # per seat (saas) or per subscription
    tier: int  # 0 = cheapest; upgrades move up a tier


@dataclass(frozen=True)
class EventSpec:
    name: str
    # Relative frequency for a customer using the product lightly / deeply.
    light: float
    deep: float
    props: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelSpec:
    channel: str
    share_start: float  # share of sign-ups at the start of the window …
    share_end: float  # … and at its end (paid channels grow, say)
    # Median acquisition cost per sign-up in the reporting currency, set so that the demo's
    # LTV:CAC lands where small businesses report it (about 2–15× by channel, not 150×).
    cac: float
    cac_trend: float  # relative change of CAC over the window (+0.3: 30% dearer at the end)


@dataclass(frozen=True)
class Business:
    key: str
    label: str
    person_customers: bool
    plans: tuple[PlanSpec, ...]
    events: tuple[EventSpec, ...]
    channels: tuple[ChannelSpec, ...]
    countries: dict[str, float]
    tags: dict[str, float]
    # Month (1–12) → relative sign-up volume.
    seasonality: tuple[float, ...]
    # Monday … Sunday → relative usage.
    weekday_usage: tuple[float, ...]
    # Local hour (0–23) → relative chance a session starts then.
    hour_usage: tuple[float, ...]
    default_events_per_customer: int
    products: tuple[tuple[str, str, Decimal], ...] = ()


def _plans(rows: list[tuple[str, str, str, int]]) -> tuple[PlanSpec, ...]:
    out: list[PlanSpec] = []
    for code, name, monthly, tier in rows:
        price = Decimal(monthly)
        out.append(PlanSpec(f"{code}-monthly", f"{name} (monthly)", "month", price, tier))
        # Yearly billing: two months free.
        out.append(PlanSpec(f"{code}-yearly", f"{name} (yearly)", "year", price * 10, tier))
    return tuple(out)


OFFICE_HOURS = (
    0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 1.5, 3.0, 4.0, 4.0, 3.5,
    2.5, 3.5, 4.0, 3.8, 3.2, 2.5, 1.5, 1.0, 0.8, 0.6, 0.4, 0.2,
)  # fmt: skip
EVENING_HOURS = (
    0.4, 0.2, 0.1, 0.05, 0.05, 0.1, 0.4, 1.0, 1.2, 1.0, 1.0, 1.2,
    1.8, 1.4, 1.2, 1.2, 1.3, 1.6, 2.2, 3.0, 3.5, 3.2, 2.2, 1.0,
)  # fmt: skip

COUNTRY_UTC_OFFSET = {
    "US": -6, "CA": -5, "BR": -3, "GB": 0, "IE": 0, "DE": 1, "FR": 1, "NL": 1, "ES": 1,
    "SE": 1, "IN": 5, "SG": 8, "CN": 8, "JP": 9, "AU": 10, "NZ": 12,
}  # fmt: skip
ENGLISH_COUNTRIES = {"US", "CA", "GB", "IE", "AU", "NZ", "SG"}

SAAS = Business(
    key="saas",
    label="B2B reporting SaaS",
    person_customers=False,
    plans=_plans(
        [
            ("starter", "Starter", "12", 0),
            ("growth", "Growth", "25", 1),
            ("pro", "Pro", "45", 2),
            ("business", "Business", "79", 3),
        ]
    ),
    events=(
        EventSpec("Logged In", 10, 8, {"method": ["password", "google", "google", "sso"]}),
        EventSpec(
            "Dashboard Viewed",
            9,
            9,
            {"dashboard": ["Overview", "Revenue", "Pipeline", "Team", "Marketing", "Custom"]},
        ),
        EventSpec(
            "Report Created",
            1.5,
            5,
            {"report_type": ["table", "chart", "funnel", "cohort", "retention"]},
        ),
        EventSpec("Report Shared", 0.4, 2, {"via": ["link", "email", "slack"]}),
        EventSpec("Exported CSV", 0.8, 2.5, {"rows": [120, 540, 1800, 4200, 12000, 48000]}),
        EventSpec("Invited Teammate", 0.15, 0.8, {"role": ["member", "member", "admin", "viewer"]}),
        EventSpec(
            "Integration Connected",
            0.05,
            0.3,
            {"integration": ["Slack", "Stripe", "HubSpot", "Salesforce", "Zapier", "BigQuery"]},
        ),
        EventSpec(
            "Alert Created", 0.2, 1.2, {"metric": ["revenue", "signups", "conversion", "pipeline"]}
        ),
        EventSpec("Comment Added", 0.4, 2, {"on": ["report", "dashboard"]}),
        EventSpec(
            "Settings Updated", 0.3, 0.3, {"section": ["profile", "notifications", "billing"]}
        ),
    ),
    channels=(
        ChannelSpec(Channel.ORGANIC, 0.28, 0.22, 350, 0.1),
        ChannelSpec(Channel.PAID_SEARCH, 0.18, 0.26, 1400, 0.35),
        ChannelSpec(Channel.CONTENT, 0.14, 0.14, 600, 0.0),
        ChannelSpec(Channel.REFERRAL, 0.1, 0.12, 450, 0.0),
        ChannelSpec(Channel.PARTNER, 0.08, 0.08, 1500, 0.1),
        ChannelSpec(Channel.OUTBOUND, 0.07, 0.06, 2200, 0.2),
        ChannelSpec(Channel.SOCIAL, 0.08, 0.07, 1000, 0.25),
        ChannelSpec(Channel.MARKETPLACE, 0.07, 0.05, 700, 0.0),
    ),
    countries={
        "US": 0.33,
        "GB": 0.09,
        "CA": 0.05,
        "AU": 0.04,
        "DE": 0.07,
        "FR": 0.04,
        "NL": 0.03,
        "CN": 0.15,
        "SG": 0.03,
        "IN": 0.06,
        "JP": 0.03,
        "BR": 0.04,
        "SE": 0.02,
        "IE": 0.02,
    },
    tags={
        "newsletter": 0.35,
        "webinar": 0.12,
        "beta-tester": 0.05,
        "agency": 0.06,
        "api-user": 0.1,
    },
    seasonality=(1.15, 1.1, 1.1, 1.0, 1.0, 0.95, 0.85, 0.75, 1.05, 1.1, 1.05, 0.8),
    weekday_usage=(1.0, 1.05, 1.05, 1.0, 0.9, 0.25, 0.2),
    hour_usage=OFFICE_HOURS,
    default_events_per_customer=150,
)

COURSES = (
    ("course-python", "Python for Data Analysis", Decimal("199")),
    ("course-excel", "Excel Mastery", Decimal("79")),
    ("course-sql", "SQL from Zero", Decimal("129")),
    ("course-ux", "UX Design Foundations", Decimal("249")),
    ("course-marketing", "Growth Marketing Bootcamp", Decimal("299")),
    ("course-writing", "Writing for the Web", Decimal("49")),
    ("course-ml", "Machine Learning in Practice", Decimal("349")),
    ("course-finance", "Personal Finance Basics", Decimal("59")),
)

COURSE = Business(
    key="course",
    label="Online course school",
    person_customers=True,
    plans=(
        PlanSpec("membership-monthly", "All-access membership (monthly)", "month", Decimal(29), 0),
        PlanSpec("membership-yearly", "All-access membership (yearly)", "year", Decimal(290), 0),
    ),
    events=(
        EventSpec("Lesson Started", 10, 10, {"course": [c[1] for c in COURSES]}),
        EventSpec("Lesson Completed", 4, 8, {"lesson": list(range(1, 25))}),
        EventSpec("Video Watched", 6, 7, {"minutes": [3, 5, 8, 12, 15, 22]}),
        EventSpec("Quiz Passed", 0.8, 2.5, {"score": [70, 75, 80, 85, 90, 95, 100]}),
        EventSpec("Quiz Failed", 0.8, 0.5, {"score": [20, 35, 45, 55, 60, 65]}),
        EventSpec("Discussion Posted", 0.3, 1.5, {"topic": ["question", "answer", "showcase"]}),
        EventSpec("Certificate Earned", 0.02, 0.15, {"course": [c[1] for c in COURSES]}),
        EventSpec("Course Viewed", 2, 1.5, {"course": [c[1] for c in COURSES]}),
    ),
    channels=(
        ChannelSpec(Channel.ORGANIC, 0.3, 0.25, 35, 0.1),
        ChannelSpec(Channel.SOCIAL, 0.25, 0.3, 90, 0.3),
        ChannelSpec(Channel.PAID_SEARCH, 0.12, 0.15, 130, 0.3),
        ChannelSpec(Channel.CONTENT, 0.15, 0.12, 45, 0.0),
        ChannelSpec(Channel.REFERRAL, 0.1, 0.1, 40, 0.0),
        ChannelSpec(Channel.MARKETPLACE, 0.08, 0.08, 80, 0.0),
    ),
    countries={
        "US": 0.3,
        "GB": 0.08,
        "CA": 0.05,
        "AU": 0.04,
        "IN": 0.1,
        "CN": 0.25,
        "SG": 0.04,
        "DE": 0.05,
        "BR": 0.05,
        "ES": 0.04,
    },
    tags={"newsletter": 0.5, "student": 0.15, "corporate": 0.05, "scholarship": 0.03},
    seasonality=(1.35, 1.15, 1.0, 0.95, 0.9, 0.8, 0.75, 0.85, 1.25, 1.1, 1.0, 0.9),
    weekday_usage=(1.0, 1.0, 0.95, 0.95, 0.85, 1.1, 1.2),
    hour_usage=EVENING_HOURS,
    default_events_per_customer=100,
    products=COURSES,
)

COFFEE = (
    ("bean-ethiopia", "Ethiopia Yirgacheffe 250 g", Decimal("16.50")),
    ("bean-colombia", "Colombia Huila 250 g", Decimal("14.00")),
    ("bean-kenya", "Kenya AA 250 g", Decimal("18.00")),
    ("bean-house", "House Espresso 1 kg", Decimal("38.00")),
    ("bean-decaf", "Swiss Water Decaf 250 g", Decimal("15.00")),
    ("tea-longjing", "Longjing Green Tea 100 g", Decimal("22.00")),
    ("tea-puer", "Aged Pu-erh 200 g", Decimal("29.00")),
    ("tea-earlgrey", "Earl Grey 100 g", Decimal("11.00")),
    ("gear-grinder", "Hand Grinder", Decimal("89.00")),
    ("gear-v60", "V60 Dripper", Decimal("24.00")),
    ("gear-kettle", "Gooseneck Kettle", Decimal("65.00")),
    ("gear-filters", "Paper Filters x100", Decimal("7.50")),
    ("gift-card", "Gift Card", Decimal("50.00")),
    ("mug-stoneware", "Stoneware Mug", Decimal("19.00")),
)

SHOP = Business(
    key="shop",
    label="Specialty coffee web shop",
    person_customers=True,
    plans=(
        PlanSpec("coffee-box-monthly", "Coffee of the month box", "month", Decimal(32), 0),
        PlanSpec("coffee-box-yearly", "Coffee of the month box (yearly)", "year", Decimal(320), 0),
    ),
    events=(
        EventSpec("Product Viewed", 10, 10, {"sku": [c[0] for c in COFFEE]}),
        EventSpec("Product Searched", 2, 2, {"query": ["ethiopia", "decaf", "grinder", "tea"]}),
        EventSpec("Added To Cart", 1.5, 2.5, {"sku": [c[0] for c in COFFEE]}),
        EventSpec("Wishlist Added", 0.4, 0.8, {"sku": [c[0] for c in COFFEE]}),
        EventSpec("Checkout Started", 0.5, 0.8, {"items": [1, 1, 2, 2, 3, 4]}),
        EventSpec("Review Written", 0.05, 0.2, {"stars": [3, 4, 4, 5, 5, 5]}),
        EventSpec("Recipe Viewed", 1, 2, {"recipe": ["V60", "AeroPress", "Cold brew", "Espresso"]}),
    ),
    channels=(
        ChannelSpec(Channel.ORGANIC, 0.25, 0.2, 25, 0.1),
        ChannelSpec(Channel.PAID_SEARCH, 0.2, 0.22, 75, 0.35),
        ChannelSpec(Channel.SOCIAL, 0.25, 0.3, 60, 0.4),
        ChannelSpec(Channel.REFERRAL, 0.12, 0.12, 30, 0.0),
        ChannelSpec(Channel.MARKETPLACE, 0.1, 0.1, 45, 0.0),
        ChannelSpec(Channel.CONTENT, 0.08, 0.06, 30, 0.0),
    ),
    countries={
        "US": 0.45,
        "CA": 0.1,
        "GB": 0.14,
        "AU": 0.07,
        "IE": 0.03,
        "DE": 0.06,
        "CN": 0.1,
        "NL": 0.05,
    },
    tags={"newsletter": 0.45, "gift-buyer": 0.08, "wholesale": 0.02, "coffee-club": 0.1},
    seasonality=(0.9, 0.85, 0.9, 0.9, 0.95, 0.9, 0.85, 0.85, 0.95, 1.05, 1.4, 1.6),
    weekday_usage=(0.95, 0.95, 0.95, 1.0, 1.0, 1.15, 1.2),
    hour_usage=EVENING_HOURS,
    default_events_per_customer=60,
    products=COFFEE,
)

BUSINESSES: dict[str, Business] = {b.key: b for b in (SAAS, COURSE, SHOP)}

# Codes of every demo plan; --flush removes the ones no longer used.
DEMO_PLAN_CODES = frozenset(p.code for b in BUSINESSES.values() for p in b.plans)

JOB_TITLES = [
    "CEO", "Founder", "CTO", "Head of Operations", "Marketing Manager", "Product Manager",
    "Data Analyst", "Finance Manager", "Head of Sales", "Customer Success Lead", "Engineer",
]  # fmt: skip

NOTES = {
    "kickoff": [
        ("call", "Kick-off call: walked through dashboards and set up their first report."),
        ("meeting", "Onboarding session with the team; they want the revenue dashboard first."),
        ("call", "Welcome call. Main goal: replace their weekly spreadsheet with a live report."),
    ],
    "kickoff_zh": [
        ("call", "启动电话：演示了仪表盘，帮客户创建了第一份报表。"),
        ("meeting", "与客户团队进行了上手培训，他们最关心收入看板。"),
    ],
    "at_risk": [
        ("note", "Usage dropped over the last month. Sent a check-in email."),
        ("call", "Called the main contact: busy quarter, promised to get the team back on."),
        ("note", "Logins down sharply; their champion may have moved on. Asked for a new contact."),
        ("email", "Sent tips on scheduled reports to help them get value without logging in."),
    ],
    "at_risk_zh": [
        ("note", "最近一个月使用量明显下降，已发邮件跟进。"),
        ("call", "电话联系了主要联系人，对方说这个季度比较忙。"),
    ],
    "expansion": [
        ("meeting", "Expansion call: another team wants access. Sent a quote for extra seats."),
        ("note", "They asked about the higher plan for alerts and SSO."),
    ],
    "renewal": [
        ("call", "Renewal call: happy overall, asked about annual discount."),
        ("email", "Sent the renewal reminder and the usage summary for the year."),
    ],
    "churn": [
        ("note", "Cancelled: said the price is too high for their current team size."),
        ("note", "Cancelled: switched to a competitor bundled with their CRM."),
        ("note", "Cancelled: project ended, no longer need reporting."),
        ("note", "Cancelled: never got the team to adopt it."),
        ("note", "Cancelled: company is closing down."),
    ],
    "churn_zh": [
        ("note", "客户取消订阅：认为价格偏高。"),
        ("note", "客户取消订阅：团队没有真正用起来。"),
    ],
    "at_risk_course": [
        ("email", "Sent a 'we miss you' email with the next lesson and a study plan."),
        ("note", "Stopped studying mid-course. Offered a 1:1 session."),
    ],
    "at_risk_course_zh": [("email", "发送了学习提醒邮件，并附上学习计划。")],
    "churn_course": [
        ("note", "Cancelled membership: no time to study right now."),
        ("note", "Cancelled membership: finished the courses they wanted."),
    ],
    "churn_course_zh": [("note", "取消会员：最近没有时间学习。")],
    "at_risk_shop": [("email", "Sent a 10% comeback code after a quiet month.")],
    "at_risk_shop_zh": [("email", "发送了回购优惠券。")],
    "churn_shop": [("note", "Paused the coffee box: too much coffee at home.")],
    "churn_shop_zh": [("note", "暂停了咖啡订阅盒。")],
}
