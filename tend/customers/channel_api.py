"""REST endpoints for the founder's list of acquisition channels (``/api/v1/channels``)."""

from __future__ import annotations

from typing import Annotated, Any

from django.db import transaction
from django.http import Http404, HttpRequest
from ninja import Query, Router
from ninja.responses import Status
from pydantic import Field as PydanticField

from tend.api.auth import Principal
from tend.api.schemas import ERRORS, ERRORS_404, ERRORS_409, PageParams, paginate
from tend.customers.channels import (
    CODE_PATTERN,
    channel_archive,
    channel_code_free,
    channel_create,
    channel_move,
    channel_rename,
    channel_restore,
    channels_with_counts,
)
from tend.customers.models import AcquisitionChannel
from tend.customers.schemas import (
    AcquisitionChannelIn,
    AcquisitionChannelOut,
    AcquisitionChannelPage,
    AcquisitionChannelPatch,
)

router = Router(tags=["channels"])

ChannelPath = Annotated[str, PydanticField(pattern=f"^{CODE_PATTERN}$")]


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def _channel(code: str) -> AcquisitionChannel:
    channel = channels_with_counts().filter(code=code).first()
    if channel is None:
        raise Http404(f"No channel with code {code!r}.")
    return channel


@router.get("/channels", response={200: AcquisitionChannelPage, **ERRORS})
def channel_list(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    """Your acquisition channels in your order, archived ones included (``archived_at`` set),
    each with its number of customers. A customer's ``channel`` is one of these codes."""
    return paginate(channels_with_counts(), paging)


@router.post("/channels", response={201: AcquisitionChannelOut, **ERRORS_409})
def channel_create_endpoint(request: HttpRequest, payload: AcquisitionChannelIn) -> Status[Any]:
    """Add a channel at the end of the list. A code already taken is a 409."""
    who = _principal(request)
    code = payload.code or channel_code_free(payload.name)
    channel = channel_create(code=code, name=payload.name.strip(), by=who.user, label=who.label)
    return Status(201, _channel(channel.code))


@router.patch("/channels/{code}", response={200: AcquisitionChannelOut, **ERRORS_409})
def channel_update_endpoint(
    request: HttpRequest, code: ChannelPath, payload: AcquisitionChannelPatch
) -> AcquisitionChannel:
    """Rename, move or archive/restore a channel; only the fields sent change."""
    who = _principal(request)
    channel = _channel(code)
    data = payload.model_dump(exclude_unset=True)
    with transaction.atomic():
        if "name" in data:
            channel_rename(channel=channel, name=data["name"], by=who.user, label=who.label)
        if "position" in data:
            channel_move(channel=channel, to=data["position"] - 1, by=who.user, label=who.label)
        if data.get("archived") is True:
            channel_archive(channel=channel, by=who.user, label=who.label)
        elif data.get("archived") is False:
            channel_restore(channel=channel, by=who.user, label=who.label)
    return _channel(code)


@router.post("/channels/{code}/archive", response={200: AcquisitionChannelOut, **ERRORS_404})
def channel_archive_endpoint(request: HttpRequest, code: ChannelPath) -> AcquisitionChannel:
    """Stop offering a channel; customers who came through it keep it, and it stays listed."""
    who = _principal(request)
    channel_archive(channel=_channel(code), by=who.user, label=who.label)
    return _channel(code)


@router.post("/channels/{code}/restore", response={200: AcquisitionChannelOut, **ERRORS_404})
def channel_restore_endpoint(request: HttpRequest, code: ChannelPath) -> AcquisitionChannel:
    """Offer an archived channel again."""
    who = _principal(request)
    channel_restore(channel=_channel(code), by=who.user, label=who.label)
    return _channel(code)
