"""The founder's own acquisition channels, on /customers/channels/: listed with their number of
customers, added, renamed, reordered, archived and restored by owners and members; viewers
read. An archived channel is no longer offered but old customers still show it by name."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tend.accounts.models import AuditEntry
from tend.customers.channels import (
    channel_choices,
    channel_label,
    channel_labels,
    channels_seed_defaults,
)
from tend.customers.models import AcquisitionChannel
from tend.factories import make_customer
from tend.goals.forms import GoalForm

pytestmark = pytest.mark.django_db
PAGE = reverse("customers:channels")


def _codes() -> list[str]:
    return [code for code, _label in channel_choices()]


def _channel(code: str) -> AcquisitionChannel:
    # The built-in list as a migrated install has it, whatever an earlier test left behind.
    channels_seed_defaults()
    return AcquisitionChannel.objects.get(code=code)


def test_the_page_lists_the_channels_in_order_with_customer_counts(viewer_client):
    for _ in range(3):
        make_customer(channel="referral")
    make_customer(channel="")
    html = viewer_client.get(PAGE).content.decode()
    assert html.index("Organic search") < html.index("Paid search") < html.index("Other")
    row = html[html.index('data-channel="referral"') :]
    assert '<td class="num text-end">3</td>' in row[: row.index("</tr>")]
    assert "No channel recorded" in html
    # A viewer reads: no forms.
    assert 'id="channel-add"' not in html and "Archive" not in html


def test_a_member_adds_renames_moves_archives_and_restores(member_client, member):
    response = member_client.post(reverse("customers:channel_add"), {"name": "Trade fairs"})
    assert response.status_code == 302
    fair = _channel("trade_fairs")
    assert fair.label == "Trade fairs" and _codes()[-1] == "trade_fairs"
    assert AuditEntry.objects.filter(action="channel.create", actor=member).exists()

    # A name with no latin letters still gets a code.
    member_client.post(reverse("customers:channel_add"), {"name": "展会"})
    assert AcquisitionChannel.objects.filter(name="展会").get().code.startswith("channel")

    member_client.post(reverse("customers:channel_rename", args=[fair.pk]), {"name": "Fairs"})
    assert channel_label("trade_fairs") == "Fairs"

    first = _codes()[0]
    where = _codes().index("trade_fairs")
    member_client.post(reverse("customers:channel_move", args=[fair.pk]), {"direction": "up"})
    assert _codes().index("trade_fairs") == where - 1
    for _ in range(20):
        member_client.post(reverse("customers:channel_move", args=[fair.pk]), {"direction": "up"})
    assert _codes()[:2] == ["trade_fairs", first]
    member_client.post(reverse("customers:channel_move", args=[fair.pk]), {"direction": "down"})
    assert _codes()[:2] == [first, "trade_fairs"]

    make_customer("Old Fair Lead", channel="trade_fairs")
    member_client.post(reverse("customers:channel_archive", args=[fair.pk]))
    assert "trade_fairs" not in _codes()
    assert channel_labels()["trade_fairs"] == "Fairs"
    html = member_client.get(PAGE).content.decode()
    archived = html[html.index('id="archived-list"') :]
    assert "Fairs" in archived and "1 customer" in archived

    member_client.post(reverse("customers:channel_restore", args=[fair.pk]))
    assert "trade_fairs" in _codes()
    assert {"channel.rename", "channel.move", "channel.archive", "channel.restore"} <= set(
        AuditEntry.objects.values_list("action", flat=True)
    )


def test_a_name_is_required_and_unique_and_errors_are_shown(owner_client):
    response = owner_client.post(reverse("customers:channel_add"), {"name": "  "})
    assert response.status_code == 422
    assert "Give the channel a name." in response.content.decode()
    response = owner_client.post(reverse("customers:channel_add"), {"name": "paid SEARCH"})
    assert response.status_code == 422
    assert "A channel with this name exists already." in response.content.decode()
    organic = _channel("organic")
    response = owner_client.post(
        reverse("customers:channel_rename", args=[organic.pk]), {"name": "Referral"}
    )
    assert response.status_code == 422


def test_a_viewer_changes_nothing(viewer_client):
    organic = _channel("organic")
    before = list(AcquisitionChannel.objects.values_list("code", "name", "position", "archived_at"))
    posts = [
        (reverse("customers:channel_add"), {"name": "Hacked"}),
        (reverse("customers:channel_rename", args=[organic.pk]), {"name": "Hacked"}),
        (reverse("customers:channel_move", args=[organic.pk]), {"direction": "down"}),
        (reverse("customers:channel_archive", args=[organic.pk]), {}),
        (reverse("customers:channel_restore", args=[organic.pk]), {}),
    ]
    for url, data in posts:
        assert viewer_client.post(url, data).status_code == 403, url
    after = list(AcquisitionChannel.objects.values_list("code", "name", "position", "archived_at"))
    assert after == before


def test_an_archived_channel_is_not_offered_but_old_customers_keep_its_name(owner_client, owner):
    from tend.customers.channels import channel_archive

    fair = AcquisitionChannel.objects.create(code="fairs", name="Trade fairs", position=99)
    customer = make_customer("Old Lead", channel="fairs")
    channel_archive(channel=fair, by=owner)
    assert "fairs" not in _codes()
    assert customer.channel_label == "Trade fairs"
    form = GoalForm(plans=[], tags=[])
    assert "fairs" not in [v for v, _l in form.fields["channel"].choices]
    # …but a goal set on it before it was archived keeps it.
    editing = GoalForm(plans=[], tags=[], initial={"channel": "fairs"})
    assert ("fairs", "Trade fairs") in editing.fields["channel"].choices
    assert (
        "Trade fairs"
        in owner_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    )


def test_the_customers_list_links_to_the_channels_page(viewer_client):
    assert f'href="{PAGE}"' in viewer_client.get(reverse("customers:list")).content.decode()
