"""Meta connectors against a local Graph API on loopback (tests/support/providers/meta.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.adapters.connectors.meta import InstagramConnector, MessengerConnector, WhatsAppConnector
from switchboard.adapters.files import LocalFileStore
from switchboard.application.ports.connectors import ChannelConfig, WebhookRequest
from switchboard.domain.channels import Channel, ChannelKind
from tests.support.clock import ManualClock
from tests.support.providers.meta import (
    ACCESS_TOKEN,
    APP_SECRET,
    INSTAGRAM_ACCOUNT_ID,
    PAGE_ID,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    MetaGraph,
    meta_body,
    meta_graph,
    webhook_headers,
)

SECRETS = {"access_token": ACCESS_TOKEN, "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}


@pytest.fixture
async def graph() -> AsyncIterator[MetaGraph]:
    async with meta_graph() as running:
        yield running


@pytest.fixture
def files(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files")


@pytest.fixture
async def whatsapp(files: LocalFileStore) -> AsyncIterator[WhatsAppConnector]:
    connector = WhatsAppConnector(files)
    yield connector
    await connector.aclose()


@pytest.fixture
async def messenger(files: LocalFileStore, clock: ManualClock) -> AsyncIterator[MessengerConnector]:
    connector = MessengerConnector(files, clock=clock)
    yield connector
    await connector.aclose()


@pytest.fixture
async def instagram(files: LocalFileStore, clock: ManualClock) -> AsyncIterator[InstagramConnector]:
    connector = InstagramConnector(files, clock=clock)
    yield connector
    await connector.aclose()


def channel_config(kind: ChannelKind, graph: MetaGraph, channel_id: int = 7, **settings: Any) -> ChannelConfig:
    own = {
        ChannelKind.WHATSAPP: {"phone_number_id": PHONE_NUMBER_ID},
        ChannelKind.FACEBOOK: {"page_id": PAGE_ID},
        ChannelKind.INSTAGRAM: {"instagram_account_id": INSTAGRAM_ACCOUNT_ID},
    }[kind]
    channel = Channel(channel_id, kind, kind.value, 1, settings={**own, "api_base": graph.api_base, **settings})
    return ChannelConfig(channel, dict(SECRETS))


@pytest.fixture
def wa_config(graph: MetaGraph) -> ChannelConfig:
    return channel_config(ChannelKind.WHATSAPP, graph)


@pytest.fixture
def fb_config(graph: MetaGraph) -> ChannelConfig:
    return channel_config(ChannelKind.FACEBOOK, graph)


@pytest.fixture
def ig_config(graph: MetaGraph) -> ChannelConfig:
    return channel_config(ChannelKind.INSTAGRAM, graph)


def signed(payload: dict[str, Any], app_secret: str = APP_SECRET) -> WebhookRequest:
    """A POST as Meta sends it, signed over the exact bytes."""
    body = meta_body(payload)
    return WebhookRequest("POST", webhook_headers(body, app_secret), {}, body)
