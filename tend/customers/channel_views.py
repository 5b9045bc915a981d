"""The founder's list of acquisition channels: see, add, rename, reorder, archive, restore."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tend.customers.channels import (
    channel_archive,
    channel_code_free,
    channel_create,
    channel_move,
    channel_rename,
    channel_restore,
    channels_with_counts,
)
from tend.customers.forms import ChannelForm
from tend.customers.models import AcquisitionChannel, Customer
from tend.lib.access import can_write, write_view


def _render(
    request: HttpRequest,
    *,
    add_form: ChannelForm | None = None,
    rename: tuple[int, ChannelForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    channels = list(channels_with_counts())
    offered = [c for c in channels if c.archived_at is None]
    context: dict[str, Any] = {
        "channels": offered,
        "archived": [c for c in channels if c.archived_at is not None],
        "no_channel": Customer.objects.filter(channel="").count(),
        "can_write": can_write(request.user),
        "add_form": add_form or ChannelForm(),
        "rename_pk": rename[0] if rename else None,
        "rename_form": rename[1] if rename else None,
        "last_index": len(offered) - 1,
    }
    return render(request, "customers/channels.html", context, status=status)


def _name_taken(name: str, *, but: int | None = None) -> bool:
    folded = name.casefold()
    return any(
        c.label.casefold() == folded for c in AcquisitionChannel.objects.all() if c.pk != but
    )


@require_GET
def channel_list(request: HttpRequest) -> HttpResponse:
    """Every channel with its number of customers; archived ones below."""
    return _render(request)


@require_POST
@write_view
def channel_add(request: HttpRequest) -> HttpResponse:
    """Add a channel at the end of the list; its code is made from the name."""
    form = ChannelForm(request.POST)
    if form.is_valid() and _name_taken(form.cleaned_data["name"]):
        form.add_error("name", _("A channel with this name exists already."))
    if not form.is_valid():
        return _render(request, add_form=form, status=422)
    name = form.cleaned_data["name"]
    channel = channel_create(
        code=channel_code_free(name),
        name=name,
        by=request.user,  # type: ignore[arg-type]
    )
    messages.success(
        request,
        _("Added the channel %(name)s (code %(code)s).") % {"name": name, "code": channel.code},
    )
    return redirect("customers:channels")


@require_POST
@write_view
def channel_rename_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a channel a new name; its code, and so every customer's channel, stays."""
    channel = get_object_or_404(AcquisitionChannel, pk=pk)
    form = ChannelForm(request.POST)
    if form.is_valid() and _name_taken(form.cleaned_data["name"], but=channel.pk):
        form.add_error("name", _("A channel with this name exists already."))
    if not form.is_valid():
        return _render(request, rename=(channel.pk, form), status=422)
    channel_rename(channel=channel, name=form.cleaned_data["name"], by=request.user)  # type: ignore[arg-type]
    messages.success(request, _("Channel renamed."))
    return redirect("customers:channels")


@require_POST
@write_view
def channel_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a channel one place up or down among the offered channels."""
    channel = get_object_or_404(AcquisitionChannel, pk=pk)
    rows = AcquisitionChannel.objects.order_by("position", "code")
    order = list(rows.values_list("pk", "archived_at"))
    here = [pk for pk, _archived in order].index(channel.pk)
    up = request.POST.get("direction") == "up"
    # The neighbour is the next channel still offered: archived ones are listed apart.
    steps = range(here - 1, -1, -1) if up else range(here + 1, len(order))
    target = next((i for i in steps if order[i][1] is None), None)
    if target is not None:
        channel_move(channel=channel, to=target, by=request.user)  # type: ignore[arg-type]
    return redirect("customers:channels")


@require_POST
@write_view
def channel_archive_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop offering a channel; its customers keep it and it is still named everywhere."""
    channel = get_object_or_404(AcquisitionChannel, pk=pk)
    channel_archive(channel=channel, by=request.user)  # type: ignore[arg-type]
    messages.success(request, _("Archived %(name)s.") % {"name": channel.label})
    return redirect("customers:channels")


@require_POST
@write_view
def channel_restore_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Offer an archived channel again."""
    channel = get_object_or_404(AcquisitionChannel, pk=pk)
    channel_restore(channel=channel, by=request.user)  # type: ignore[arg-type]
    messages.success(request, _("Restored %(name)s.") % {"name": channel.label})
    return redirect("customers:channels")
