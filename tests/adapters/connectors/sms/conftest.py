"""Fixtures for the SMS connector: local Twilio-, SMS.ru- and SMPP peers, channel configs, collected callbacks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from switchboard.adapters.connectors.sms import SmppSessions, SmsConnector
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.intake import InboundMessage
from switchboard.application.ports.connectors import ChannelConfig, OutboundMessage
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.identity import Identity, IdentityKind
from tests.support.providers import smsru, twilio
from tests.support.providers.smpp_server import Smsc
from tests.support.providers.smsru import SmsRuLike
from tests.support.providers.twilio import TwilioLike
from tests.support.server import serving

CUSTOMER = "+79161234567"

# SMPP timings short enough for tests; each test may override one
FAST_SMPP = {
    "reconnect_min": 0.02,
    "reconnect_max": 0.1,
    "response_timeout": 1.0,
    "bind_wait": 2.0,
    "throttle_pause": 0.05,
}


def sms_config(channel_id: int, settings: dict[str, Any], secrets: dict[str, str]) -> ChannelConfig:
    channel = Channel(id=channel_id, kind=ChannelKind.SMS, name="SMS", line_id=1, settings=settings)
    return ChannelConfig(channel, secrets)


def reply(body: str, *, message_id: int = 101, phone: str | None = CUSTOMER, **extra: Any) -> OutboundMessage:
    identities = (Identity(IdentityKind.PHONE, phone),) if phone else (Identity(IdentityKind.EMAIL, "a@b.example"),)
    return OutboundMessage(
        message_id=message_id, conversation_id=5, contact_id=3, body=body, identities=identities, **extra
    )


@dataclass
class Collected:
    """What SmppSessions handed to the application; ``fail_with`` makes the next inbound callback raise."""

    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[DeliveryUpdate] = field(default_factory=list)
    fail_with: list[Exception] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_inbound(self, message: InboundMessage) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.messages.append(message)
        self.arrived.set()

    async def on_status(self, update: DeliveryUpdate) -> None:
        self.statuses.append(update)
        self.arrived.set()


@pytest.fixture
async def twilio_api() -> AsyncIterator[tuple[TwilioLike, str]]:
    peer = TwilioLike()
    async with serving(peer.app) as host:
        yield peer, f"http://{host}"


@pytest.fixture
async def smsru_api() -> AsyncIterator[tuple[SmsRuLike, str]]:
    peer = SmsRuLike()
    async with serving(peer.app) as host:
        yield peer, f"http://{host}"


@pytest.fixture
async def connector() -> AsyncIterator[SmsConnector]:
    made = SmsConnector()
    yield made
    await made.close()


def twilio_config(base_url: str, **settings: Any) -> ChannelConfig:
    values = {
        "provider": "twilio",
        "account_sid": twilio.ACCOUNT_SID,
        "from": twilio.NUMBER,
        "webhook_url": twilio.WEBHOOK_URL,
        "base_url": base_url,
        **settings,
    }
    return sms_config(7, values, {"auth_token": twilio.AUTH_TOKEN})


def smsru_config(base_url: str, secrets: dict[str, str] | None = None, **settings: Any) -> ChannelConfig:
    values = {"provider": "smsru", "from": "Shop", "base_url": base_url, "webhook_url": smsru.WEBHOOK_URL, **settings}
    return sms_config(9, values, secrets or {"api_id": smsru.API_ID})


@pytest.fixture
async def smsc() -> AsyncIterator[Smsc]:
    peer = Smsc()
    await peer.start()
    yield peer
    await peer.close()


def smpp_config(port: int, password: str = "secret", **settings: Any) -> ChannelConfig:  # noqa: S107
    values = {
        "provider": "smpp",
        "host": "127.0.0.1",
        "port": port,
        "system_id": "switchboard",
        "source_addr": "Shop",
        **FAST_SMPP,
        **settings,
    }
    return sms_config(11, values, {"password": password})


@pytest.fixture
def collected() -> Collected:
    return Collected()


@pytest.fixture
async def sessions(collected: Collected) -> AsyncIterator[SmppSessions]:
    running = SmppSessions(collected.on_inbound, collected.on_status)
    yield running
    await running.close_all()
