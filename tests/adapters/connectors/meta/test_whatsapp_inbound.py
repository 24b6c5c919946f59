"""WhatsApp webhooks in: every message type, statuses, media through the file store, what is ignored."""

from __future__ import annotations

import hashlib

import pytest

from switchboard.adapters.connectors.meta import WhatsAppConnector
from switchboard.adapters.files import LocalFileStore
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.intake import InboundMessage, Sender
from switchboard.application.ports.connectors import ChannelConfig, WebhookRejected
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import Attachment, DeliveryStatus
from switchboard.domain.source import Source
from tests.adapters.connectors.meta.conftest import channel_config, signed
from tests.support.providers.meta import MetaGraph, load_fixture

CUSTOMER = Sender(name="Ольга Смирнова", phone="+79161234567")
DIALLED = Source(dialled_number="+15550783881")
JPEG = b"\xff\xd8\xff\xe0 a photo of the broken part"
PDF = b"%PDF-1.7 invoice for October"
MP4 = b"\x00\x00\x00 ftypmp4"


def one_message(channel_id: int, body: str, external_id: str, *attachments: Attachment) -> InboundMessage:
    return InboundMessage(channel_id, CUSTOMER, body, external_id, tuple(attachments), DIALLED)


@pytest.mark.parametrize(
    ("fixture", "body"),
    [
        ("whatsapp_text.json", "Здравствуйте! Есть доставка в Казань?"),
        ("whatsapp_location.json", "Офис продаж\nТверская ул., 1, Москва\n📍 55.757, 37.615"),
        ("whatsapp_contacts.json", "👤 Иван Петров: +7 495 123-45-67, ivan@shop.example"),
        ("whatsapp_interactive_button_reply.json", "Да, доставить"),
        ("whatsapp_interactive_list_reply.json", "Завтра, 10–14\nКурьер позвонит за час"),
        ("whatsapp_button.json", "Подтверждаю"),
    ],
)
async def test_a_message_without_media_becomes_one_inbound_message_from_the_senders_phone(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, fixture: str, body: str
) -> None:
    payload = load_fixture(fixture)
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]

    result = await whatsapp.webhook(wa_config, signed(payload))

    assert result.messages == (one_message(wa_config.id, body, wamid),)
    assert (result.statuses, result.ignored, result.reply_status) == ((), (), 200)


async def test_an_image_is_fetched_by_its_media_id_with_the_token_and_kept_in_the_file_store(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, graph: MetaGraph, files: LocalFileStore
) -> None:
    graph.add_media("1479537139650973", JPEG, "image/jpeg")
    payload = load_fixture("whatsapp_image.json")

    result = await whatsapp.webhook(wa_config, signed(payload))

    digest = hashlib.sha256(JPEG).hexdigest()
    stored = Attachment("image-1479537139650973.jpg", "image/jpeg", len(JPEG), files.put(JPEG, "x", "x").url)
    assert result.messages == (
        one_message(
            wa_config.id,
            "Вот так выглядит поломка",
            payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"],
            stored,
        ),
    )
    assert files.exists(digest)
    assert [(r.method, r.path, r.headers["authorization"]) for r in graph.requests] == [
        ("GET", "/1479537139650973", "Bearer EAAGm0PX4ZCpsBAtest-token"),
        ("GET", "/media-download/1479537139650973", "Bearer EAAGm0PX4ZCpsBAtest-token"),
    ]


@pytest.mark.parametrize(
    ("fixture", "media_id", "data", "mime", "name", "body"),
    [
        (
            "whatsapp_document.json",
            "2145234412486621",
            PDF,
            "application/pdf",
            "invoice-2026-10.pdf",
            "Счёт за октябрь",
        ),
        ("whatsapp_audio.json", "1215326549930487", b"OggS voice", "audio/ogg", "audio-1215326549930487.ogg", ""),
        (
            "whatsapp_video.json",
            "1166234971765043",
            b"\x00\x00\x00 ftypmp4",
            "video/mp4",
            "video-1166234971765043.mp4",
            "Видео с распаковки",
        ),
    ],
)
async def test_documents_voice_and_video_keep_their_name_type_and_caption(
    whatsapp: WhatsAppConnector,
    wa_config: ChannelConfig,
    graph: MetaGraph,
    files: LocalFileStore,
    fixture: str,
    media_id: str,
    data: bytes,
    mime: str,
    name: str,
    body: str,
) -> None:
    graph.add_media(media_id, data, mime)

    result = await whatsapp.webhook(wa_config, signed(load_fixture(fixture)))

    (message,) = result.messages
    assert message.body == body
    assert message.attachments == (Attachment(name, mime, len(data), files.put(data, mime, name).url),)


async def test_a_file_over_the_channels_limit_is_not_downloaded_and_the_message_says_so(
    whatsapp: WhatsAppConnector, graph: MetaGraph
) -> None:
    config = channel_config(ChannelKind.WHATSAPP, graph, max_file_bytes=10)
    graph.add_media("1479537139650973", JPEG, "image/jpeg")

    result = await whatsapp.webhook(config, signed(load_fixture("whatsapp_image.json")))

    (message,) = result.messages
    assert message.attachments == ()
    assert message.body == (
        f"Вот так выглядит поломка\n[image not kept: file of {len(JPEG)} bytes exceeds the limit of 10 bytes]"
    )
    assert [r.path for r in graph.requests] == ["/1479537139650973"]


async def test_media_that_meta_no_longer_has_is_noted_and_the_message_still_comes_in(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, graph: MetaGraph
) -> None:
    graph.fail_next("/1479537139650973", 400, code=100, message="Unsupported get request")

    result = await whatsapp.webhook(wa_config, signed(load_fixture("whatsapp_image.json")))

    (message,) = result.messages
    assert message.body == (
        "Вот так выглядит поломка\n[image not kept: WhatsApp: Unsupported get request (code 100, HTTP 400)]"
    )


async def test_a_media_server_outage_refuses_the_webhook_so_meta_delivers_it_again(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, graph: MetaGraph
) -> None:
    graph.add_media("1479537139650973", JPEG, "image/jpeg")
    graph.fail_next("/media-download/1479537139650973", 503, code=2, message="Service temporarily unavailable")

    with pytest.raises(WebhookRejected) as refused:
        await whatsapp.webhook(wa_config, signed(load_fixture("whatsapp_image.json")))

    assert refused.value.status == 503
    again = await whatsapp.webhook(wa_config, signed(load_fixture("whatsapp_image.json")))
    assert [len(m.attachments) for m in again.messages] == [1]


async def test_sent_delivered_and_read_statuses_become_delivery_updates(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig
) -> None:
    result = await whatsapp.webhook(wa_config, signed(load_fixture("whatsapp_statuses.json")))

    wamid = "wamid.HBgLNzkxNjEyMzQ1NjcVAgARGBJCNkY5NTBENEU3ODYxQTM3RUQA"
    assert result.statuses == (
        DeliveryUpdate(wa_config.id, wamid, DeliveryStatus.SENT),
        DeliveryUpdate(wa_config.id, wamid, DeliveryStatus.DELIVERED),
        DeliveryUpdate(wa_config.id, wamid, DeliveryStatus.READ),
    )
    assert (result.messages, result.ignored) == ((), ())


async def test_a_failed_status_carries_whatsapps_error_title_and_details(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig
) -> None:
    result = await whatsapp.webhook(wa_config, signed(load_fixture("whatsapp_status_failed.json")))

    assert result.statuses == (
        DeliveryUpdate(
            wa_config.id,
            "wamid.HBgLNzkxNjEyMzQ1NjcVAgARGBI2QzU0NDQ5QTlEODk2NTVDNTEA",
            DeliveryStatus.FAILED,
            "Message undeliverable: Message Undeliverable. (code 131026)",
        ),
    )


async def test_reactions_template_updates_and_unknown_fields_are_acknowledged_and_listed(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig
) -> None:
    reaction = await whatsapp.webhook(wa_config, signed(load_fixture("whatsapp_reaction.json")))
    template = await whatsapp.webhook(wa_config, signed(load_fixture("whatsapp_template_status.json")))
    payload = load_fixture("whatsapp_text.json")
    payload["entry"][0]["changes"][0]["value"]["errors"] = [{"code": 131051, "title": "Unsupported message type"}]
    extra = await whatsapp.webhook(wa_config, signed(payload))

    assert (reaction.messages, reaction.ignored, reaction.reply_status) == ((), ("message type reaction",), 200)
    assert (template.messages, template.ignored) == ((), ("field 'message_template_status_update'",))
    assert (len(extra.messages), extra.ignored) == (1, ("value.errors",))


async def test_messages_for_another_phone_number_of_the_app_are_not_taken_by_this_channel(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig
) -> None:
    payload = load_fixture("whatsapp_text.json")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999000111"

    result = await whatsapp.webhook(wa_config, signed(payload))

    assert (result.messages, result.ignored) == ((), ("messages of phone number id '999000111', not this channel's",))
