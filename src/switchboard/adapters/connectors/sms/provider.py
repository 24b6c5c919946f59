"""What each SMS provider does for the SMS connector; the connector picks one by ``settings["provider"]``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from switchboard.application.ports.connectors import (
    ChannelConfig,
    OutboundMessage,
    Receipt,
    WebhookRequest,
    WebhookResult,
)


class SmsProvider(Protocol):
    name: str
    secret_names: tuple[str, ...]

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        """Raise ``InvalidInput`` naming the field."""
        ...

    def max_parts(self, settings: Mapping[str, Any]) -> int:
        """How many SMS one reply may take on this channel."""
        ...

    def max_characters(self) -> int | None:
        """The provider's own limit on a message's length in characters, if it has one."""
        ...

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt: ...

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult: ...

    async def connect(self, config: ChannelConfig, public_url: str) -> str: ...
