"""Facebook Messenger: page events in, Send API out, the 24-hour standard messaging window and message tags."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from switchboard.adapters.connectors.meta import MessengerConnector
from switchboard.adapters.files import LocalFileStore
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.errors import InvalidInput
from switchboard.application.intake import InboundMessage, Sender
from switchboard.application.ports.connectors import ChannelConfig, OutboundFile, OutboundMessage, Receipt, SendFailed
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import Attachment, DeliveryStatus
from switchboard.domain.identity import Identity, IdentityKind
from tests.adapters.connectors.meta.conftest import channel_config, signed
from tests.support.clock import ManualClock
from tests.support.providers.meta import CUSTOMER_PSID, MetaGraph, Uploaded, load_fixture

CUSTOMER = Sender(external_kind=IdentityKind.FACEBOOK, external_id=CUSTOMER_PSID)
JPEG = b"\xff\xd8\xff\xe0 a photo of the receipt"


def reply(body: str = "Заказ 1042 у курьера, будет сегодня.", **fields: object) -> OutboundMessage:
    values: dict[str, object] = {"identities": (Identity(IdentityKind.FACEBOOK, CUSTOMER_PSID),)}
    values.update(fields)
    return OutboundMessage(502, 32, 12, body, **values)  # type: ignore[arg-type]


async def test_a_text_message_comes_in_from_the_page_scoped_id(
    messenger: MessengerConnector, fb_config: ChannelConfig
) -> None:
    result = await messenger.webhook(fb_config, signed(load_fixture("messenger_text.json")))

    mid = "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"
    assert result.messages == (InboundMessage(fb_config.id, CUSTOMER, "Добрый день! Заказ 1042 ещё в пути?", mid),)
    assert (result.statuses, result.ignored) == ((), ())


async def test_an_attachment_is_downloaded_from_its_cdn_url_without_the_token_into_the_file_store(
    messenger: MessengerConnector, fb_config: ChannelConfig, graph: MetaGraph, files: LocalFileStore
) -> None:
    graph.add_cdn("v/t1.15752-9/receipt.jpg", JPEG, "image/jpeg")

    result = await messenger.webhook(fb_config, signed(load_fixture("messenger_image.json", cdn=graph.cdn_base)))

    attachment = Attachment("receipt.jpg", "image/jpeg", len(JPEG), files.put(JPEG, "image/jpeg", "x").url)
    assert result.messages == (
        InboundMessage(fb_config.id, CUSTOMER, "", "m_1457764197618:41d102a3e1ae206a38", (attachment,)),
    )
    (download,) = graph.requests
    assert (download.path, "authorization" in download.headers) == ("/cdn/v/t1.15752-9/receipt.jpg", False)


async def test_an_attachment_gone_from_the_cdn_is_noted_in_the_message(
    messenger: MessengerConnector, fb_config: ChannelConfig, graph: MetaGraph
) -> None:
    result = await messenger.webhook(fb_config, signed(load_fixture("messenger_image.json", cdn=graph.cdn_base)))

    assert [(m.body, m.attachments) for m in result.messages] == [
        ("[image not kept: Messenger: Not Found (HTTP 404)]", ())
    ]


async def test_a_delivery_names_its_messages_and_becomes_delivered_statuses(
    messenger: MessengerConnector, fb_config: ChannelConfig
) -> None:
    result = await messenger.webhook(fb_config, signed(load_fixture("messenger_delivery.json")))

    assert result.statuses == (DeliveryUpdate(fb_config.id, "m_out-1", DeliveryStatus.DELIVERED),)


@pytest.mark.parametrize(
    ("fixture", "ignored"),
    [
        ("messenger_read.json", "read watermark without a message id"),
        ("messenger_echo.json", "message echo"),
        ("messenger_postback.json", "event postback"),
    ],
)
async def test_read_watermarks_echoes_and_other_events_are_acknowledged_and_listed(
    messenger: MessengerConnector, fb_config: ChannelConfig, fixture: str, ignored: str
) -> None:
    result = await messenger.webhook(fb_config, signed(load_fixture(fixture)))

    assert (result.messages, result.statuses, result.ignored, result.reply_status) == ((), (), (ignored,), 200)


async def test_events_of_another_page_are_not_taken(messenger: MessengerConnector, fb_config: ChannelConfig) -> None:
    payload = load_fixture("messenger_text.json")
    payload["entry"][0]["id"] = "555"

    result = await messenger.webhook(fb_config, signed(payload))

    assert (result.messages, result.ignored) == ((), ("entry of '555', not this channel's page_id",))


# --- sending ------------------------------------------------------------------------------------


async def test_a_reply_within_the_window_is_a_response_to_the_psid(
    messenger: MessengerConnector, fb_config: ChannelConfig, graph: MetaGraph, clock: ManualClock
) -> None:
    receipt = await messenger.send(fb_config, reply(last_inbound_at=clock.now() - timedelta(hours=2)))

    (sent,) = graph.sent()
    assert sent.path == "/me/messages"
    assert sent.json == {
        "recipient": {"id": CUSTOMER_PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Заказ 1042 у курьера, будет сегодня."},
    }
    assert receipt == Receipt("m_out-1")


async def test_a_later_reply_goes_with_the_channels_message_tag(
    messenger: MessengerConnector, graph: MetaGraph, clock: ManualClock
) -> None:
    config = channel_config(ChannelKind.FACEBOOK, graph, message_tag="HUMAN_AGENT")

    await messenger.send(config, reply(last_inbound_at=clock.now() - timedelta(days=2)))

    (sent,) = graph.sent()
    assert (sent.json["messaging_type"], sent.json["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


async def test_a_stored_file_is_uploaded_as_filedata_after_the_text(
    messenger: MessengerConnector, fb_config: ChannelConfig, graph: MetaGraph, files: LocalFileStore
) -> None:
    stored = files.put(JPEG, "image/jpeg", "receipt.jpg")
    photo = OutboundFile(Attachment("receipt.jpg", "image/jpeg", len(JPEG), stored.url), stored.sha256)

    receipt = await messenger.send(fb_config, reply("Чек во вложении", attachments=(photo,)))

    text, upload = graph.sent()
    assert text.json["message"] == {"text": "Чек во вложении"}
    assert upload.form == {
        "recipient": json.dumps({"id": CUSTOMER_PSID}),
        "messaging_type": "RESPONSE",
        "message": json.dumps({"attachment": {"type": "image", "payload": {"is_reusable": False}}}),
    }
    assert upload.files == {"filedata": Uploaded("receipt.jpg", "image/jpeg", JPEG)}
    assert receipt == Receipt("m_out-1")


async def test_a_long_text_goes_in_parts_of_2000_characters(
    messenger: MessengerConnector, fb_config: ChannelConfig, graph: MetaGraph
) -> None:
    await messenger.send(fb_config, reply("абвгд " * 500))

    assert [len(r.json["message"]["text"]) for r in graph.sent()] == [1997, 1001]


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [(400, 613, True), (400, 4, True), (500, 2, True), (400, 10, False), (400, 551, False)],
)
async def test_graph_errors_are_retried_or_fail_the_message(
    messenger: MessengerConnector, fb_config: ChannelConfig, graph: MetaGraph, status: int, code: int, retryable: bool
) -> None:
    graph.fail_next("/me/messages", status, code=code, message="(#10) This message is sent outside of allowed window.")

    with pytest.raises(SendFailed) as failed:
        await messenger.send(fb_config, reply())

    assert failed.value.retryable is retryable


# --- the window before a reply is stored --------------------------------------------------------


def test_within_24_hours_any_reply_is_accepted(
    messenger: MessengerConnector, fb_config: ChannelConfig, clock: ManualClock
) -> None:
    now = clock.now()

    messenger.check_reply(fb_config, reply(last_inbound_at=now - timedelta(hours=24)), now)


@pytest.mark.parametrize("last", [timedelta(hours=25), None], ids=["25h", "none"])
def test_later_without_a_message_tag_the_reply_is_refused(
    messenger: MessengerConnector, fb_config: ChannelConfig, clock: ManualClock, last: timedelta | None
) -> None:
    now = clock.now()

    with pytest.raises(InvalidInput) as refused:
        messenger.check_reply(fb_config, reply(last_inbound_at=None if last is None else now - last), now)

    assert (refused.value.detail, refused.value.field) == (
        "outside Messenger's 24-hour standard messaging window: only a message tag (settings.message_tag, "
        "such as HUMAN_AGENT) allows a later reply",
        "message_tag",
    )


def test_the_human_agent_tag_allows_seven_days_and_no_more(
    messenger: MessengerConnector, graph: MetaGraph, clock: ManualClock
) -> None:
    config = channel_config(ChannelKind.FACEBOOK, graph, message_tag="HUMAN_AGENT")
    now = clock.now()

    messenger.check_reply(config, reply(last_inbound_at=now - timedelta(days=7)), now)
    with pytest.raises(InvalidInput) as late:
        messenger.check_reply(config, reply(last_inbound_at=now - timedelta(days=7, minutes=1)), now)
    with pytest.raises(InvalidInput) as never:
        messenger.check_reply(config, reply(last_inbound_at=None), now)

    assert late.value.field == never.value.field == "message_tag"
    other = channel_config(ChannelKind.FACEBOOK, graph, message_tag="POST_PURCHASE_UPDATE")
    messenger.check_reply(other, reply(last_inbound_at=None), now)
