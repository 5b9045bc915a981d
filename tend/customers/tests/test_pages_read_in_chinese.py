"""In Chinese, the customer pages use the glossary's words and nothing glued in English form."""

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from tend.customers.models import Customer
from tend.factories import make_customer, make_plan, make_subscription

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def test_the_last_seen_column_reads_one_way_in_chinese(owner_client) -> None:
    now = timezone.now()
    for name, ago in (
        ("Days", timedelta(days=3, hours=5)),
        ("Months", timedelta(days=40)),
        ("Hours", timedelta(hours=2, minutes=10)),
    ):
        customer = make_customer(name)
        Customer.objects.filter(pk=customer.pk).update(last_seen_at=now - ago)
    make_customer("Never")

    html = owner_client.get(reverse("customers:list"), **ZH).content.decode()

    assert "3\u00a0天前" in html
    assert "1\u00a0个月前" in html
    assert "2\u00a0小时前" in html
    assert "暂无" in html
    assert "4 个客户" in html
    # Django's own zh_Hans forms: "1 月前", "4 日前", "15小时之前", "4 天，14 小时前".
    assert not re.search(r"\d\s?月前|\d\s?日前|之前|天，", html)


def test_the_customer_page_names_the_email_address_and_the_dates_in_chinese(
    owner_client,
) -> None:
    customer = make_customer("Acme", email="ops@acme.test")
    make_subscription(customer, make_plan("pro", price="49"))

    html = owner_client.get(reverse("customers:detail", args=[customer.pk]), **ZH).content.decode()

    assert ">邮箱<" in html  # the address, not 邮件 (a message)
    assert ">流失日期<" in html and ">开始日期<" in html and ">取消日期<" in html
    assert re.search(r"套餐：\S", html) and "负责人：未分配" in html
    assert "套餐:" not in html and "负责人:" not in html


def test_a_filter_error_names_the_field_as_the_page_does(owner_client) -> None:
    html = owner_client.get(reverse("metrics:dashboard") + "?tag=nope", **ZH).content.decode()

    assert "筛选条件“标签”：" in html
    assert "“tag”" not in html


def test_chinese_counts_group_thousands_with_commas() -> None:
    template = Template("{% load humanize %}{{ n|intcomma }}")
    with translation.override("zh-hans"):
        assert template.render(Context({"n": 2000})) == "2,000"
