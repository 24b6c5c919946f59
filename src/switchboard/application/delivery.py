"""What happened to a message we sent: connectors' receipts and bounces set its delivery status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard.application.context import Services
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.conversation import DeliveryStatus, Direction, Message
from switchboard.domain.events import MessageStatusChanged

# a status may only move forward: a late "delivered" must not undo a "read" or a "failed"
ORDER = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.FAILED: 4,
}


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    channel_id: int
    external_id: str
    status: DeliveryStatus
    error: str | None = None


async def awaiting_receipt(services: Services, channel_id: int, within: timedelta, limit: int = 100) -> list[str]:
    """Replies whose receipt is still due (a provider polled for statuses is asked about these)."""
    async with services.uow(read_only=True) as uow:
        return await uow.messages.awaiting_receipt(channel_id, services.clock.now() - within, limit)


async def record_delivery(services: Services, update: DeliveryUpdate) -> int | None:
    """Apply a receipt to the outbound message with this external id; None when no such message (reported by caller)."""
    now = services.clock.now()
    async with services.uow() as uow:
        message = await uow.messages.find_by_external_id(update.channel_id, update.external_id)
        if message is None or message.direction is not Direction.OUT:
            return None
        if await move_status(uow, message, update.status, update.error, now):
            await uow.commit()
        return message.id


async def move_status(
    uow: UnitOfWork, message: Message, status: DeliveryStatus, error: str | None, now: datetime
) -> bool:
    """Set a later status (announced to the conversation's holder); False when it would move backwards."""
    if ORDER.get(status, 0) <= ORDER.get(message.delivery_status, 0):
        return False
    await uow.messages.set_delivery(message.id, status, (error or "")[:1000] or None)
    conversation = await uow.conversations.get(message.conversation_id)
    holder = conversation.assignee_id if conversation is not None else None
    uow.emit(MessageStatusChanged(message.id, message.conversation_id, status.value, holder), now)
    return True
