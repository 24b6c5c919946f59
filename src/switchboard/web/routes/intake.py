"""The API channel: any system posts what its customer wrote.

``web/inbound_path.py`` serves this route's common case without FastAPI's per-request machinery;
this route stays the documented one and answers everything the lean path hands over.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from switchboard.application.access import Principal
from switchboard.application.api_channel import StatusReport, report_status
from switchboard.application.errors import InvalidInput
from switchboard.application.intake import InboundMessage, IntakeResult, Sender, receive_message
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import Attachment, DeliveryStatus
from switchboard.domain.operators import Role
from switchboard.web.access import allow, container, current_principal
from switchboard.web.schemas import InboundIn, InboundOut, InboundStatusIn, MessageOut

router = APIRouter(tags=["api channel"])
REPLAYED = "Idempotent-Replayed"


@router.post(
    "/inbound",
    response_model=InboundOut,
    status_code=201,
    **allow(Role.INTEGRATION, Role.ADMIN),
    responses={200: {"description": "a repeat of an earlier delivery: the same answer, nothing stored"}},
)
async def inbound(
    body: InboundIn, request: Request, response: Response, principal: Principal = Depends(current_principal)
) -> InboundOut:
    """Post an inbound message: the sender is recognised (or created, with a lead), the conversation found or opened."""
    result = await receive_message(container(request).services, principal, inbound_message(body), kind=ChannelKind.API)
    if result.duplicate:
        response.status_code = 200
        response.headers[REPLAYED] = "true"
    return inbound_answer(result)


def inbound_message(body: InboundIn) -> InboundMessage:
    """The use case's message from a validated body (an external kind needs its external id)."""
    if body.sender.external_kind is not None and not body.sender.external_id:
        raise InvalidInput("external_kind needs external_id", field="sender.external_id")
    return InboundMessage(
        channel_id=body.channel_id,
        sender=Sender(
            body.sender.name, body.sender.phone, body.sender.email, body.sender.external_kind, body.sender.external_id
        ),
        body=body.text,
        external_id=body.external_id,
        attachments=tuple(Attachment(a.name, a.content_type, a.size, a.url) for a in body.attachments),
        source=body.source.to_domain(),
        language=body.language,
    )


def inbound_answer(result: IntakeResult) -> InboundOut:
    return InboundOut(
        contact_id=result.contact_id,
        conversation_id=result.conversation_id,
        message_id=result.message_id,
        contact_created=result.contact_created,
        conversation_opened=result.conversation_opened,
        lead_id=result.lead_id,
        lead_created=result.lead_created,
    )


@router.post(
    "/inbound/status",
    response_model=MessageOut,
    **allow(Role.INTEGRATION, Role.ADMIN),
    responses={404: {"description": "the channel sent no such message (problem+json naming the field)"}},
)
async def inbound_status(
    body: InboundStatusIn, request: Request, principal: Principal = Depends(current_principal)
) -> MessageOut:
    """Report what became of a reply pushed to you: its status moves forward only, so a repeat is harmless."""
    report = StatusReport(body.channel_id, DeliveryStatus(body.status), body.message_id, body.external_id, body.error)
    return MessageOut.of(await report_status(container(request).services, principal, report))
