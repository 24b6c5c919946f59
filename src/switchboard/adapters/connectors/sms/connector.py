"""The SMS connector: one channel kind, three providers chosen by ``settings["provider"]``.

``twilio`` and ``smsru`` are HTTP APIs: replies are POSTed, statuses (and Twilio's inbound SMS)
arrive at the channel's webhook. ``smpp`` is a carrier's or aggregator's SMSC reached over a
long-lived SMPP 3.4 session that ``SmppSessions`` keeps in the worker; a reply is submitted through
that session, and inbound SMS and receipts come in through its callbacks, not the webhook.

Before a reply is stored, ``check_reply`` refuses what SMS cannot carry: attachments, a contact
without a phone, a text longer than the channel allows (counted in SMS parts as the network counts
them, whoever does the splitting).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from switchboard.adapters.connectors.http import new_client
from switchboard.adapters.connectors.sms import settings as read
from switchboard.adapters.connectors.sms.encoding import PART_GSM7, PART_UCS2, DataCoding, describe, split_text
from switchboard.adapters.connectors.sms.phones import recipient_or_none
from switchboard.adapters.connectors.sms.provider import SmsProvider
from switchboard.adapters.connectors.sms.smpp.sessions import SmppSessions
from switchboard.adapters.connectors.sms.smpp.settings import smpp_settings
from switchboard.adapters.connectors.sms.smsru import SmsRuProvider
from switchboard.adapters.connectors.sms.twilio import TwilioProvider
from switchboard.application.errors import InvalidInput
from switchboard.application.ports.connectors import (
    ChannelConfig,
    OutboundMessage,
    Receipt,
    SendFailed,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
)
from switchboard.domain.channels import ChannelKind


class SmppProvider:
    """SMPP through the sessions the worker runs; it has no webhook."""

    name: str = "smpp"
    secret_names: tuple[str, ...] = ("password",)

    def __init__(self, sessions: SmppSessions | None) -> None:
        self.sessions = sessions

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        smpp_settings(settings, secrets)

    def max_parts(self, settings: Mapping[str, Any]) -> int:
        return smpp_settings(settings, {"password": "-"}).max_parts

    def max_characters(self) -> int | None:
        return None

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        if self.sessions is None:
            raise SendFailed("smpp: this process runs no SMPP sessions", retryable=True)
        return await self.sessions.send(config, message)

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        raise WebhookRejected("an SMPP channel takes nothing by webhook: the SMSC delivers over the session", 404)

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        if self.sessions is None:
            return "SMPP sessions run in the worker; it binds this channel when it starts"
        session = await self.sessions.open(config)
        try:
            await session.client.wait_bound()
        except Exception as error:
            raise SendFailed(str(error), retryable=True) from error
        settings = session.settings
        return f"bound to {settings.host}:{settings.port} as {settings.system_id}"


class SmsConnector:
    kind = ChannelKind.SMS
    secret_names = ("auth_token", "api_id", "callback_token", "password")

    def __init__(
        self,
        sessions: SmppSessions | None = None,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.client = client or new_client(transport)
        self.sessions = sessions
        self._providers: dict[str, SmsProvider] = {
            "twilio": TwilioProvider(self.client),
            "smsru": SmsRuProvider(self.client),
            "smpp": SmppProvider(sessions),
        }

    def provider(self, settings: Mapping[str, Any]) -> SmsProvider:
        return self._providers[read.provider_of(settings)]

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        provider = self.provider(settings)
        provider.check_settings(settings, secrets)
        foreign = sorted(name for name in secrets if name not in provider.secret_names)
        if foreign:
            raise InvalidInput(f"{provider.name} takes no secret {foreign[0]!r}", field=f"secrets.{foreign[0]}")

    def check_reply(self, config: ChannelConfig, message: OutboundMessage, now: datetime) -> None:
        if message.attachments:
            raise InvalidInput("an SMS carries text only: send the file by another channel", field="attachments")
        if recipient_or_none(message) is None:
            raise InvalidInput("the contact has no phone number to send an SMS to", field="contact")
        provider = self.provider(config.settings)
        limit = provider.max_characters()
        if limit is not None and len(message.body) > limit:
            raise InvalidInput(f"{provider.name} sends at most {limit} characters in one message", field="body")
        segments = split_text(message.body)
        most = provider.max_parts(config.settings)
        if segments.count > most:
            each = PART_GSM7 if segments.coding is DataCoding.DEFAULT else PART_UCS2
            raise InvalidInput(
                f"the reply would be {describe(segments)}; this channel sends at most {most} "
                f"({most * each} characters in this alphabet)",
                field="body",
            )

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        return await self.provider(config.settings).send(config, message)

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        try:
            provider = self.provider(config.settings)
        except InvalidInput as error:
            raise WebhookRejected(f"the channel is not configured: {error.detail}", 404) from error
        return await provider.webhook(config, request)

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        return await self.provider(config.settings).connect(config, public_url)

    async def close(self) -> None:
        await self.client.aclose()
