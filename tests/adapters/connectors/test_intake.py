"""Messenger webhooks through the intake, on both databases: a replay is stored once, a shared phone joins."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Table, func, select

from switchboard.adapters.connectors.telegram import TelegramConnector
from switchboard.adapters.connectors.vk import VkConnector
from switchboard.adapters.connectors.yandex import YandexConnector
from switchboard.adapters.files import LocalFileStore
from switchboard.adapters.storage import tables as t
from switchboard.application.access import Principal
from switchboard.application.catalog import create_line
from switchboard.application.channels import create_channel
from switchboard.application.intake import InboundMessage, IntakeResult, Sender, receive_message
from switchboard.application.ports.connectors import ChannelConfig, Connector, WebhookRequest
from switchboard.bootstrap import Container
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role
from tests.support.providers import fixture
from tests.support.providers.telegram import FakeTelegram
from tests.support.providers.vk import FakeVk
from tests.support.providers.yandex import FakeYandex

ADMIN, INTEGRATION = Principal(Role.ADMIN), Principal(Role.INTEGRATION)
SECRET = "intake-webhook-secret-0123456789"


async def _channel(
    container: Container, kind: ChannelKind, settings: dict[str, object], secrets: dict[str, str] | None = None
) -> Channel:
    line = await create_line(container.services, ADMIN, Line(0, f"{kind.value} line"))
    return await create_channel(container.services, ADMIN, kind, f"{kind.value} channel", line.id, settings, secrets)


async def _take(
    container: Container, connector: Connector, config: ChannelConfig, request: WebhookRequest
) -> list[IntakeResult]:
    """What the webhook route does: the connector parses, the intake stores each message."""
    result = await connector.webhook(config, request)
    return [await receive_message(container.services, INTEGRATION, message) for message in result.messages]


async def _count(container: Container, table: Table) -> int:
    async with container.database.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram().running() as server:
        yield server


async def test_a_replayed_telegram_update_is_stored_once(
    container: Container, telegram: FakeTelegram, files: LocalFileStore
) -> None:
    secrets = {"bot_token": telegram.token, "webhook_secret": SECRET}
    channel = await _channel(container, ChannelKind.TELEGRAM, {"api_base": telegram.base_url}, secrets)
    config = ChannelConfig(channel, secrets)
    connector = TelegramConnector(files)
    update = telegram.webhook_request(fixture("telegram", "text"), secret=SECRET)
    # when Telegram delivers the same update twice
    first = await _take(container, connector, config, update)
    again = await _take(container, connector, config, update)
    await connector.close()
    # then one message is stored, and the second delivery is answered from it
    stored = first[0].message_id
    assert [(r.duplicate, r.message_id) for r in first + again] == [(False, stored), (True, stored)]
    assert await _count(container, t.messages) == 1


async def test_the_phone_shared_in_telegram_joins_the_contact_who_called(
    container: Container, telegram: FakeTelegram, files: LocalFileStore
) -> None:
    # given a customer already known by phone (a call logged through the API channel)
    api = await _channel(container, ChannelKind.API, {})
    known = await receive_message(
        container.services, INTEGRATION, InboundMessage(api.id, Sender("Test", phone="+7 916 123-45-67"), "call", "c-1")
    )
    secrets = {"bot_token": telegram.token, "webhook_secret": SECRET}
    channel = await _channel(container, ChannelKind.TELEGRAM, {"api_base": telegram.base_url}, secrets)
    config = ChannelConfig(channel, secrets)
    connector = TelegramConnector(files)
    # when they share their phone with the bot
    [shared] = await _take(
        container, connector, config, telegram.webhook_request(fixture("telegram", "contact"), secret=SECRET)
    )
    await connector.close()
    # then it is the same contact, now also known by their Telegram id
    assert (shared.contact_id, shared.contact_created) == (known.contact_id, False)
    async with container.services.uow(read_only=True) as uow:
        by_telegram = await uow.contacts.find_by_identity(Identity(IdentityKind.TELEGRAM, "1111111"))
    assert by_telegram == known.contact_id


async def test_vk_and_yandex_messages_reach_the_intake_once(container: Container, files: LocalFileStore) -> None:
    async with FakeVk().running() as vk, FakeYandex().running() as yandex:
        vk_secrets = {"access_token": vk.token, "secret": vk.secret}
        yandex_secrets = {"oauth_token": yandex.token, "webhook_secret": SECRET}
        vk_settings = {"api_base": vk.base_url, "confirmation_code": "c"}
        vk_channel = await _channel(container, ChannelKind.VK, vk_settings, vk_secrets)
        yandex_channel = await _channel(container, ChannelKind.YANDEX, {"api_base": yandex.base_url}, yandex_secrets)
        vk_config = ChannelConfig(vk_channel, vk_secrets)
        yandex_config = ChannelConfig(yandex_channel, yandex_secrets)
        vk_connector, yandex_connector = VkConnector(files), YandexConnector(files)
        taken = []
        for _ in range(2):
            taken += await _take(container, vk_connector, vk_config, vk.webhook_request(vk.event("message_new")))
            yandex_update = yandex.webhook_request(fixture("yandex", "private_text"), secret=SECRET)
            taken += await _take(container, yandex_connector, yandex_config, yandex_update)
        await vk_connector.close()
        await yandex_connector.close()
    assert [r.duplicate for r in taken] == [False, False, True, True]
    assert await _count(container, t.messages) == 2
    async with container.services.uow(read_only=True) as uow:
        vk_contact = await uow.contacts.find_by_identity(Identity(IdentityKind.VK, "2050"))
        yandex_contact = await uow.contacts.find_by_identity(Identity(IdentityKind.YANDEX, "ivan_ivanov"))
    assert {vk_contact, yandex_contact} == {taken[0].contact_id, taken[1].contact_id}
