"""Text the system writes (import summaries, stage-change reasons) is stored as a message id
with parameters and read in the reader's language; what a person wrote reads as written."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tend.billing.actions import subscription_cancel
from tend.customers.actions import customer_change_stage
from tend.customers.models import Customer, Stage, StageChange, TimelineEntry
from tend.customers.timeline import REASON_IDS, detail, stage_reason
from tend.factories import make_customer, make_plan, make_subscription
from tend.ingest.imports.actions import import_file

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, header: list[str], rows: list[list[str]]) -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([header, *rows])
        return path

    return write


def _timeline(client: Client, customer: Customer, **headers: str) -> str:
    html = client.get(reverse("customers:detail", args=[customer.pk]), **headers).content
    return html.decode().split('id="timeline-entries"')[1]


def _import_one(write_csv: Callable[..., Path], owner) -> Customer:  # type: ignore[no-untyped-def]
    path = write_csv("crm.csv", ["External ID", "Name"], [["c1", "Acme"]])
    import_file(kind="customers", path=path, by=owner)
    return Customer.objects.get(external_id="c1")


def test_the_import_summary_is_stored_as_a_message_id_with_its_parameters(write_csv, owner) -> None:
    acme = _import_one(write_csv, owner)
    entry = TimelineEntry.objects.get(customer=acme, kind="import")
    assert (entry.title, entry.body) == ("", "")
    assert {k: entry.data[k] for k in ("msg", "kind", "rows", "file")} == {
        "msg": "imported",
        "kind": "customers",
        "rows": 1,
        "file": "crm.csv",
    }


def test_one_imported_row_reads_in_the_singular_in_english(write_csv, owner, owner_client) -> None:
    acme = _import_one(write_csv, owner)
    timeline = _timeline(owner_client, acme)
    assert "Imported 1 row of customers from crm.csv" in timeline
    assert "1 rows" not in timeline


def test_a_chinese_reader_reads_the_import_summary_in_chinese(
    write_csv, owner, owner_client
) -> None:
    acme = _import_one(write_csv, owner)
    timeline = _timeline(owner_client, acme, **ZH)
    assert "已从 crm.csv 导入 1 行客户数据" in timeline
    assert "Imported" not in timeline


def test_a_subscription_import_shows_the_mrr_change_in_the_readers_language(
    write_csv, owner_client
) -> None:
    make_customer("Bob", external_id="c2")
    path = write_csv(
        "subs.csv", ["ID", "Customer", "MRR", "Start"], [["s", "c2", "80", "2024-05-01"]]
    )
    import_file(kind="subscriptions", path=path)
    bob = Customer.objects.get(external_id="c2")
    entry = TimelineEntry.objects.get(customer=bob, kind="import")
    assert entry.data["mrr"] == {"before": "0.00", "after": "80.00", "currency": "USD"}
    assert detail(entry) == "MRR 0.00 → 80.00 USD"
    assert "已从 subs.csv 导入 1 行订阅数据" in _timeline(owner_client, bob, **ZH)


def test_an_entry_written_before_message_ids_keeps_its_english_title(owner_client) -> None:
    acme = make_customer("Acme")
    TimelineEntry.objects.create(
        customer=acme,
        kind="import",
        title="Imported 3 rows of customers from old.csv",
        data={"msg": "imported", "kind": "customers", "rows": 3, "import": 1},
    )
    assert "Imported 3 rows of customers from old.csv" in _timeline(owner_client, acme, **ZH)


def test_zero_mrr_churns_with_a_reason_a_chinese_reader_reads_in_chinese(owner_client) -> None:
    acme = make_customer("Acme", stage=Stage.ESTABLISHED)
    sub = make_subscription(acme, make_plan("pro", price="49"))
    subscription_cancel(subscription=sub, by=None)
    change = StageChange.objects.filter(customer=acme).latest("pk")
    assert (change.to_stage, change.reason, change.reason_data) == (
        Stage.CHURNED,
        "",
        {"msg": "mrr_zero"},
    )
    assert stage_reason(change) == "MRR fell to zero"
    with translation.override("zh-hans"):
        assert stage_reason(change) == "MRR 降为零"
    assert "MRR 降为零" in _timeline(owner_client, acme, **ZH)
    assert "MRR fell to zero" in _timeline(owner_client, acme)


def test_an_import_churns_by_the_same_rule_with_the_same_reason(write_csv) -> None:
    carol = make_customer("Carol", external_id="c3", stage=Stage.ESTABLISHED)
    make_subscription(carol, make_plan("pro", price="49"), external_id="s9")
    path = write_csv("subs.csv", ["ID", "Customer", "Status"], [["s9", "c3", "canceled"]])
    import_file(kind="subscriptions", path=path)
    change = StageChange.objects.filter(customer=carol).latest("pk")
    assert (change.to_stage, change.by, change.reason_data) == (
        Stage.CHURNED,
        None,
        {"msg": "mrr_zero"},
    )


@pytest.mark.parametrize("msg", REASON_IDS)
def test_every_system_reason_has_chinese(msg: str) -> None:
    change = StageChange(reason_data={"msg": msg, "days": 30})
    english = stage_reason(change)
    with translation.override("zh-hans"):
        chinese = stage_reason(change)
    assert english and chinese and chinese != english
    assert not any("a" <= ch.lower() <= "z" for ch in chinese.replace("MRR", ""))


def test_days_as_a_customer_count_in_english_and_chinese() -> None:
    assert stage_reason(StageChange(reason_data={"msg": "days_as_customer", "days": 1})) == (
        "1 day as a customer"
    )
    change = StageChange(reason_data={"msg": "days_as_customer", "days": 90})
    assert stage_reason(change) == "90 days as a customer"
    with translation.override("zh-hans"):
        assert stage_reason(change) == "成为客户 90 天"


def test_a_reason_a_person_wrote_reads_as_written_in_every_language(owner_client) -> None:
    acme = make_customer("Acme")
    customer_change_stage(customer=acme, stage=Stage.AT_RISK, by=None, reason="budget cut")
    change = StageChange.objects.filter(customer=acme).latest("pk")
    with translation.override("zh-hans"):
        assert stage_reason(change) == "budget cut"
    assert "budget cut" in _timeline(owner_client, acme, **ZH)


def test_an_old_plain_reason_and_an_unknown_message_id_read_as_stored() -> None:
    assert stage_reason(StageChange(reason="MRR fell to zero")) == "MRR fell to zero"
    assert stage_reason(StageChange(reason="", reason_data={"msg": "from_the_future"})) == ""
