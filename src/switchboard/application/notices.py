"""What an API integration is told besides replies: a conversation closed.

An integration that takes pushes (its API channel has ``settings.webhook_url``) hears of a close as
it hears of a reply: a signed POST from a durable queue, retried with backoff while it is down, never
lost to an outage shorter than the retry policy's limit. The notice is queued from the
``ConversationClosed`` event, whatever closed the conversation (an operator, a supervisor, a
timer), once per event: a redelivered event adds no second notice, and the document's ``id`` is
the same on every attempt, for the integration to deduplicate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from switchboard.application.channels import channel_config
from switchboard.application.context import Services
from switchboard.application.errors import ApplicationError
from switchboard.application.ports.bus import Envelope
from switchboard.application.ports.connectors import Notifier, SendFailed, delivers
from switchboard.application.ports.storage import NoticeTask
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import Conversation
from switchboard.domain.delivery import RetryPolicy, retry_delay, should_give_up

log = logging.getLogger("switchboard.notices")
CLOSED = "conversation.closed"


@dataclass(frozen=True, slots=True)
class NoticeOutcome:
    notice_id: int
    status: str  # sent | retry | failed
    detail: str = ""


def closed_document(event_id: int, conversation: Conversation, by_user_id: int | None) -> dict[str, Any]:
    """What the integration receives when one of its conversations is closed."""
    return {
        "type": CLOSED,
        "id": f"{CLOSED}-{event_id}",
        "channel_id": conversation.channel_id,
        "conversation_id": conversation.id,
        "contact_id": conversation.contact_id,
        "closed_at": conversation.closed_at.isoformat() if conversation.closed_at else None,
        "closed_by": by_user_id,
    }


async def queue_close_notice(services: Services, envelope: Envelope) -> bool:
    """Queue the notice of a ``ConversationClosed`` for a channel that pushes; whether one was queued."""
    conversation_id = int(envelope.payload["conversation_id"])
    by_user_id = envelope.payload.get("by_user_id")
    # decided on a read: most closes are of channels that do not push (a call's end, a chat)
    async with services.uow(read_only=True) as uow:
        conversation = await uow.conversations.get(conversation_id)
        channel = await uow.channels.get(conversation.channel_id) if conversation else None
    if conversation is None or channel is None or channel.kind is not ChannelKind.API:
        return False
    connector = services.connectors.get(channel.kind)
    if not isinstance(connector, Notifier) or not delivers(connector, channel.settings):
        return False
    document = closed_document(envelope.event_id, conversation, int(by_user_id) if by_user_id else None)
    async with services.uow() as uow:
        added = await uow.notices.add(envelope.event_id, channel.id, CLOSED, document, services.clock.now())
        await uow.commit()
    return added


async def claim_notices(services: Services, limit: int, lease: timedelta) -> list[NoticeTask]:
    """The due notices, leased to the caller. Looked for with a read first: the queue is empty nearly
    always, and a claim is a write (SQLite's lock) on every round of the delivery worker."""
    now = services.clock.now()
    async with services.uow(read_only=True) as uow:
        if not await uow.notices.any_due(now):
            return []
    async with services.uow() as uow:
        tasks = await uow.notices.claim(now, now + lease, limit)
        await uow.commit()
    return tasks


async def push_notice(services: Services, task: NoticeTask, unit_random: float, policy: RetryPolicy) -> NoticeOutcome:
    """One attempt at one notice; never raises for the integration's failure."""
    try:
        config = await channel_config(services, task.channel_id)
    except ApplicationError as error:
        return await _failed(services, task, SendFailed(error.detail, retryable=False), unit_random, policy)
    connector = services.connectors.get(config.channel.kind)
    if not isinstance(connector, Notifier):
        failure = SendFailed(f"no connector tells {config.channel.kind.value} of {task.kind}", retryable=False)
        return await _failed(services, task, failure, unit_random, policy)
    try:
        await connector.notify(config, task.kind, task.document)
    except SendFailed as failure:
        return await _failed(services, task, failure, unit_random, policy)
    except Exception as error:  # a connector's bug must not stop the queue: retried, logged with its trace
        log.exception("connector %s failed on notice %s", config.channel.kind.value, task.id)
        reason = f"internal error in the {config.channel.kind.value} connector: {type(error).__name__}"
        failure = SendFailed(reason, retryable=True)
        return await _failed(services, task, failure, unit_random, policy)
    async with services.uow() as uow:
        await uow.notices.remove(task.id)
        await uow.channels.record_health(task.channel_id, services.clock.now(), None)
        await uow.commit()
    return NoticeOutcome(task.id, "sent")


async def _failed(
    services: Services, task: NoticeTask, failure: SendFailed, unit_random: float, policy: RetryPolicy
) -> NoticeOutcome:
    now = services.clock.now()
    attempts = task.attempts + 1
    give_up = not failure.retryable or should_give_up(policy, task.created_at, now)
    async with services.uow() as uow:
        await uow.channels.record_health(task.channel_id, now, failure.reason)
        if give_up:
            await uow.notices.remove(task.id)
        else:
            delay = retry_delay(policy, attempts, failure.retry_after, unit_random)
            await uow.notices.retry_at(task.id, attempts, now + timedelta(seconds=delay), failure.reason)
        await uow.commit()
    status = "failed" if give_up else "retry"
    log.log(logging.WARNING if give_up else logging.INFO, "notice.%s id=%s reason=%s", status, task.id, failure.reason)
    return NoticeOutcome(task.id, status, failure.reason)
