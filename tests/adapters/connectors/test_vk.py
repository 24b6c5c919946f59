"""The VK connector against a local VK API: Callback API events in as documented, messages.send out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from switchboard.adapters.connectors.vk import VkConnector, random_id
from switchboard.adapters.files import LocalFileStore
from switchboard.application.errors import InvalidInput
from switchboard.application.intake import InboundMessage, Sender
from switchboard.application.ports.connectors import (
    ChannelConfig,
    OutboundFile,
    OutboundMessage,
    SendFailed,
    WebhookRejected,
    WebhookRequest,
)
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import Attachment
from switchboard.domain.identity import Identity, IdentityKind
from tests.adapters.connectors.conftest import CHANNEL_ID, channel_config, stored_bytes
from tests.support.providers.vk import FakeVk

ANNA = Sender("Анна Смирнова", external_kind=IdentityKind.VK, external_id="2050")


@pytest.fixture
async def vk() -> AsyncIterator[FakeVk]:
    async with FakeVk().running() as server:
        yield server


@pytest.fixture
async def connector(files: LocalFileStore) -> AsyncIterator[VkConnector]:
    connector = VkConnector(files)
    yield connector
    await connector.close()


def config_for(vk: FakeVk, **settings: Any) -> ChannelConfig:
    base = {"api_base": vk.base_url, "confirmation_code": vk.confirmation_code, "group_id": vk.group_id}
    return channel_config(ChannelKind.VK, base | settings, {"access_token": vk.token, "secret": vk.secret})


def reply(
    body: str, *, attachments: tuple[OutboundFile, ...] = (), reply_to: str | None = "2050:331"
) -> OutboundMessage:
    return OutboundMessage(
        message_id=41,
        conversation_id=5,
        contact_id=3,
        body=body,
        attachments=attachments,
        identities=(Identity(IdentityKind.VK, "2050"),),
        reply_to=reply_to,
    )


# --- in ----------------------------------------------------------------------------------------


async def test_the_confirmation_event_is_answered_with_the_code(vk: FakeVk, connector: VkConnector) -> None:
    result = await connector.webhook(config_for(vk), vk.webhook_request(vk.event("confirmation")))
    assert (result.reply_status, result.reply_body, result.reply_content_type) == (200, b"d8v2ve07", "text/plain")
    assert (list(result.messages), list(result.ignored)) == ([], [])


async def test_a_text_message_becomes_an_inbound_message(vk: FakeVk, connector: VkConnector) -> None:
    result = await connector.webhook(config_for(vk), vk.webhook_request(vk.event("message_new")))
    assert list(result.messages) == [
        InboundMessage(CHANNEL_ID, ANNA, "Здравствуйте! Где мой заказ 1042?", "2050:331"),
    ]
    assert result.reply_body == b"ok"
    [lookup] = vk.calls("users.get")
    assert lookup.form == {"user_ids": "2050", "access_token": vk.token, "v": "5.199"}


async def test_the_senders_name_is_looked_up_once(vk: FakeVk, connector: VkConnector) -> None:
    config = config_for(vk)
    await connector.webhook(config, vk.webhook_request(vk.event("message_new")))
    await connector.webhook(config, vk.webhook_request(vk.event("message_new_doc")))
    assert len(vk.calls("users.get")) == 1


async def test_a_failed_name_lookup_costs_only_the_name(vk: FakeVk, connector: VkConnector) -> None:
    vk.api_error_next("users.get", 10, "Internal server error")
    result = await connector.webhook(config_for(vk), vk.webhook_request(vk.event("message_new")))
    assert result.messages[0].sender == Sender(None, external_kind=IdentityKind.VK, external_id="2050")


async def test_a_replayed_event_gives_the_same_external_id(vk: FakeVk, connector: VkConnector) -> None:
    config = config_for(vk)
    first = await connector.webhook(config, vk.webhook_request(vk.event("message_new")))
    again = await connector.webhook(config, vk.webhook_request(vk.event("message_new")))
    assert list(first.messages) == list(again.messages)


async def test_a_group_chat_message_is_keyed_by_its_conversation_message_id(vk: FakeVk, connector: VkConnector) -> None:
    result = await connector.webhook(config_for(vk), vk.webhook_request(vk.event("message_new_chat")))
    assert [m.external_id for m in result.messages] == ["2000000001:c77"]


@pytest.mark.parametrize("secret", [None, "", "callback-secret-kez", 42])
async def test_an_event_without_the_secret_key_is_rejected(vk: FakeVk, connector: VkConnector, secret: object) -> None:
    event = vk.event("message_new_photo", secret=secret)
    vk.add_file("impg/box-w.jpg", b"jpeg")
    with pytest.raises(WebhookRejected) as rejected:
        await connector.webhook(config_for(vk), vk.webhook_request(event))
    assert rejected.value.status == 401
    assert vk.requests == []  # nothing fetched, nobody looked up


async def test_an_event_for_another_community_is_rejected(vk: FakeVk, connector: VkConnector) -> None:
    event = vk.event("message_new", group_id=1)
    with pytest.raises(WebhookRejected) as rejected:
        await connector.webhook(config_for(vk), vk.webhook_request(event))
    assert rejected.value.status == 403


@pytest.mark.parametrize("body", [b"{", b'"message_new"', b'{"object": {}}'])
async def test_a_malformed_body_is_rejected_400(vk: FakeVk, connector: VkConnector, body: bytes) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        await connector.webhook(config_for(vk), WebhookRequest("POST", {}, {}, body))
    assert rejected.value.status == 400


async def test_other_event_types_are_acknowledged_and_ignored(
    vk: FakeVk, connector: VkConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "switchboard.connectors.vk")
    result = await connector.webhook(config_for(vk), vk.webhook_request(vk.event("group_join")))
    assert (list(result.messages), list(result.ignored), result.reply_body) == ([], ["group_join"], b"ok")
    assert "ignored: group_join" in caplog.text


async def test_a_photo_is_fetched_in_its_largest_size(
    vk: FakeVk, connector: VkConnector, files: LocalFileStore
) -> None:
    picture = b"\xff\xd8 the 960x1280 jpeg"
    vk.add_file("impg/box-w.jpg", picture)
    result = await connector.webhook(config_for(vk), vk.webhook_request(vk.event("message_new_photo")))
    [message] = result.messages
    assert message.body == "Вот так пришла коробка"
    [photo] = message.attachments
    assert (photo.name, photo.content_type, photo.size) == ("photo2050_457239018.jpg", "image/jpeg", len(picture))
    assert stored_bytes(files, photo.url) == picture


async def test_a_document_and_a_voice_message_are_fetched(
    vk: FakeVk, connector: VkConnector, files: LocalFileStore
) -> None:
    vk.add_file("doc/contract.pdf", b"%PDF-1.7 contract")
    vk.add_file("audio/msg.ogg", b"OggS voice")
    config = config_for(vk)
    document = (await connector.webhook(config, vk.webhook_request(vk.event("message_new_doc")))).messages[0]
    voice = (await connector.webhook(config, vk.webhook_request(vk.event("message_new_voice")))).messages[0]
    assert [(a.name, a.content_type, a.size) for a in document.attachments] == [("contract.pdf", "application/pdf", 17)]
    assert [(a.name, a.content_type, a.size) for a in voice.attachments] == [("voice-456239017.ogg", "audio/ogg", 10)]
    assert stored_bytes(files, voice.attachments[0].url) == b"OggS voice"
    assert (document.body, voice.body) == ("", "")


async def test_a_document_over_the_limit_is_refused_and_the_message_kept(vk: FakeVk, connector: VkConnector) -> None:
    result = await connector.webhook(
        config_for(vk, max_file_bytes=40_000), vk.webhook_request(vk.event("message_new_doc"))
    )
    [message] = result.messages
    assert message.attachments == ()
    assert message.body == "[attachment 'contract.pdf' refused: 48213 bytes exceeds the channel's limit of 40000 bytes]"
    assert vk.calls("doc/contract.pdf") == []


async def test_a_file_gone_from_vk_is_refused(vk: FakeVk, connector: VkConnector) -> None:
    result = await connector.webhook(config_for(vk), vk.webhook_request(vk.event("message_new_voice")))
    assert result.messages[0].body == "[attachment 'voice-456239017.ogg' refused: VK answered HTTP 404]"


async def test_vks_file_server_failing_asks_for_the_event_again(vk: FakeVk, connector: VkConnector) -> None:
    vk.fail_next(503, "busy", path="audio/msg.ogg")
    with pytest.raises(WebhookRejected) as rejected:
        await connector.webhook(config_for(vk), vk.webhook_request(vk.event("message_new_voice")))
    assert rejected.value.status == 503


async def test_a_sticker_is_named_in_the_text(vk: FakeVk, connector: VkConnector) -> None:
    result = await connector.webhook(config_for(vk), vk.webhook_request(vk.event("message_new_sticker")))
    assert [(m.body, m.attachments) for m in result.messages] == [("[sticker]", ())]


# --- out ---------------------------------------------------------------------------------------


async def test_a_reply_is_sent_with_messages_send(vk: FakeVk, connector: VkConnector) -> None:
    receipt = await connector.send(config_for(vk), reply("Заказ 1042 передан курьеру."))
    [call] = vk.calls("messages.send")
    assert call.form == {
        "peer_id": "2050",
        "random_id": str(41 * 32),
        "message": "Заказ 1042 передан курьеру.",
        "access_token": vk.token,
        "v": "5.199",
    }
    assert receipt.external_id == "2050:501"


async def test_a_retried_reply_is_not_delivered_twice(vk: FakeVk, connector: VkConnector) -> None:
    # given VK delivers the message but its answer is lost (a 502 after the work)
    vk.fail_next(502, "Bad Gateway", path="/method/messages.send", after=True)
    config, message = config_for(vk), reply("Один раз")
    with pytest.raises(SendFailed) as failed:
        await connector.send(config, message)
    assert failed.value.retryable is True
    # when the delivery queue tries again
    receipt = await connector.send(config, message)
    # then the same random_id makes VK keep the one message
    assert [(d.id, d.message) for d in vk.delivered] == [(501, "Один раз")]
    assert receipt.external_id == "2050:501"


def test_random_ids_are_stable_distinct_and_within_int32() -> None:
    ids = {random_id(message, part) for message in range(1, 2000) for part in range(16)}
    assert len(ids) == 1999 * 16
    assert random_id(41, 0) == random_id(41, 0) == 1312
    assert all(0 <= value < 2**31 for value in ids)
    assert 0 <= random_id(10**12, 3) < 2**31


async def test_a_long_reply_goes_as_several_messages(vk: FakeVk, connector: VkConnector) -> None:
    body = "слово " * 1500  # 9000 characters
    receipt = await connector.send(config_for(vk), reply(body))
    parts = [d.message for d in vk.delivered]
    assert len(parts) == 3 and all(len(part) <= 4096 for part in parts)
    assert " ".join(parts).split() == body.split()
    assert [d.random_id for d in vk.delivered] == [1312, 1313, 1314]
    assert receipt.external_id == "2050:501"


@pytest.mark.parametrize(("code", "retry_after"), [(6, 1.0), (9, None), (10, None)])
async def test_vks_transient_errors_are_retried(
    vk: FakeVk, connector: VkConnector, code: int, retry_after: float | None
) -> None:
    vk.api_error_next("messages.send", code, "Too many requests per second")
    with pytest.raises(SendFailed) as failed:
        await connector.send(config_for(vk), reply("hi"))
    assert (failed.value.retryable, failed.value.retry_after) == (True, retry_after)
    assert failed.value.reason == f"VK: messages.send: error {code}: Too many requests per second"


@pytest.mark.parametrize(
    ("code", "message"),
    [(901, "Can't send messages for users without permission"), (7, "Permission to perform this action is denied")],
)
async def test_vks_other_errors_fail_the_message(vk: FakeVk, connector: VkConnector, code: int, message: str) -> None:
    vk.api_error_next("messages.send", code, message)
    with pytest.raises(SendFailed) as failed:
        await connector.send(config_for(vk), reply("hi"))
    assert (failed.value.retryable, failed.value.reason) == (False, f"VK: messages.send: error {code}: {message}")


async def test_an_http_5xx_is_retried_and_a_4xx_is_not(vk: FakeVk, connector: VkConnector) -> None:
    vk.fail_next(500, "oops", path="/method/messages.send")
    vk.fail_next(404, "no", path="/method/messages.send")
    with pytest.raises(SendFailed) as server_error:
        await connector.send(config_for(vk), reply("hi"))
    with pytest.raises(SendFailed) as client_error:
        await connector.send(config_for(vk), reply("hi"))
    assert (server_error.value.retryable, client_error.value.retryable) == (True, False)


async def test_a_wrong_token_fails_with_vks_reason(vk: FakeVk, connector: VkConnector) -> None:
    config = channel_config(
        ChannelKind.VK, {"api_base": vk.base_url, "confirmation_code": "x"}, {"access_token": "bad", "secret": "s"}
    )
    with pytest.raises(SendFailed) as failed:
        await connector.send(config, reply("hi"))
    assert failed.value.reason == "VK: messages.send: error 5: User authorization failed: invalid access_token (4)."
    assert failed.value.retryable is False


async def test_attachments_are_uploaded_and_attached_to_the_message(
    vk: FakeVk, connector: VkConnector, files: LocalFileStore
) -> None:
    photo_bytes, pdf_bytes = b"\xff\xd8\xff jpeg \r\n--x", b"%PDF-1.4 \x00\xff invoice"
    photo = files.put(photo_bytes, "image/jpeg", "box.jpg")
    pdf = files.put(pdf_bytes, "application/pdf", "invoice.pdf")
    attachments = (
        OutboundFile(Attachment("box.jpg", "image/jpeg", len(photo_bytes), photo.url), photo.sha256),
        OutboundFile(Attachment("invoice.pdf", "application/pdf", len(pdf_bytes), pdf.url), pdf.sha256),
    )
    await connector.send(config_for(vk), reply("Документы", attachments=attachments))
    [message] = vk.delivered
    assert message.message == "Документы"
    assert message.attachment == f"photo-{vk.group_id}_501_k501,doc-{vk.group_id}_502"
    assert [(u.filename, u.content_type, u.data) for u in message.uploads] == [
        ("box.jpg", "image/jpeg", photo_bytes),
        ("invoice.pdf", "application/pdf", pdf_bytes),
    ]
    assert [c.form.get("peer_id") for c in vk.calls("photos.getMessagesUploadServer")] == ["2050"]
    assert vk.calls("docs.getMessagesUploadServer")[0].form["type"] == "doc"


async def test_a_file_outside_the_store_is_sent_as_a_link(vk: FakeVk, connector: VkConnector) -> None:
    link = OutboundFile(Attachment("catalog.pdf", "application/pdf", 10, "https://shop.example/catalog.pdf"))
    await connector.send(config_for(vk), reply("Каталог:", attachments=(link,)))
    assert [(d.message, d.attachment) for d in vk.delivered] == [("Каталог:\nhttps://shop.example/catalog.pdf", "")]


async def test_connect_checks_the_token_belongs_to_the_community(vk: FakeVk, connector: VkConnector) -> None:
    said = await connector.connect(config_for(vk), "https://desk.example/api/v1/channels/7/webhook")
    assert "Магазин (197700001)" in said and "https://desk.example/api/v1/channels/7/webhook" in said
    with pytest.raises(SendFailed) as failed:
        await connector.connect(config_for(vk, group_id=5), "https://desk.example/hook")
    assert failed.value.reason == "VK: the access token belongs to community 197700001, the channel says 5"


# --- checks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "secrets", "field"),
    [
        ({}, {"access_token": "t", "secret": "s"}, "settings.confirmation_code"),
        ({"confirmation_code": "c", "group_id": "12"}, {"access_token": "t", "secret": "s"}, "settings.group_id"),
        ({"confirmation_code": "c", "api_version": "5"}, {"access_token": "t", "secret": "s"}, "settings.api_version"),
        ({"confirmation_code": "c"}, {"secret": "s"}, "secrets.access_token"),
        ({"confirmation_code": "c"}, {"access_token": "t"}, "secrets.secret"),
    ],
)
def test_check_settings_names_the_bad_field(
    connector: VkConnector, settings: dict[str, Any], secrets: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidInput) as invalid:
        connector.check_settings(settings, secrets)
    assert invalid.value.field == field


def test_check_settings_and_check_reply_accept_a_working_channel(connector: VkConnector) -> None:
    settings = {"confirmation_code": "d8v2ve07", "group_id": 197700001, "api_version": "5.199"}
    connector.check_settings(settings, {"access_token": "t", "secret": "s"})
    config = channel_config(ChannelKind.VK, settings, {})
    connector.check_reply(config, reply("hi"), datetime(2026, 1, 1))
    with pytest.raises(InvalidInput):
        connector.check_reply(config, reply(" "), datetime(2026, 1, 1))


async def test_an_attachment_whose_address_is_not_a_web_address_is_refused(vk: FakeVk, connector: VkConnector) -> None:
    event = vk.event("message_new_voice")
    event["object"]["message"]["attachments"][0]["audio_message"]["link_ogg"] = "file:///etc/passwd"
    result = await connector.webhook(config_for(vk), vk.webhook_request(event))
    assert result.messages[0].body == "[attachment 'voice-456239017.ogg' refused: its address is not a web address]"
