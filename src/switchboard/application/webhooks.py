"""A provider calls us: its connector verifies and parses the call; we take in what it meant.

Nothing is stored unless the connector accepts the call as genuine. Every message goes through
the same intake as any other channel, so a replayed webhook (the same provider message id) is a
no-op; statuses move a message's delivery status forward only. If storage fails half way, the
provider is answered with an error and retries: what was already taken in is not doubled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from switchboard.application.access import Principal
from switchboard.application.channels import channel_config
from switchboard.application.context import Services
from switchboard.application.delivery import record_delivery
from switchboard.application.errors import NotFound, StateConflict
from switchboard.application.intake import receive_message
from switchboard.application.ports.connectors import WebhookRequest, WebhookResult
from switchboard.domain.operators import Role

log = logging.getLogger("switchboard.webhooks")
CONNECTOR = Principal(Role.INTEGRATION)


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    result: WebhookResult
    conversations: tuple[int, ...]
    unknown_statuses: int


async def take_webhook(services: Services, channel_id: int, request: WebhookRequest) -> WebhookOutcome:
    """Verify, parse and take in one provider call (raises ``WebhookRejected`` when it is not genuine)."""
    config = await channel_config(services, channel_id)
    if not config.channel.active:
        raise StateConflict(f"channel {channel_id} is switched off")
    connector = services.connectors.get(config.channel.kind)
    if connector is None:
        raise NotFound(f"{config.channel.kind.value} channels take no webhooks")
    result = await connector.webhook(config, request)
    conversations: list[int] = []
    for message in result.messages:  # a connector speaks for its own channel only
        own = replace(message, channel_id=channel_id)
        taken = await receive_message(services, CONNECTOR, own, kind=config.channel.kind)
        conversations.append(taken.conversation_id)
    unknown = 0
    for update in result.statuses:
        if await record_delivery(services, replace(update, channel_id=channel_id)) is None:
            unknown += 1
            log.info("webhook.status for unknown message channel=%s external_id=%s", channel_id, update.external_id)
    for ignored in result.ignored:
        log.info("webhook.ignored channel=%s event=%s", channel_id, ignored)
    return WebhookOutcome(result, tuple(conversations), unknown)
