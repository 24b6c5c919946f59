"""The API channel's way back: the integration says what became of a reply we pushed to it.

A report names the message by our id (``message_id``, in every push) or by the integration's own
id (``external_id``, when its answer to the push gave one). It is idempotent: a status only moves
forward (``queued`` → ``sent`` → ``delivered`` → ``read``, or ``failed``), so a repeat or a late
"delivered" after "read" changes nothing and answers the status the message has.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.delivery import move_status
from switchboard.application.errors import InvalidInput, NotFound
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import DeliveryStatus, Direction, Message
from switchboard.domain.operators import Role

REPORTABLE = frozenset({DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ, DeliveryStatus.FAILED})


@dataclass(frozen=True, slots=True)
class StatusReport:
    channel_id: int
    status: DeliveryStatus
    message_id: int | None = None
    external_id: str | None = None
    error: str | None = None


def check_status_report(report: StatusReport) -> None:
    if (report.message_id is None) == (report.external_id is None):
        raise InvalidInput("name the message by message_id or by external_id (one of them)", field="message_id")
    if report.status not in REPORTABLE:
        raise InvalidInput("status must be sent, delivered, read or failed", field="status")


async def _reported_message(uow: UnitOfWork, report: StatusReport) -> Message:
    channel = await uow.channels.get(report.channel_id)
    if channel is None or channel.kind is not ChannelKind.API:
        raise NotFound(f"channel {report.channel_id} is not an API channel", field="channel_id")
    if report.message_id is not None:
        message, field, named = await uow.messages.get(report.message_id), "message_id", str(report.message_id)
    else:
        named = report.external_id or ""
        message, field = await uow.messages.find_by_external_id(report.channel_id, named), "external_id"
    if message is None or message.channel_id != report.channel_id or message.direction is not Direction.OUT:
        raise NotFound(f"channel {report.channel_id} sent no message {named}", field=field)
    return message


async def report_status(services: Services, principal: Principal, report: StatusReport) -> Message:
    """Move the reply's delivery status forward; the message as it stands after the report."""
    require_role(principal, Role.INTEGRATION, Role.ADMIN)
    check_status_report(report)
    now = services.clock.now()
    async with services.uow() as uow:
        message = await _reported_message(uow, report)
        if await move_status(uow, message, report.status, report.error, now):
            await uow.commit()
            updated = await uow.messages.get(message.id)
            assert updated is not None
            return updated
        return message
