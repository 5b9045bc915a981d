"""Who an event belongs to: groups, identified users, anonymous ids merged later, B2C."""

from __future__ import annotations

import pytest

from tend.activity.models import DailyRollup, Event
from tend.customers.models import Contact, Customer, Kind
from tend.factories import make_contact, make_customer
from tend.ingest.tracking.tests.conftest import Send

pytestmark = pytest.mark.django_db(transaction=True)

T1 = "2026-11-20T10:00:00Z"
T2 = "2026-11-21T10:00:00Z"


def ok(response: object) -> None:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert "rejected" not in response.json()  # type: ignore[attr-defined]


def test_events_of_an_unknown_visitor_are_kept_without_a_customer(send: Send) -> None:
    ok(
        send(
            "page", {"anonymousId": "anon-1", "name": "Pricing", "timestamp": T1, "messageId": "p1"}
        )
    )
    event = Event.objects.get()
    assert (event.customer, event.anonymous_id, event.name) == (
        None,
        "anon-1",
        "Viewed Pricing Page",
    )
    assert not DailyRollup.objects.exists()


def test_anonymous_events_move_to_the_customer_when_the_visitor_identifies(send: Send) -> None:
    acme = make_customer(external_id="acme")
    ok(
        send(
            "track", {"anonymousId": "anon-1", "event": "Viewed", "timestamp": T1, "messageId": "a"}
        )
    )
    ok(
        send(
            "track", {"anonymousId": "anon-1", "event": "Viewed", "timestamp": T2, "messageId": "b"}
        )
    )
    ok(send("track", {"userId": "u1", "event": "Viewed", "timestamp": T2, "messageId": "c"}))

    ok(
        send(
            "identify",
            {
                "userId": "u1",
                "anonymousId": "anon-1",
                "traits": {"name": "Ada"},
                "context": {"groupId": "acme"},
            },
        )
    )

    ada = Contact.objects.get(external_id="u1")
    assert ada.customer == acme
    assert set(Event.objects.values_list("customer", "contact")) == {(acme.pk, ada.pk)}
    assert sorted(DailyRollup.objects.filter(customer=acme).values_list("day", "count")) == [
        (Event.objects.get(message_id="a").timestamp.date(), 1),
        (Event.objects.get(message_id="b").timestamp.date(), 2),
    ]
    acme.refresh_from_db()
    assert acme.last_seen_at == Event.objects.get(message_id="b").timestamp


def test_a_user_identified_before_their_group_becomes_a_contact_when_the_group_arrives(
    send: Send,
) -> None:
    ok(
        send(
            "identify",
            {
                "userId": "u1",
                "traits": {"email": "ada@acme.test", "firstName": "Ada", "lastName": "L"},
            },
        )
    )
    ok(send("track", {"userId": "u1", "event": "Logged In", "timestamp": T1, "messageId": "e"}))
    assert not Contact.objects.exists()
    assert Event.objects.get().customer is None

    ok(
        send(
            "group",
            {
                "userId": "u1",
                "groupId": "acme",
                "traits": {"name": "Acme", "employees": "12", "plan": "pro"},
            },
        )
    )

    acme = Customer.objects.get(external_id="acme")
    assert (acme.name, acme.size, acme.kind, acme.traits) == (
        "Acme",
        12,
        Kind.COMPANY,
        {"plan": "pro"},
    )
    ada = Contact.objects.get(external_id="u1")
    assert (ada.customer, ada.name, ada.email) == (acme, "Ada L", "ada@acme.test")
    assert Event.objects.get().customer == acme
    assert DailyRollup.objects.get(customer=acme).count == 1


def test_alias_merges_the_old_anonymous_id_into_the_known_user(send: Send) -> None:
    acme = make_customer(external_id="acme")
    make_contact(acme, external_id="u1")
    ok(
        send(
            "track",
            {"anonymousId": "device-9", "event": "Opened", "timestamp": T1, "messageId": "x"},
        )
    )
    assert Event.objects.get().customer is None

    ok(send("alias", {"previousId": "device-9", "userId": "u1"}))

    assert Event.objects.get().customer == acme
    assert DailyRollup.objects.get(customer=acme, name="Opened").count == 1
    ok(
        send(
            "track",
            {"anonymousId": "device-9", "event": "Opened", "timestamp": T1, "messageId": "y"},
        )
    )
    assert Event.objects.get(message_id="y").customer == acme


def test_users_known_as_contacts_from_elsewhere_are_found_by_external_id(send: Send) -> None:
    acme = make_customer(external_id="acme")
    pat = make_contact(acme, external_id="u7")
    ok(send("track", {"userId": "u7", "event": "Saved", "timestamp": T1, "messageId": "s"}))
    assert Event.objects.values_list("customer", "contact").get() == (acme.pk, pat.pk)


def test_group_updates_an_existing_customer_and_keeps_its_other_traits(send: Send) -> None:
    make_customer(external_id="acme", name="Acme", traits={"tier": "gold"})
    ok(
        send(
            "group",
            {
                "anonymousId": "a",
                "groupId": "acme",
                "traits": {"industry": "Retail", "region": "EU"},
            },
        )
    )
    acme = Customer.objects.get(external_id="acme")
    assert (acme.name, acme.industry, acme.traits) == (
        "Acme",
        "Retail",
        {"tier": "gold", "region": "EU"},
    )


def test_a_group_with_a_bad_email_is_rejected_naming_the_trait(send: Send) -> None:
    response = send(
        "group", {"userId": "u1", "groupId": "acme", "traits": {"email": "not-an-email"}}
    )
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "traits.email"
    assert not Customer.objects.exists()


def test_in_b2c_mode_identify_creates_the_customer_itself(send: Send, settings: object) -> None:
    settings.TEND_BUSINESS_MODEL = "b2c"  # type: ignore[attr-defined]
    ok(
        send(
            "track", {"anonymousId": "anon", "event": "Browsed", "timestamp": T1, "messageId": "1"}
        )
    )
    ok(
        send(
            "identify",
            {
                "userId": "shopper-1",
                "anonymousId": "anon",
                "traits": {"name": "Bo", "email": "bo@x.test", "vip": True},
            },
        )
    )
    ok(send("track", {"userId": "shopper-1", "event": "Bought", "timestamp": T2, "messageId": "2"}))

    bo = Customer.objects.get(external_id="shopper-1")
    assert (bo.kind, bo.name, bo.email, bo.traits) == (
        Kind.PERSON,
        "Bo",
        "bo@x.test",
        {"vip": True},
    )
    assert not Contact.objects.exists()
    assert set(Event.objects.values_list("customer", flat=True)) == {bo.pk}
    assert dict(DailyRollup.objects.values_list("name", "count")) == {"Browsed": 1, "Bought": 1}
