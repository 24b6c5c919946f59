"""WhatsApp through the real intake on both databases: one contact across channels, replays, statuses."""

from __future__ import annotations

from switchboard.adapters.connectors.meta import WhatsAppConnector
from switchboard.application.access import Principal
from switchboard.application.channels import create_channel
from switchboard.application.delivery import record_delivery
from switchboard.application.intake import InboundMessage, Sender, receive_message
from switchboard.application.ports.connectors import ChannelConfig, OutboundMessage
from switchboard.application.ports.storage import NewMessage
from switchboard.bootstrap import Container
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import AuthorKind, DeliveryStatus, Direction
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.operators import Role
from tests.adapters.connectors.meta.conftest import SECRETS, signed
from tests.support.desk import Desk
from tests.support.providers.meta import PHONE_NUMBER_ID, MetaGraph, load_fixture

ADMIN = Principal(Role.ADMIN, None)
CONNECTOR = Principal(Role.INTEGRATION)


async def whatsapp_channel(container: Container, desk: Desk, graph: MetaGraph) -> ChannelConfig:
    settings = {"phone_number_id": PHONE_NUMBER_ID, "api_base": graph.api_base}
    channel = await create_channel(
        container.services, ADMIN, ChannelKind.WHATSAPP, "WhatsApp", desk.line_id, settings, dict(SECRETS)
    )
    return ChannelConfig(channel, dict(SECRETS))


async def test_a_replayed_webhook_is_taken_in_once(
    container: Container, desk: Desk, graph: MetaGraph, whatsapp: WhatsAppConnector
) -> None:
    config = await whatsapp_channel(container, desk, graph)
    request = signed(load_fixture("whatsapp_text.json"))

    first = [
        await receive_message(container.services, CONNECTOR, m)
        for m in (await whatsapp.webhook(config, request)).messages
    ]
    again = [
        await receive_message(container.services, CONNECTOR, m)
        for m in (await whatsapp.webhook(config, request)).messages
    ]

    assert [r.duplicate for r in first + again] == [False, True]
    assert again[0].message_id == first[0].message_id
    async with container.services.uow() as uow:
        stored = await uow.messages.list(first[0].conversation_id, 10, None)
    assert [(m.body, m.external_id) for m in stored] == [
        ("Здравствуйте! Есть доставка в Казань?", "wamid.HBgLNzkxNjEyMzQ1NjcVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=")
    ]


async def test_a_customer_who_writes_in_whatsapp_and_elsewhere_from_one_number_is_one_contact(
    container: Container, desk: Desk, graph: MetaGraph, whatsapp: WhatsAppConnector
) -> None:
    config = await whatsapp_channel(container, desk, graph)
    elsewhere = InboundMessage(
        desk.channel_id, Sender(phone="8 (916) 123-45-67"), "Звонил вам, не дозвонился", "form-77"
    )

    by_form = await receive_message(container.services, CONNECTOR, elsewhere)
    (message,) = (await whatsapp.webhook(config, signed(load_fixture("whatsapp_text.json")))).messages
    by_whatsapp = await receive_message(container.services, CONNECTOR, message)

    assert by_whatsapp.contact_id == by_form.contact_id
    assert (by_whatsapp.contact_created, by_whatsapp.conversation_opened) == (False, True)
    async with container.services.uow() as uow:
        owners = await uow.contacts.owners([Identity(IdentityKind.PHONE, "+79161234567")])
    assert set(owners.values()) == {by_form.contact_id}


async def test_statuses_from_whatsapp_move_the_sent_reply_forward(
    container: Container, desk: Desk, graph: MetaGraph, whatsapp: WhatsAppConnector
) -> None:
    config = await whatsapp_channel(container, desk, graph)
    (message,) = (await whatsapp.webhook(config, signed(load_fixture("whatsapp_text.json")))).messages
    taken = await receive_message(container.services, CONNECTOR, message)
    reply = OutboundMessage(
        0,
        taken.conversation_id,
        taken.contact_id,
        "Есть, 2 дня",
        identities=(Identity(IdentityKind.PHONE, "+79161234567"),),
    )
    receipt = await whatsapp.send(config, reply)
    async with container.services.uow() as uow:  # what the delivery queue records once the provider took the reply
        sent = await uow.messages.add(
            NewMessage(
                taken.conversation_id,
                config.id,
                Direction.OUT,
                AuthorKind.OPERATOR,
                reply.body,
                DeliveryStatus.SENT,
                container.services.clock.now(),
                desk.operator_id,
                receipt.external_id,
            )
        )
        await uow.commit()
    statuses = load_fixture("whatsapp_statuses.json")
    for status in statuses["entry"][0]["changes"][0]["value"]["statuses"]:
        status["id"] = receipt.external_id

    updates = (await whatsapp.webhook(config, signed(statuses))).statuses
    applied = [await record_delivery(container.services, update) for update in updates]

    assert applied == [sent.id, sent.id, sent.id]
    async with container.services.uow() as uow:
        stored = await uow.messages.list(taken.conversation_id, 10, None)
    assert sorted((m.id, m.direction, m.delivery_status) for m in stored) == [
        (taken.message_id, Direction.IN, DeliveryStatus.RECEIVED),
        (sent.id, Direction.OUT, DeliveryStatus.READ),
    ]
