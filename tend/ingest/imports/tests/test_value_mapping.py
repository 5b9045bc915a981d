"""Imports of an ordinary CRM export: values that are not Tend's (plan "Starter", channel "web",
country "德国", stage "已流失") are matched in a value-mapping step or with ``--map-values``,
missing plans and channels can be created, unknown columns are kept as traits, new customers
get an owner and a starting stage, and a refused row says everything that is wrong with it."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from tend.billing.models import Plan, Subscription
from tend.customers.models import AcquisitionChannel, Customer, StageChange
from tend.factories import make_customer, make_plan
from tend.ingest.imports.actions import import_file
from tend.ingest.imports.models import Import, ImportStatus, RejectedRow
from tend.ingest.imports.values import file_values

pytestmark = pytest.mark.django_db

HEADER = ["id", "company", "email", "plan", "channel", "country", "status", "birthday", "user_id"]
ROWS = [
    ["c1", "Acme", "a@acme.test", "Starter", "web", "Germany", "试用期", "1990-05-01", "u-1"],
    ["c2", "Beta", "b@beta.test", "starter", "Web", "德国", "已流失", "", "u-2"],
    ["c3", "Gamma", "", "Basic", "organic", "UK", "", "", "u-3"],
]


def crm_csv(rows: list[list[str]] = ROWS, header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(client, data: bytes, kind: str = "customers"):
    file = SimpleUploadedFile("crm-export.csv", data, content_type="text/csv")
    return client.post(reverse("imports:list"), {"kind": kind, "file": file, "date_order": "dmy"})


def mapping_form(run: Import, **extra: str) -> dict[str, str]:
    data = {f"col_{i}": run.mapping.get(h, "") for i, h in enumerate(run.headers)}
    return {**data, "date_order": "dmy", **extra}


def values_form(run: Import, manual: dict[tuple[str, str], str]) -> dict[str, str]:
    """The value-mapping form as a founder sends it: the suggestions as shown, plus ``manual``."""
    data = {}
    for group in file_values(run):
        for row in group.rows:
            data[f"val_{group.field}_{row.index}"] = manual.get(
                (group.field, row.value), row.choice
            )
    return data


@pytest.fixture
def plans(db):
    return make_plan("basic", name="Basic", price="29"), make_plan("growth", name="Growth")


def test_a_crm_export_is_matched_value_by_value_and_every_row_is_imported(
    owner_client, owner, plans, django_capture_on_commit_callbacks
):
    upload(owner_client, crm_csv())
    run = Import.objects.get()
    # birthday is the customer's field; user_id (the id column is the external id) a trait.
    assert run.mapping == {
        "id": "external_id",
        "company": "name",
        "email": "email",
        "plan": "plan",
        "channel": "channel",
        "country": "country",
        "status": "stage",
        "birthday": "birthday",
        "user_id": "trait",
    }
    page = owner_client.get(reverse("imports:mapping", args=[run.pk])).content.decode()
    assert '<option value="trait" selected>Keep as a trait</option>' in page
    assert "Create missing plans" in page and "Starting stage" in page

    response = owner_client.post(
        reverse("imports:mapping", args=[run.pk]),
        mapping_form(run, owner=str(owner.pk), stage="onboarding"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:values", args=[run.pk])
    run.refresh_from_db()
    assert run.options == {"owner": owner.pk, "stage": "onboarding"}

    page = owner_client.get(reverse("imports:values", args=[run.pk])).content.decode()
    groups = {g.field: {r.value: (r.choice, r.count) for r in g.rows} for g in file_values(run)}
    # Only the values that are not Tend's, with the obvious matches suggested.
    assert groups == {
        "plan": {"Starter": ("", 2)},  # "starter" too: one choice for both spellings
        "channel": {"web": ("", 2)},
        "country": {"Germany": ("DE", 1), "德国": ("DE", 1), "UK": ("GB", 1)},
        "stage": {"试用期": ("trial", 1), "已流失": ("churned", 1)},
    }
    assert "德国" in page and "suggested" in page and '<option value="DE" selected>' in page
    assert "also written starter" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("imports:values", args=[run.pk]),
            values_form(
                run,
                {("plan", "Starter"): "basic", ("channel", "web"): "organic"},
            ),
        )
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.value_map["country"] == {"Germany": "DE", "德国": "DE", "UK": "GB"}
    assert (run.status, run.created, run.rejected) == (ImportStatus.PREVIEWED, 3, 0)
    preview = owner_client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert 'id="start-form"' in preview and "read a value through the value map" in preview

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("imports:start", args=[run.pk]))
    run.refresh_from_db()
    assert (run.status, run.created, run.rejected) == (ImportStatus.DONE, 3, 0)
    got = {
        c.external_id: (c.plan.code, c.channel, c.country, c.stage, c.owner, c.traits)
        for c in Customer.objects.select_related("plan", "owner")
    }
    assert got == {
        "c1": ("basic", "organic", "DE", "trial", owner, {"user_id": "u-1"}),
        "c2": ("basic", "organic", "DE", "churned", owner, {"user_id": "u-2"}),
        "c3": ("basic", "organic", "GB", "onboarding", owner, {"user_id": "u-3"}),
    }
    assert Customer.objects.get(external_id="c1").birthday == date(1990, 5, 1)
    assert Customer.objects.get(external_id="c2").churned_at is not None
    assert sorted(StageChange.objects.values_list("to_stage", flat=True)) == [
        "churned",
        "onboarding",
        "trial",
    ]


def test_the_command_maps_values_says_what_it_read_and_which_columns_it_used(
    write_csv, owner, plans
):
    path = write_csv("crm.csv", HEADER, ROWS)
    out = io.StringIO()
    call_command(
        "import",
        "customers",
        str(path),
        "--map-values",
        "plan:Starter=basic",
        "--map-values",
        "channel:web=organic",
        "--owner",
        "olivia",
        "--stage",
        "Onboarding",
        stdout=out,
    )
    text = out.getvalue()
    assert "Columns used: id → External ID; company → Name;" in text
    assert "birthday → Birthday" in text and "status → Lifecycle stage" in text
    assert "Columns kept as traits: user_id" in text
    assert "Columns ignored: none" in text
    assert "Country: “Germany” → DE (1 rows)" in text
    assert "Country: “德国” → DE (1 rows)" in text
    assert "Lifecycle stage: “已流失” → churned (1 rows)" in text
    # "starter" and "Web" are the mapped values written another way: the same choice.
    assert Customer.objects.filter(plan__code="basic", channel="organic").count() == 3
    c3 = Customer.objects.get(external_id="c3")
    assert (c3.stage, c3.owner, c3.traits) == ("onboarding", owner, {"user_id": "u-3"})


def test_a_json_value_map_file_is_read(write_csv, tmp_path, plans):
    path = write_csv("crm.csv", HEADER, ROWS)
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"plan": {"starter": "growth"}, "channel": {"web": "referral"}}))
    call_command(
        "import", "customers", str(path), "--map-values-file", str(values), stdout=io.StringIO()
    )
    assert Customer.objects.get(external_id="c1").plan.code == "growth"
    assert set(Customer.objects.values_list("channel", flat=True)) == {"referral", "organic"}


def test_missing_plans_and_channels_are_created_when_asked(write_csv, owner):
    path = write_csv(
        "crm.csv",
        ["id", "name", "plan", "channel"],
        [["c1", "A", "Starter", "web"], ["c2", "B", "Enterprise Plus", "Podcast"]],
    )
    with pytest.raises(CommandError) as refused:
        call_command("import", "customers", str(path), "--dry-run", stdout=io.StringIO())
    assert "No row of this file can be imported: all 2 rows were rejected" in str(refused.value)

    out = io.StringIO()
    call_command(
        "import",
        "customers",
        str(path),
        "--create-missing-plans",
        "--create-missing-channels",
        "--user",
        "olivia",
        stdout=out,
    )
    assert "new plan “starter” (price from the rows, else 0 per month" in out.getvalue()
    plans = {p.code: (p.name, p.price, p.interval) for p in Plan.objects.all()}
    assert plans == {
        "starter": ("Starter", Decimal("0.00"), "month"),
        "enterprise-plus": ("Enterprise Plus", Decimal("0.00"), "month"),
    }
    assert AcquisitionChannel.objects.get(code="podcast").name == "Podcast"
    assert AcquisitionChannel.objects.get(code="web").name == "web"
    got = dict(Customer.objects.values_list("external_id", "channel"))
    assert got == {"c1": "web", "c2": "podcast"}
    assert Customer.objects.get(external_id="c2").plan.code == "enterprise-plus"


def test_a_plan_created_from_subscription_rows_takes_their_price_and_interval(write_csv):
    make_customer(external_id="k1")
    path = write_csv(
        "subs.csv",
        ["id", "customer", "plan", "price", "interval", "currency"],
        [["s1", "k1", "Pro Yearly", "1200", "yearly", "US$"]],
    )
    result = import_file(kind="subscriptions", path=path, options={"create_plans": True})
    assert (result.created, result.rejected) == (1, 0), result.problems
    plan = Plan.objects.get()
    assert (plan.code, plan.price, plan.interval, plan.currency) == (
        "pro-yearly",
        Decimal("1200.00"),
        "year",
        "USD",
    )
    assert Subscription.objects.get().plan == plan


def test_the_web_options_create_missing_plans_and_channels(
    member_client, django_capture_on_commit_callbacks
):
    upload(member_client, crm_csv([["c1", "A", "", "Starter", "web", "", "", "", ""]]))
    run = Import.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(
            reverse("imports:mapping", args=[run.pk]),
            mapping_form(run, create_plans="1", create_channels="1"),
        )
        page = member_client.get(reverse("imports:values", args=[run.pk])).content.decode()
        assert "Create this plan" in page and "Create this channel" in page
        member_client.post(reverse("imports:values", args=[run.pk]), values_form(run, {}))
    run.refresh_from_db()
    assert (run.status, run.created, run.rejected) == (ImportStatus.PREVIEWED, 1, 0)
    assert not Plan.objects.exists()  # a dry run creates nothing
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(reverse("imports:start", args=[run.pk]))
    customer = Customer.objects.get()
    assert (customer.plan.code, customer.channel) == ("starter", "web")


def test_a_row_is_refused_with_every_problem_it_has(write_csv, plans):
    path = write_csv(
        "crm.csv",
        ["id", "name", "plan", "signup date", "country"],
        [
            ["c1", "A", "basic", "2024-03-01", "DE"],
            ["c1", "B", "platinum", "31/31/2024", "Narnia"],
        ],
    )
    result = import_file(kind="customers", path=path)
    assert (result.created, result.rejected) == (1, 1)
    sentence = result.problems[0]
    assert sentence.startswith("Row 3 has 4 problems: ")
    assert (
        "column “plan”: there is no plan with the code or name “platinum”; plans: basic, growth"
        in sentence
    )
    assert "column “signup date”: “31/31/2024” is not a date" in sentence
    assert "column “id”: “c1” already appeared in an earlier row of this file" in sentence
    assert "“Narnia” is not a country: use a two-letter ISO 3166-1 code like DE" in sentence
    kept = RejectedRow.objects.get()
    assert len(kept.problems) == 3
    lines = io.StringIO()
    from tend.ingest.imports.queries import rejected_csv_lines

    lines.write("".join(rejected_csv_lines(result.run)))
    rows = list(csv.reader(io.StringIO(lines.getvalue().lstrip("\ufeff"))))
    assert rows[1][-1] == sentence


def test_a_dry_run_that_can_import_no_row_says_so_and_offers_no_import(
    owner_client, django_capture_on_commit_callbacks
):
    upload(
        owner_client,
        crm_csv([["", "A", "", "", "", "", "", "", ""], ["c2", "", "", "", "", "", "", "", ""]]),
    )
    run = Import.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("imports:mapping", args=[run.pk]), mapping_form(run))
    run.refresh_from_db()
    assert (run.status, run.accepted, run.rejected) == (ImportStatus.PREVIEWED, 0, 2)
    page = owner_client.get(reverse("imports:detail", args=[run.pk])).content.decode()
    assert "No row of this file can be imported: all 2 rows were rejected." in page
    assert 'id="start-form"' not in page and ">Import</button>" not in page


def test_traits_of_an_existing_customer_are_added_to(write_csv):
    make_customer(external_id="c1", traits={"tier": "gold"})
    path = write_csv("crm.csv", ["id", "name", "user_id"], [["c1", "Acme", "42"]])
    import_file(kind="customers", path=path)
    assert Customer.objects.get().traits == {"tier": "gold", "user_id": "42"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--map-values", "bogus:x=y"], "“bogus” takes no value mapping in a customers import"),
        (["--map-values", "plan:x=nope"], "“nope” is not allowed; allowed: basic, growth"),
        (["--map-values", "country:x=\x00"], "holds a NUL character"),
        (["--map-values", "country:" + "x" * 10_000 + "=DE"], "must have 1 to 255 characters"),
        (["--map-values", "no-colon"], "entries look like FIELD:VALUE=TO"),
        (["--owner", "nobody"], "No active user is called “nobody”; users: olivia"),
        (["--stage", "limbo"], "“limbo” is not a lifecycle stage; stages: prospect, trial"),
    ],
)
def test_hostile_value_maps_on_the_command_line_are_clear_errors(
    write_csv, owner, plans, args, message
):
    path = write_csv("crm.csv", HEADER, ROWS)
    with pytest.raises(CommandError, match=message):
        call_command("import", "customers", str(path), *args, stdout=io.StringIO())
    assert not Import.objects.exists() and not Customer.objects.exists()


@pytest.mark.parametrize(
    "content",
    ["[1, 2]", "not json", json.dumps({"country": {"x": 5}}), json.dumps({"country": ["DE"]})],
)
def test_a_bad_value_map_file_is_a_clear_error(write_csv, tmp_path, content):
    path = write_csv("crm.csv", HEADER, ROWS)
    values = tmp_path / "values.json"
    values.write_text(content)
    with pytest.raises(CommandError):
        call_command(
            "import", "customers", str(path), "--map-values-file", str(values), stdout=io.StringIO()
        )
    assert not Customer.objects.exists()


def test_hostile_value_map_posts_are_refused_with_a_message(owner_client, plans):
    upload(owner_client, crm_csv())
    run = Import.objects.get()
    owner_client.post(reverse("imports:mapping", args=[run.pk]), mapping_form(run))
    url = reverse("imports:values", args=[run.pk])
    for bad in ("\x00", "ZZZ", "D" * 100_000):
        response = owner_client.post(url, {"val_country_0": bad, "val_nonsense_7": "x"})
        assert response.status_code == 422
        assert "is not allowed; allowed: AD, AE" in response.content.decode() or "NUL" in (
            response.content.decode()
        )
    run.refresh_from_db()
    assert run.value_map == {} and run.status == ImportStatus.UPLOADED
    for data in ({"owner": "9" * 40}, {"owner": "\x00"}, {"stage": "x" * 5_000}):
        response = owner_client.post(
            reverse("imports:mapping", args=[run.pk]), mapping_form(run, **data)
        )
        assert response.status_code == 422
    assert (
        owner_client.post(url, {"val_bogus_1": "x"}).status_code == 302
    )  # names not offered: ignored


def test_a_viewer_sees_the_values_but_cannot_send_them(viewer_client, owner_client, plans):
    upload(owner_client, crm_csv())
    run = Import.objects.get()
    owner_client.post(reverse("imports:mapping", args=[run.pk]), mapping_form(run))
    url = reverse("imports:values", args=[run.pk])
    page = viewer_client.get(url)
    assert page.status_code == 200 and "Germany" in page.content.decode()
    assert viewer_client.post(url, {"val_country_0": "DE"}).status_code == 403
    run.refresh_from_db()
    assert run.value_map == {} and run.status == ImportStatus.UPLOADED


def test_chinese_labels_and_country_names_are_suggested(write_csv):
    path = write_csv(
        "crm.csv",
        ["编号", "名称", "国家", "阶段", "客户类型"],
        [
            ["c1", "甲", "德国", "试用", "个人"],
            ["c2", "乙", "美国", "已流失", "公司"],
            ["c3", "丙", "Deutschland", "Churned", "Company"],
        ],
    )
    result = import_file(kind="customers", path=path)
    assert (result.created, result.rejected) == (3, 0)
    got = dict(Customer.objects.values_list("external_id", "country"))
    assert got == {"c1": "DE", "c2": "US", "c3": "DE"}
    assert dict(Customer.objects.values_list("external_id", "kind")) == {
        "c1": "person",
        "c2": "company",
        "c3": "company",
    }


def test_a_file_of_no_rows_is_said_plainly(write_csv):
    path = write_csv("crm.csv", ["id", "name"], [])
    with pytest.raises(CommandError, match="The file holds no rows to import"):
        call_command("import", "customers", str(path), "--dry-run", stdout=io.StringIO())


def test_contact_columns_of_no_field_are_kept_as_traits_and_traits_can_be_chosen(write_csv):
    make_customer(external_id="k1")
    path = write_csv(
        "contacts.csv", ["customer", "name", "linkedin", "notes"], [["k1", "Ann", "ann-l", "vip"]]
    )
    out = io.StringIO()
    call_command("import", "contacts", str(path), "--mapping", "notes=", stdout=out)
    assert "Columns kept as traits: linkedin" in out.getvalue()
    assert "Columns ignored: notes" in out.getvalue()
    from tend.customers.models import Contact

    assert Contact.objects.get().traits == {"linkedin": "ann-l"}


def test_only_customers_and_contacts_keep_traits(write_csv):
    make_customer(external_id="k1")
    path = write_csv(
        "orders.csv", ["customer", "amount", "date", "note"], [["k1", "5", "2024-03-01", "x"]]
    )
    with pytest.raises(CommandError, match="“trait” is not a field of a orders import"):
        call_command("import", "orders", str(path), "--mapping", "note=trait", stdout=io.StringIO())
    out = io.StringIO()
    call_command("import", "orders", str(path), stdout=out)
    assert "Columns ignored: note" in out.getvalue()


def test_the_values_step_shows_the_200_most_frequent_values_and_counts_the_rest(
    owner_client, plans
):
    rows = [[f"c{i}", f"N{i}", "", f"plan {i % 260}", "", "", "", "", ""] for i in range(300)]
    upload(owner_client, crm_csv(rows))
    run = Import.objects.get()
    owner_client.post(reverse("imports:mapping", args=[run.pk]), mapping_form(run))
    (group,) = file_values(run)
    assert (group.field, len(group.rows), group.more, group.complete) == ("plan", 200, 60, True)
    assert group.rows[0].count == 2  # the values of two rows first
    page = owner_client.get(reverse("imports:values", args=[run.pk])).content.decode()
    assert "60 less frequent values are not shown" in page
