"""SMS on the main path, on SQLite and PostgreSQL: what the connector parses is stored once, on one contact.

The webhook route and the delivery queue are the lead's wiring; here their part is played by
the calls they will make: ``receive_message`` for each parsed message, ``record_delivery`` for each
status, and, for replies, an outbound message stored with the provider's id the connector returned.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.adapters.connectors.sms import SmppSessions, SmsConnector
from switchboard.application.access import Principal
from switchboard.application.channels import create_channel
from switchboard.application.context import Services
from switchboard.application.delivery import DeliveryUpdate, record_delivery
from switchboard.application.intake import InboundMessage, IntakeResult, Sender, receive_message
from switchboard.application.ports.connectors import ChannelConfig, WebhookResult
from switchboard.application.ports.storage import NewMessage
from switchboard.bootstrap import Container
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import AuthorKind, DeliveryStatus, Direction, Message
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.operators import Role
from tests.adapters.connectors.sms.conftest import FAST_SMPP, reply
from tests.support.desk import Desk
from tests.support.providers import twilio
from tests.support.providers.smpp_server import Smsc
from tests.support.providers.twilio import TwilioLike

CONNECTOR = Principal(Role.INTEGRATION)
PHONE = "+79161234567"


async def sms_channel(
    services: Services, desk: Desk, name: str, settings: dict[str, object], secrets: dict[str, str]
) -> ChannelConfig:
    admin = Principal(Role.ADMIN, desk.admin_id)
    channel = await create_channel(services, admin, ChannelKind.SMS, name, desk.line_id, settings, secrets)
    return ChannelConfig(channel, secrets)


async def take_in(services: Services, result: WebhookResult) -> list[IntakeResult]:
    """What the webhook route does with a connector's result."""
    stored = [await receive_message(services, CONNECTOR, message) for message in result.messages]
    for update in result.statuses:
        await record_delivery(services, update)
    return stored


async def sent_reply(services: Services, conversation_id: int, channel_id: int, external_id: str) -> int:
    """An operator's reply as the delivery queue leaves it once the provider took it."""
    async with services.uow() as uow:
        message = await uow.messages.add(
            NewMessage(
                conversation_id=conversation_id,
                channel_id=channel_id,
                direction=Direction.OUT,
                author_kind=AuthorKind.OPERATOR,
                body="Заказ в пути",
                delivery_status=DeliveryStatus.SENT,
                created_at=services.clock.now(),
                external_id=external_id,
            )
        )
        await uow.commit()
    return message.id


async def messages(services: Services, conversation_id: int) -> list[Message]:
    async with services.uow(read_only=True) as uow:
        return await uow.messages.list(conversation_id, 100, None)


@pytest.fixture
async def smsc() -> AsyncIterator[Smsc]:
    peer = Smsc()
    await peer.start()
    yield peer
    await peer.close()


class Wired(SmppSessions):
    """SMPP sessions wired as the worker will wire them; ``taken`` is what their inbound callback stored."""

    taken: list[IntakeResult]


@pytest.fixture
async def wired_sessions(container: Container) -> AsyncIterator[Wired]:
    services = container.services
    taken: list[IntakeResult] = []

    async def on_inbound(message: InboundMessage) -> None:
        taken.append(await receive_message(services, CONNECTOR, message))

    async def on_status(update: DeliveryUpdate) -> None:
        await record_delivery(services, update)

    sessions = Wired(on_inbound, on_status)
    sessions.taken = taken
    yield sessions
    await sessions.close_all()


async def test_one_phone_writing_by_twilio_smpp_and_the_api_is_one_contact_and_a_replay_stores_nothing(
    container: Container, desk: Desk, smsc: Smsc, wired_sessions: Wired
) -> None:
    services = container.services
    twilio_channel = await sms_channel(
        services,
        desk,
        "Twilio SMS",
        {
            "provider": "twilio",
            "account_sid": twilio.ACCOUNT_SID,
            "from": twilio.NUMBER,
            "webhook_url": twilio.WEBHOOK_URL,
        },
        {"auth_token": twilio.AUTH_TOKEN},
    )
    smpp_channel = await sms_channel(
        services,
        desk,
        "Carrier SMS",
        {
            "provider": "smpp",
            "host": "127.0.0.1",
            "port": smsc.port,
            "system_id": "switchboard",
            "source_addr": "Shop",
            **FAST_SMPP,
        },
        {"password": "secret"},
    )
    connector = SmsConnector(wired_sessions)
    await wired_sessions.sync([smpp_channel])
    await smsc.wait_bound()

    # when the customer texts the Twilio number
    call = TwilioLike().inbound(twilio.WEBHOOK_URL, From=PHONE, Body="Где мой заказ?", MessageSid="SM" + "c" * 32)
    [by_twilio] = await take_in(services, await connector.webhook(twilio_channel, call.request()))
    # and the carrier's short number, and a web form with the phone typed the Russian way
    await smsc.deliver(source="79161234567", destination="4242", short_message=b"Hello again")
    by_api = await receive_message(
        services,
        CONNECTOR,
        InboundMessage(desk.channel_id, Sender(phone="8 (916) 123-45-67"), "Форма", external_id="f-1"),
    )
    # then there is one contact
    async with services.uow(read_only=True) as uow:
        contact_id = await uow.contacts.find_by_identity(Identity(IdentityKind.PHONE, PHONE))
    [by_smpp] = wired_sessions.taken
    assert by_twilio.contact_id == by_smpp.contact_id == by_api.contact_id == contact_id
    assert (by_twilio.contact_created, by_smpp.contact_created, by_api.contact_created) == (True, False, False)
    assert by_smpp.conversation_id != by_twilio.conversation_id  # one conversation per channel, one timeline

    # when Twilio posts the same webhook again, nothing more is stored
    [replayed] = await take_in(services, await connector.webhook(twilio_channel, call.request()))
    assert replayed.duplicate is True and replayed.message_id == by_twilio.message_id
    stored = await messages(services, by_twilio.conversation_id)
    assert [(m.body, m.external_id) for m in stored] == [("Где мой заказ?", "SM" + "c" * 32)]
    await connector.close()


async def test_twilio_status_callbacks_and_smpp_receipts_set_the_replies_status(
    container: Container, desk: Desk, smsc: Smsc, wired_sessions: Wired, twilio_api: tuple[TwilioLike, str]
) -> None:
    services = container.services
    _, base = twilio_api
    twilio_channel = await sms_channel(
        services,
        desk,
        "Twilio SMS",
        {
            "provider": "twilio",
            "account_sid": twilio.ACCOUNT_SID,
            "from": twilio.NUMBER,
            "webhook_url": twilio.WEBHOOK_URL,
            "base_url": base,
        },
        {"auth_token": twilio.AUTH_TOKEN},
    )
    smpp_channel = await sms_channel(
        services,
        desk,
        "Carrier SMS",
        {
            "provider": "smpp",
            "host": "127.0.0.1",
            "port": smsc.port,
            "system_id": "switchboard",
            "source_addr": "Shop",
            **FAST_SMPP,
        },
        {"password": "secret"},
    )
    connector = SmsConnector(wired_sessions)
    await wired_sessions.sync([smpp_channel])
    await smsc.wait_bound()
    call = TwilioLike().inbound(twilio.WEBHOOK_URL, From=PHONE, Body="Где мой заказ?")
    [first] = await take_in(services, await connector.webhook(twilio_channel, call.request()))

    # given a reply sent through Twilio and a long one through the SMSC
    by_twilio = await connector.send(twilio_channel, reply("Заказ в пути"))
    twilio_reply = await sent_reply(services, first.conversation_id, twilio_channel.id, by_twilio.external_id)
    long_text = "Ваш заказ передан курьеру, он позвонит за час до приезда. " * 3
    by_smpp = await connector.send(smpp_channel, reply(long_text))
    smpp_reply = await sent_reply(services, first.conversation_id, smpp_channel.id, by_smpp.external_id)

    # when Twilio reports delivery (twice) and the SMSC reports each part delivered
    delivered = TwilioLike().status_callback(twilio.WEBHOOK_URL, by_twilio.external_id, "delivered")
    await take_in(services, await connector.webhook(twilio_channel, delivered.request()))
    await take_in(services, await connector.webhook(twilio_channel, delivered.request()))
    for submit in smsc.accepted:
        await smsc.receipt(submit.message_id or "", "DELIVRD")

    # then both replies show delivered
    stored = {m.id: m for m in await messages(services, first.conversation_id)}
    assert (stored[twilio_reply].delivery_status, stored[twilio_reply].error) == (DeliveryStatus.DELIVERED, None)
    assert len(smsc.accepted) == 3
    assert stored[smpp_reply].delivery_status is DeliveryStatus.DELIVERED
    await connector.close()
