"""REST endpoints of the outbox: the send log (list, one message with its attempts, retry,
cancel), the suppression list, and webhook endpoints.

Reads for every key and role; retry, cancel and adding a suppression need a writer; removing a
suppression and everything about webhook endpoints need an owner. ValidationError from the
actions becomes a 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import AfterValidator, WithJsonSchema

from tend.api.auth import Principal
from tend.api.errors import FieldError
from tend.api.schemas import (
    ERRORS,
    ERRORS_404,
    ERRORS_409,
    InputSchema,
    Page,
    PageParams,
    PathId,
    QueryId,
    UtcDatetime,
    paginate,
)
from tend.lib.access import require_manage, require_write
from tend.messaging.actions import (
    message_cancel,
    message_retry,
    suppression_add,
    suppression_remove,
    webhook_endpoint_archive,
    webhook_endpoint_create,
    webhook_endpoint_rotate,
)
from tend.messaging.models import (
    Channel,
    Message,
    MessageStatus,
    Suppression,
    SuppressionReason,
    WebhookEndpoint,
)
from tend.messaging.webhooks import URL_LENGTH, secret_hint

router = Router(tags=["messages"])

StatusName = Literal[tuple(MessageStatus.values)]  # type: ignore[valid-type]
ChannelName = Literal[tuple(Channel.values)]  # type: ignore[valid-type]
NoteText = Annotated[str, Field(max_length=300)]


def _address(value: str) -> str:
    from tend.messaging.outbox import address_problem

    problem = address_problem(value.strip())
    if problem is not None:
        raise ValueError(f"Enter a valid email address ({problem}).")
    return value


# An email address, checked like Django's EmailField (the check the outbox applies).
Address = Annotated[
    str,
    AfterValidator(_address),
    WithJsonSchema({"type": "string", "format": "email", "minLength": 3, "maxLength": 254}),
]
# What the API accepts as a webhook URL: http(s), a host name or IPv4 address of letters,
# digits, dots and hyphens, an optional port, then printable ASCII. (The web page also takes
# IPv6 hosts.) Everything this pattern matches is a URL the sender can post to.
URL_PATTERN = (
    r"^[hH][tT][tT][pP][sS]?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?"
    r"(:[1-9][0-9]{0,3})?([/?#][!-~]*)?$"
)


class AttemptOut(Schema):
    at: UtcDatetime
    ok: bool
    code: str = Field(..., description="SMTP reply code or HTTP status; empty for an error.")
    detail: str = Field(..., description="The server's reply (truncated) or the error.")
    duration_ms: int


class MessageOut(Schema):
    id: int
    key: str
    channel: str
    status: str = Field(..., description="queued, sending, sent, failed, suppressed, canceled.")
    waiting_for: str = Field(
        ..., description="`daily_cap` when a queued email waits for the next day; else empty."
    )
    source: str
    source_id: str
    customer_id: int | None
    to: str = Field(..., description="Email address, or the webhook URL.")
    subject: str
    outreach: bool = Field(..., description="A customer-facing email (suppression and cap).")
    attempts: int
    next_attempt_at: UtcDatetime
    last_error: str
    created_at: UtcDatetime
    sent_at: UtcDatetime | None

    @staticmethod
    def resolve_waiting_for(obj: Message) -> str:
        return obj.hold_reason


class MessageDetailOut(MessageOut):
    text: str
    html: str
    headers: dict[str, str]
    payload: Any = Field(..., description="The webhook's JSON body; {} for an email.")
    attempt_log: list[AttemptOut]

    @staticmethod
    def resolve_attempt_log(obj: Message) -> list[Any]:
        return list(obj.attempt_log.order_by("at", "pk"))


class MessagePage(Page):
    items: list[MessageOut]


class MessageFilters(Schema):
    status: StatusName | None = None  # type: ignore[valid-type]
    channel: ChannelName | None = None  # type: ignore[valid-type]
    customer: QueryId | None = Field(None, description="Only messages about this customer.")
    source: Annotated[str, Field(max_length=30)] | None = Field(
        None, description="Who asked: playbook, digest, goal_alert, …"
    )


class SuppressionOut(Schema):
    id: int
    email: str
    reason: str = Field(..., description="unsubscribed, bounced, complained or manual.")
    note: str
    message_id: int | None = Field(..., description="The message that bounced, if any.")
    created_at: UtcDatetime


class SuppressionPage(Page):
    items: list[SuppressionOut]


class SuppressionIn(InputSchema):
    email: Address
    note: NoteText = ""


class EndpointOut(Schema):
    id: int
    name: str
    url: str
    secret_hint: str = Field(..., description="The secret's last 4 characters.")
    created_at: UtcDatetime
    archived_at: UtcDatetime | None

    @staticmethod
    def resolve_secret_hint(obj: WebhookEndpoint) -> str:
        return secret_hint(obj.secret)


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(..., description="The signing secret, returned this once.")


class EndpointPage(Page):
    items: list[EndpointOut]


class EndpointIn(InputSchema):
    name: Annotated[str, Field(min_length=1, max_length=120, pattern=r"\S")]
    url: Annotated[
        str,
        Field(
            min_length=8,
            max_length=URL_LENGTH,
            pattern=URL_PATTERN,
            description="An http:// or https:// URL; other schemes are refused.",
        ),
    ]


def _principal(request: HttpRequest) -> Principal:
    principal: Principal = request.auth  # type: ignore[attr-defined]
    return principal


def _message(pk: int) -> Message:
    message = Message.objects.select_related("customer").filter(pk=pk).first()
    if message is None:
        raise Http404(f"Message {pk} not found.")
    return message


@router.get("/messages", response={200: MessagePage, **ERRORS})
def message_list(
    request: HttpRequest, filters: Query[MessageFilters], paging: Query[PageParams]
) -> dict[str, Any]:
    """Every email and webhook call, newest first (the send log)."""
    qs: QuerySet[Message] = Message.objects.order_by("-created_at", "-pk")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.customer:
        qs = qs.filter(customer_id=filters.customer)
    if filters.source:
        qs = qs.filter(source=filters.source)
    return paginate(qs, paging)


@router.get("/messages/{message_id}", response={200: MessageDetailOut, **ERRORS_404})
def message_retrieve(request: HttpRequest, message_id: PathId) -> Message:
    """One message with its text, HTML, headers and every attempt."""
    return _message(message_id)


def _conflict(exc: ValidationError) -> FieldError:
    """A request the message's (or endpoint's) current state does not allow: 409."""
    field, errors = next(iter(exc.message_dict.items()))
    return FieldError(field, " ".join(errors), status=409, code="conflict")


@router.post("/messages/{message_id}/retry", response={200: MessageOut, **ERRORS_409})
def message_retry_endpoint(request: HttpRequest, message_id: PathId) -> Message:
    """Send a failed, canceled or suppressed message again (owners and members); 409 for a
    message in another status, or to an address still suppressed."""
    who = _principal(request)
    require_write(who.user)
    try:
        return message_retry(message=_message(message_id), by=who.user, label=who.label)
    except ValidationError as exc:
        raise _conflict(exc) from None


@router.post("/messages/{message_id}/cancel", response={200: MessageOut, **ERRORS_409})
def message_cancel_endpoint(request: HttpRequest, message_id: PathId) -> Message:
    """Cancel a queued message (owners and members); 409 for a message in another status."""
    who = _principal(request)
    require_write(who.user)
    try:
        return message_cancel(message=_message(message_id), by=who.user, label=who.label)
    except ValidationError as exc:
        raise _conflict(exc) from None


@router.get("/suppressions", response={200: SuppressionPage, **ERRORS})
def suppression_list(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    """Addresses Tend never sends customer emails to, newest first."""
    return paginate(Suppression.objects.order_by("-created_at", "-pk"), paging)


@router.post("/suppressions", response={201: SuppressionOut, 200: SuppressionOut, **ERRORS})
def suppression_create(request: HttpRequest, payload: SuppressionIn) -> Status[Suppression]:
    """Add an address by hand (owners and members): 201, or 200 when it was listed already."""
    who = _principal(request)
    require_write(who.user)
    row, created = suppression_add(
        email=payload.email,
        reason=SuppressionReason.MANUAL,
        note=payload.note,
        by=who.user,
        label=who.label,
    )
    return Status(201 if created else 200, row)


@router.delete("/suppressions/{suppression_id}", response={204: None, **ERRORS_404})
def suppression_delete(request: HttpRequest, suppression_id: PathId) -> Status[None]:
    """Take an address off the list (owners); an audit row records who."""
    who = _principal(request)
    require_manage(who.user)
    row = Suppression.objects.filter(pk=suppression_id).first()
    if row is None:
        raise Http404(f"Suppression {suppression_id} not found.")
    suppression_remove(suppression=row, by=who.user, label=who.label)
    return Status(204, None)


@router.get("/webhook-endpoints", response={200: EndpointPage, **ERRORS})
def webhook_endpoint_list(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    """Webhook endpoints (archived ones last); secrets are never returned here."""
    return paginate(WebhookEndpoint.objects.order_by("archived_at", "name", "pk"), paging)


@router.post("/webhook-endpoints", response={201: EndpointCreatedOut, **ERRORS_409})
def webhook_endpoint_create_endpoint(
    request: HttpRequest, payload: EndpointIn
) -> Status[WebhookEndpoint]:
    """Add an endpoint (owners); the answer holds its signing secret, this once."""
    who = _principal(request)
    require_manage(who.user)
    endpoint, _secret = webhook_endpoint_create(
        name=payload.name, url=payload.url, by=who.user, label=who.label
    )
    return Status(201, endpoint)


def _endpoint(pk: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=pk).first()
    if endpoint is None:
        raise Http404(f"Webhook endpoint {pk} not found.")
    return endpoint


@router.post("/webhook-endpoints/{endpoint_id}/archive", response={200: EndpointOut, **ERRORS_404})
def webhook_endpoint_archive_endpoint(request: HttpRequest, endpoint_id: PathId) -> WebhookEndpoint:
    """Archive an endpoint (owners): nothing more is posted; queued calls are canceled."""
    who = _principal(request)
    require_manage(who.user)
    endpoint = _endpoint(endpoint_id)
    webhook_endpoint_archive(endpoint=endpoint, by=who.user, label=who.label)
    return endpoint


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate", response={200: EndpointCreatedOut, **ERRORS_409}
)
def webhook_endpoint_rotate_endpoint(request: HttpRequest, endpoint_id: PathId) -> WebhookEndpoint:
    """A new signing secret (owners), returned this once; unsent calls use it. 409 for an
    archived endpoint."""
    who = _principal(request)
    require_manage(who.user)
    endpoint = _endpoint(endpoint_id)
    try:
        webhook_endpoint_rotate(endpoint=endpoint, by=who.user, label=who.label)
    except ValidationError as exc:
        raise _conflict(exc) from None
    return endpoint
