"""Replies leave through their channel's connector, from a durable queue, so nothing is lost.

``send_reply`` stores the reply and, in the same unit of work, a delivery task. A worker claims
due tasks with a lease (a crashed worker's tasks come back when the lease ends), calls the
connector outside any transaction, and records the outcome: sent (the provider's id kept for its
status callbacks), tried again later with backoff, or failed with the reason. The channel's
health records every outcome. A send may be repeated after a crash between the provider's answer
and our commit: delivery is at least once, and connectors pass our message id to providers that
deduplicate (VK's random_id, for one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from switchboard.application.channels import channel_config
from switchboard.application.context import Services
from switchboard.application.errors import ApplicationError
from switchboard.application.ports.connectors import (
    ChannelConfig,
    OutboundFile,
    OutboundMessage,
    Receipt,
    SendFailed,
    Template,
)
from switchboard.application.ports.storage import Conflict, DeliveryTask, UnitOfWork
from switchboard.domain.conversation import Conversation, DeliveryStatus, Direction, Message
from switchboard.domain.delivery import RetryPolicy, retry_delay, should_give_up
from switchboard.domain.events import MessageStatusChanged
from switchboard.domain.identity import Identity

log = logging.getLogger("switchboard.outbound")
THREAD_DEPTH = 20


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt did (for logs, metrics and tests)."""

    message_id: int
    status: str  # sent | retry | failed | skipped
    detail: str = ""


def template_of(data: dict[str, object] | None) -> Template | None:
    if not data:
        return None
    parameters = data.get("parameters")
    values = parameters if isinstance(parameters, list) else []
    return Template(str(data["name"]), str(data["language"]), tuple(str(p) for p in values))


def template_data(template: Template | None) -> dict[str, object] | None:
    if template is None:
        return None
    return {"name": template.name, "language": template.language, "parameters": list(template.parameters)}


def _sha256_of(url: str | None) -> str | None:
    tail = (url or "").rsplit("/", 1)[-1]
    return tail if len(tail) == 64 and all(c in "0123456789abcdef" for c in tail) else None


def outbound_message(
    message: Message,
    conversation: Conversation,
    history: list[Message],
    contact_identities: tuple[Identity, ...],
    template: Template | None,
) -> OutboundMessage:
    """Everything a connector needs to address one reply (pure: built from what storage gave)."""
    inbound = [m for m in history if m.direction is Direction.IN]
    last_in = inbound[0] if inbound else None  # history is newest first
    thread = tuple(m.external_id for m in reversed(history) if m.external_id and m.id != message.id)
    return OutboundMessage(
        message_id=message.id,
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        body=message.body,
        attachments=tuple(OutboundFile(a, _sha256_of(a.url)) for a in message.attachments),
        identities=contact_identities,
        reply_to=last_in.external_id if last_in else None,
        subject=conversation.subject,
        thread=thread,
        last_inbound_at=last_in.created_at if last_in else None,
        template=template,
    )


async def _prepare(uow: UnitOfWork, task: DeliveryTask) -> OutboundMessage | None:
    message = await uow.messages.get(task.message_id)
    if message is None or message.delivery_status is not DeliveryStatus.QUEUED:
        return None
    conversation = await uow.conversations.get(message.conversation_id)
    assert conversation is not None
    contact = await uow.contacts.get(conversation.contact_id)
    identities = tuple(contact.identities) if contact else ()
    history = await uow.messages.list(conversation.id, THREAD_DEPTH, None)
    return outbound_message(message, conversation, history, identities, template_of(task.template))


async def claim(services: Services, limit: int, lease: timedelta) -> list[DeliveryTask]:
    now = services.clock.now()
    async with services.uow() as uow:
        tasks = await uow.deliveries.claim(now, now + lease, limit)
        await uow.commit()
    return tasks


async def deliver(services: Services, task: DeliveryTask, unit_random: float, policy: RetryPolicy) -> Outcome:
    """One attempt at one task; never raises for a provider's failure."""
    async with services.uow(read_only=True) as uow:
        outbound = await _prepare(uow, task)
    if outbound is None:
        await _finish(services, task, None, None)
        return Outcome(task.message_id, "skipped", "the message is no longer waiting")
    try:
        config = await channel_config(services, task.channel_id)
    except ApplicationError as error:
        return await _failed(services, task, SendFailed(error.detail, retryable=False), unit_random, policy)
    connector = services.connectors.get(config.channel.kind)
    if connector is None:
        failure = SendFailed(f"no connector sends {config.channel.kind.value} messages", retryable=False)
        return await _failed(services, task, failure, unit_random, policy)
    try:
        receipt = await connector.send(config, outbound)
    except SendFailed as failure:
        return await _failed(services, task, failure, unit_random, policy)
    except Exception as error:  # a connector's bug must not stop the queue: retried, logged with its trace
        log.exception("connector %s failed on message %s", config.channel.kind.value, task.message_id)
        reason = f"internal error in the {config.channel.kind.value} connector: {type(error).__name__}"
        return await _failed(services, task, SendFailed(reason, retryable=True), unit_random, policy)
    await _finish(services, task, config, receipt)
    return Outcome(task.message_id, "sent", receipt.external_id)


async def _finish(
    services: Services, task: DeliveryTask, config: ChannelConfig | None, receipt: Receipt | None
) -> None:
    now = services.clock.now()
    async with services.uow() as uow:
        await uow.deliveries.remove(task.message_id)
        if receipt is not None and config is not None:
            message = await uow.messages.get(task.message_id)
            if message is not None and message.delivery_status is DeliveryStatus.QUEUED:
                await uow.messages.set_delivery(task.message_id, receipt.status, None)
                uow.emit(MessageStatusChanged(task.message_id, message.conversation_id, receipt.status.value), now)
            await uow.channels.record_health(task.channel_id, now, None)
        try:
            if receipt is not None and receipt.external_id:  # the API channel's integration may give none
                await uow.messages.set_external_id(task.message_id, receipt.external_id)
            await uow.commit()
            return
        except Conflict:  # the provider gave an id we already hold: keep the outcome without it
            pass
    async with services.uow() as uow:
        await uow.deliveries.remove(task.message_id)
        if receipt is not None:
            await uow.messages.set_delivery(task.message_id, receipt.status, None)
        await uow.commit()


async def _failed(
    services: Services, task: DeliveryTask, failure: SendFailed, unit_random: float, policy: RetryPolicy
) -> Outcome:
    now = services.clock.now()
    attempts = task.attempts + 1
    give_up = not failure.retryable or should_give_up(policy, task.created_at, now)
    async with services.uow() as uow:
        message = await uow.messages.get(task.message_id)
        await uow.channels.record_health(task.channel_id, now, failure.reason)
        if give_up:
            await uow.deliveries.remove(task.message_id)
            if message is not None and message.delivery_status is DeliveryStatus.QUEUED:
                await uow.messages.set_delivery(task.message_id, DeliveryStatus.FAILED, failure.reason[:1000])
                uow.emit(MessageStatusChanged(task.message_id, message.conversation_id, "failed"), now)
        else:
            delay = retry_delay(policy, attempts, failure.retry_after, unit_random)
            await uow.deliveries.retry_at(task.message_id, attempts, now + timedelta(seconds=delay), failure.reason)
            if message is not None and message.delivery_status is DeliveryStatus.QUEUED:
                note = f"attempt {attempts} failed, retrying: {failure.reason}"
                await uow.messages.set_delivery(task.message_id, DeliveryStatus.QUEUED, note[:1000])
        await uow.commit()
    status = "failed" if give_up else "retry"
    log.info("outbound.%s message=%s reason=%s", status, task.message_id, failure.reason)
    return Outcome(task.message_id, status, failure.reason)
