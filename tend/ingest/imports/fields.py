# ruff: noqa: E501  (the alias table reads best one field per line)
"""What each kind of import accepts, and which column headers suggest which field."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Field:
    name: str
    label: Promise
    required: bool = False
    aliases: tuple[str, ...] = ()


EXTERNAL_ID = ("external id", "externalid", "id", "外部id", "外部编号", "编号")
CUSTOMER_REF = (
    "customer external id", "customer id", "customer", "customerid", "account id", "group id",
    "company id", "客户id", "客户外部id", "客户编号", "客户",
)  # fmt: skip

FIELDS: dict[str, list[Field]] = {
    "customers": [
        Field("external_id", _("External ID"), True, (*EXTERNAL_ID, "customer id", "客户id", "客户编号", "user id", "userid", "用户id")),
        Field("name", _("Name"), True, ("name", "company", "customer name", "company name", "名称", "客户名称", "公司", "公司名称", "姓名")),
        Field("email", pgettext_lazy("email address", "Email"), False, ("email", "e-mail", "email address", "邮箱", "电子邮箱", "邮件")),
        Field("phone", _("Phone"), False, ("phone", "telephone", "mobile", "电话", "手机", "手机号")),
        Field("industry", _("Industry"), False, ("industry", "sector", "行业")),
        Field("size", _("Employees"), False, ("size", "employees", "company size", "员工数", "规模", "人数")),
        Field("country", _("Country"), False, ("country", "country code", "国家")),
        Field("plan", _("Plan"), False, ("plan", "plan code", "plan name", "套餐", "计划", "方案")),
        Field("channel", _("Acquisition channel"), False, ("channel", "source", "acquisition channel", "渠道", "来源", "获客渠道")),
        Field("acquisition_cost", _("Acquisition cost"), False, ("acquisition cost", "cac", "获客成本")),
        Field("signed_up_at", _("Signed up"), False, ("signed up", "signup date", "created", "created at", "date", "注册日期", "注册时间", "日期", "创建时间")),
        Field("stage", _("Lifecycle stage"), False, ("stage", "lifecycle stage", "customer stage", "status", "customer status", "阶段", "生命周期阶段", "客户阶段", "状态", "客户状态")),
        Field("kind", _("Company or person"), False, ("kind", "customer kind", "company or person", "客户类型")),
        Field("owner", pgettext_lazy("person responsible for a customer", "Owner"), False, ("owner", "account owner", "account manager", "sales rep", "负责人", "客户经理", "销售")),
        Field("birthday", _("Birthday"), False, ("birthday", "date of birth", "birth date", "dob", "生日", "出生日期")),
    ],
    "contacts": [
        Field("customer", _("Customer external ID"), True, CUSTOMER_REF),
        Field("name", _("Name"), True, ("name", "contact name", "full name", "名称", "姓名", "联系人")),
        Field("email", pgettext_lazy("email address", "Email"), False, ("email", "e-mail", "email address", "邮箱", "电子邮箱")),
        Field("phone", _("Phone"), False, ("phone", "telephone", "mobile", "电话", "手机", "手机号")),
        Field("title", _("Job title"), False, ("title", "job title", "role", "position", "职位", "职务")),
        Field("external_id", _("External ID"), False, ("contact id", "external id", "联系人id", "外部id")),
        Field("marketing_consent", _("Marketing emails"), False, ("marketing consent", "consent", "marketing emails", "email consent", "opt in", "opted in", "营销邮件", "营销同意", "同意营销")),
    ],
    "subscriptions": [
        Field("external_id", _("External ID"), True, ("subscription id", "external id", "id", "订阅id", "订阅编号", "外部id")),
        Field("customer", _("Customer external ID"), True, CUSTOMER_REF),
        Field("plan", _("Plan"), False, ("plan", "plan code", "plan name", "product", "套餐", "计划", "方案", "产品")),
        Field("status", _("Status"), False, ("status", "state", "状态")),
        Field("quantity", _("Quantity"), False, ("quantity", "qty", "seats", "数量", "席位")),
        Field("price", _("Price per interval"), False, ("price", "amount", "unit price", "价格", "金额", "单价")),
        Field("interval", _("Billing interval"), False, ("interval", "billing interval", "billing period", "计费周期", "周期")),
        Field("mrr", _("MRR"), False, ("mrr", "monthly recurring revenue", "月经常性收入", "月收入")),
        Field("currency", _("Currency"), False, ("currency", "币种", "货币")),
        Field("started_at", pgettext_lazy("date column", "Started"), False, ("started", "start date", "start", "start date (utc)", "start (utc)", "created", "created (utc)", "date", "开始日期", "开始时间", "日期")),
        Field("current_period_end", _("Renews"), False, ("renews", "current period end", "current period end (utc)", "renewal date", "续费日期", "到期日期")),
        Field("canceled_at", pgettext_lazy("date column", "Canceled"), False, ("canceled", "cancelled", "canceled at", "canceled at (utc)", "ended at", "ended at (utc)", "取消日期", "取消时间")),
    ],
    "orders": [
        Field("external_id", _("External ID"), False, ("order id", "external id", "id", "order number", "订单号", "订单编号", "外部id")),
        Field("customer", _("Customer external ID"), True, CUSTOMER_REF),
        Field("amount", _("Amount"), True, ("amount", "total", "price", "金额", "总额", "订单金额")),
        Field("currency", _("Currency"), False, ("currency", "币种", "货币")),
        Field("ordered_at", _("Date"), True, ("date", "ordered", "ordered at", "order date", "created", "日期", "下单日期", "下单时间", "订单日期")),
        Field("status", _("Status"), False, ("status", "state", "状态")),
        Field("description", _("Description"), False, ("description", "product", "item", "描述", "商品", "说明")),
    ],
    "events": [
        Field("customer", _("Customer external ID"), True, (*CUSTOMER_REF, "user id", "userid", "用户id")),
        Field("name", _("Event"), True, ("event", "event name", "name", "action", "事件", "事件名", "事件名称")),
        Field("timestamp", _("Time"), True, ("timestamp", "time", "date", "occurred at", "created at", "时间", "日期", "时间戳")),
        Field("properties", _("Properties (JSON)"), False, ("properties", "props", "属性")),
        Field("message_id", _("Message ID"), False, ("message id", "messageid", "event id", "消息id", "事件id")),
    ],
    # Stripe Dashboard → Customers → Export: id, Name, Email, Description, Created (UTC)…
    "stripe_customers": [
        Field("external_id", _("Stripe customer ID"), True, ("id", "customer id", "stripe customer id", "客户id")),
        Field("name", _("Name"), False, ("name", "customer name", "名称", "姓名")),
        Field("description", _("Description"), False, ("description", "描述")),
        Field("email", pgettext_lazy("email address", "Email"), False, ("email", "customer email", "邮箱")),
        Field("phone", _("Phone"), False, ("phone", "电话")),
        Field("country", _("Country"), False, ("address country", "country", "国家")),
        Field("created", pgettext_lazy("date column", "Created"), False, ("created (utc)", "created", "创建时间")),
        Field("tend_external_id", _("Tend external ID (metadata)"), False, ("tend_external_id (metadata)", "tend external id", "tend_external_id")),
    ],
    # Stripe Dashboard → Subscriptions → Export: id, Customer ID, Customer Name, Customer Email,
    # Plan, Product, Quantity, Currency, Interval, Amount, Status, Created (UTC), Start (UTC)…
    "stripe_subscriptions": [
        Field("external_id", _("Stripe subscription ID"), True, ("id", "subscription id", "subscription", "订阅id")),
        Field("customer", _("Stripe customer ID"), True, ("customer id", "customer", "stripe customer id", "客户id")),
        Field("customer_name", _("Customer name"), False, ("customer name", "customer description", "客户名称")),
        Field("customer_email", _("Customer email"), False, ("customer email", "email", "邮箱")),
        Field("tend_external_id", _("Tend external ID (metadata)"), False, ("tend_external_id (metadata)", "tend external id", "tend_external_id")),
        Field("status", _("Status"), True, ("status", "状态")),
        Field("plan", _("Price ID"), False, ("plan", "price", "price id", "plan id", "套餐")),
        Field("plan_name", _("Price nickname"), False, ("plan nickname", "price nickname", "plan name", "price name", "nickname")),
        Field("product", _("Product"), False, ("product", "product id", "product name", "产品")),
        Field("amount", _("Amount per interval"), True, ("amount", "plan amount", "price amount", "unit amount", "金额", "价格")),
        Field("currency", _("Currency"), False, ("currency", "币种", "货币")),
        Field("interval", _("Billing interval"), True, ("interval", "plan interval", "price interval", "billing interval", "计费周期", "周期")),
        Field("interval_count", _("Interval count"), False, ("interval count", "plan interval count", "price interval count")),
        Field("quantity", _("Quantity"), False, ("quantity", "qty", "数量")),
        Field("percent_off", _("Coupon percent off"), False, ("percent off", "coupon percent off", "discount percent", "discount percent off")),
        Field("amount_off", _("Coupon amount off"), False, ("amount off", "coupon amount off", "discount amount off")),
        Field("created", pgettext_lazy("date column", "Created"), False, ("created (utc)", "created", "创建时间")),
        Field("started_at", pgettext_lazy("date column", "Started"), False, ("start date (utc)", "start (utc)", "start date", "start", "开始日期")),
        Field("trial_ends_at", _("Trial ends"), False, ("trial end (utc)", "trial end", "试用结束")),
        Field("current_period_end", _("Renews"), False, ("current period end (utc)", "current period end", "续费日期")),
        Field("canceled_at", pgettext_lazy("date column", "Canceled"), False, ("canceled at (utc)", "canceled at", "cancelled at", "取消日期")),
        Field("ended_at", _("Ended"), False, ("ended at (utc)", "ended at", "结束日期")),
    ],
}  # fmt: skip

KINDS = list(FIELDS)
# A column mapped to TRAIT is kept on each customer (or contact) as a trait named by its header.
TRAIT = "trait"
TRAIT_KINDS = ("customers", "contacts")


def fields_for(kind: str) -> list[Field]:
    try:
        return FIELDS[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}") from None


def _norm(header: str) -> str:
    return re.sub(r"[\s_\-.:：()（）]+", " ", header.strip().lower()).strip()


def suggest_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """{header: field} guessed from English and Chinese header names; unknown headers map to ""."""
    fields = fields_for(kind)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    normalised = [_norm(h) for h in headers]
    # Exact field names and labels first, then aliases in the order each field lists them.
    for header, norm in zip(headers, normalised, strict=True):
        for field in fields:
            if field.name in taken:
                continue
            if norm in {_norm(field.name), _norm(str(field.label))}:
                mapping[header] = field.name
                taken.add(field.name)
                break
    for field in fields:
        if field.name in taken:
            continue
        for alias in field.aliases:
            hit = next(
                (h for h, n in zip(headers, normalised, strict=True)
                 if h not in mapping and n.replace(" ", "") == _norm(alias).replace(" ", "")),
                None,
            )  # fmt: skip
            if hit is not None:
                mapping[hit] = field.name
                taken.add(field.name)
                break
    # A column of no field is kept as a trait where the kind has traits (``birthday`` and
    # ``user_id`` of a CRM export are not lost without a word).
    rest = TRAIT if kind in TRAIT_KINDS else ""
    return {h: mapping.get(h, rest if h.strip() else "") for h in headers}


def parse_mapping(text: str) -> dict[str, str]:
    """``"Col A=name,Col B=email"`` → {"Col A": "name", "Col B": "email"}."""
    mapping: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        column, sep, field = part.partition("=")
        if not sep:
            raise ValueError(f"mapping entries look like column=field; got {part!r}")
        mapping[column.strip()] = field.strip()
    return mapping
