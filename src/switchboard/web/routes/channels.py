"""Channels: what admins wire (secrets sealed, health shown) and where providers call us."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from switchboard.application import channels as uc
from switchboard.application.access import Principal
from switchboard.application.ports.connectors import WebhookRejected, WebhookRequest
from switchboard.application.webhooks import take_webhook
from switchboard.domain.operators import Role
from switchboard.web.access import STAFF, allow, container, current_principal, public
from switchboard.web.problems import problem
from switchboard.web.schemas import ChannelIn, ChannelOut, ChannelPatch, ConnectOut, PathId

router = APIRouter(tags=["channels"])
ADMIN = (Role.ADMIN,)
MAX_WEBHOOK_BYTES = 2_000_000


@router.get("/channels", response_model=list[ChannelOut], **allow(*STAFF))
async def channels(request: Request, principal: Principal = Depends(current_principal)) -> list[ChannelOut]:
    return [ChannelOut.of(x) for x in await uc.list_channels(container(request).services, principal)]


@router.post("/channels", response_model=ChannelOut, status_code=201, **allow(*ADMIN))
async def create_channel(
    body: ChannelIn, request: Request, principal: Principal = Depends(current_principal)
) -> ChannelOut:
    """Create a channel; its connector checks settings and secrets first. Secrets are sealed, never shown again."""
    services = container(request).services
    channel = await uc.create_channel(
        services, principal, body.kind, body.name, body.line_id, body.settings, body.secrets
    )
    return ChannelOut.of(await uc.get_channel(services, principal, channel.id))


@router.get("/channels/{channel_id}", response_model=ChannelOut, **allow(*STAFF))
async def channel(
    channel_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> ChannelOut:
    """The channel with its health (last success, last error) and how many replies wait for its provider."""
    return ChannelOut.of(await uc.get_channel(container(request).services, principal, channel_id))


@router.patch("/channels/{channel_id}", response_model=ChannelOut, **allow(*ADMIN))
async def edit_channel(
    channel_id: PathId, body: ChannelPatch, request: Request, principal: Principal = Depends(current_principal)
) -> ChannelOut:
    fields = body.model_dump(exclude_unset=True, exclude={"secrets"})
    view = await uc.update_channel(container(request).services, principal, channel_id, fields, body.secrets)
    return ChannelOut.of(view)


@router.post("/channels/{channel_id}/connect", response_model=ConnectOut, **allow(*ADMIN))
async def connect(
    channel_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> ConnectOut:
    """Set the provider up for this channel (register our webhook, check the credentials) and say what was done."""
    runtime = container(request)
    public_url = runtime.settings.public_url or str(request.base_url)
    return ConnectOut(outcome=await uc.connect_channel(runtime.services, principal, channel_id, public_url))


async def _webhook(channel_id: int, request: Request) -> Response:
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        return problem(413, "Payload too large", f"a webhook body is at most {MAX_WEBHOOK_BYTES} bytes")
    call = WebhookRequest(
        method=request.method,
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query_params),
        body=body,
    )
    try:
        outcome = await take_webhook(container(request).services, channel_id, call)
    except WebhookRejected as error:
        return problem(error.status, "Webhook rejected", error.reason)
    reply = outcome.result
    return Response(reply.reply_body, status_code=reply.reply_status, media_type=reply.reply_content_type)


@router.post(
    "/channels/{channel_id}/webhook", **public(), responses={401: {"description": "not signed by the provider"}}
)
async def webhook(channel_id: PathId, request: Request) -> Response:
    """Where the channel's provider posts updates; its connector verifies the signature before anything is stored."""
    return await _webhook(channel_id, request)


@router.get("/channels/{channel_id}/webhook", **public())
async def webhook_handshake(channel_id: PathId, request: Request) -> Response:
    """A provider's verification handshake (Meta's hub.challenge and the like)."""
    return await _webhook(channel_id, request)
