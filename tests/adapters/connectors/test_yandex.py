"""The Yandex Messenger connector against a local bot API: documented updates by webhook and polling, replies out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from switchboard.adapters.connectors.http import hmac_sha256_hex
from switchboard.adapters.connectors.yandex import YandexConnector
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
from tests.support.providers import fixture
from tests.support.providers.yandex import TOKEN, FakeYandex

SECRET = "webhook-secret-for-tests-0123456789"
IVAN = Sender("Ivan Ivanov", external_kind=IdentityKind.YANDEX, external_id="ivan_ivanov")
HOOK = "https://desk.example/api/v1/channels/7/webhook"


@pytest.fixture
async def yandex() -> AsyncIterator[FakeYandex]:
    async with FakeYandex().running() as server:
        yield server


@pytest.fixture
async def connector(files: LocalFileStore) -> AsyncIterator[YandexConnector]:
    connector = YandexConnector(files)
    yield connector
    await connector.close()


def config_for(yandex: FakeYandex, **settings: Any) -> ChannelConfig:
    secrets = {"oauth_token": yandex.token, "webhook_secret": SECRET}
    return channel_config(ChannelKind.YANDEX, {"api_base": yandex.base_url, **settings}, secrets)


def request(yandex: FakeYandex, name: str) -> WebhookRequest:
    return yandex.webhook_request(fixture("yandex", name), secret=SECRET)


def reply(
    body: str, *, attachments: tuple[OutboundFile, ...] = (), reply_to: str | None = "user/ivan_ivanov:1702323240544005"
) -> OutboundMessage:
    return OutboundMessage(
        message_id=41,
        conversation_id=5,
        contact_id=3,
        body=body,
        attachments=attachments,
        identities=(Identity(IdentityKind.YANDEX, "ivan_ivanov"),),
        reply_to=reply_to,
    )


# --- set-up ------------------------------------------------------------------------------------


async def test_connect_registers_the_webhook_with_a_secret_in_the_query(
    yandex: FakeYandex, connector: YandexConnector
) -> None:
    config = channel_config(ChannelKind.YANDEX, {"api_base": yandex.base_url}, {"oauth_token": yandex.token})
    said = await connector.connect(config, HOOK)
    derived = hmac_sha256_hex(TOKEN, f"switchboard:yandex-webhook:{CHANNEL_ID}".encode())
    [call] = yandex.calls("self/update")
    assert call.json == {"webhook_url": f"{HOOK}?secret={derived}"}
    assert call.headers["authorization"] == f"OAuth {TOKEN}"
    assert HOOK in said and derived not in said
    # and a webhook to the registered URL is accepted
    result = await connector.webhook(config, yandex.webhook_request(fixture("yandex", "private_text")))
    assert [m.body for m in result.messages] == ["Oh hi Mark"]


async def test_connect_for_polling_clears_the_webhook(yandex: FakeYandex, connector: YandexConnector) -> None:
    said = await connector.connect(config_for(yandex, mode="polling"), HOOK)
    assert [call.json for call in yandex.calls("self/update")] == [{"webhook_url": None}]
    assert "polls" in said


# --- in ----------------------------------------------------------------------------------------


async def test_a_private_message_becomes_an_inbound_message(yandex: FakeYandex, connector: YandexConnector) -> None:
    result = await connector.webhook(config_for(yandex), request(yandex, "private_text"))
    assert list(result.messages) == [
        InboundMessage(CHANNEL_ID, IVAN, "Oh hi Mark", "user/ivan_ivanov:1702323240544005"),
    ]
    assert (result.reply_status, list(result.ignored)) == (200, [])


async def test_a_group_message_is_keyed_by_the_group_chat(yandex: FakeYandex, connector: YandexConnector) -> None:
    result = await connector.webhook(config_for(yandex), request(yandex, "group_text"))
    assert [(m.body, m.external_id) for m in result.messages] == [("Howdy", "0/0/<chat_guid>:1702325004369005")]


async def test_a_replayed_update_gives_the_same_external_id(yandex: FakeYandex, connector: YandexConnector) -> None:
    config = config_for(yandex)
    first = await connector.webhook(config, request(yandex, "private_text"))
    again = await connector.webhook(config, request(yandex, "private_text"))
    assert list(first.messages) == list(again.messages)


@pytest.mark.parametrize("secret", ["", "webhook-secret-for-tests-012345678X"])
async def test_a_webhook_without_the_secret_is_rejected(
    yandex: FakeYandex, connector: YandexConnector, secret: str
) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        await connector.webhook(config_for(yandex), yandex.webhook_request(fixture("yandex", "file"), secret=secret))
    assert rejected.value.status == 401
    missing = WebhookRequest("POST", {}, {}, request(yandex, "file").body)
    with pytest.raises(WebhookRejected):
        await connector.webhook(config_for(yandex), missing)
    assert yandex.requests == []


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"ok": true}', b'{"updates": {}}'])
async def test_a_malformed_body_is_rejected_400(yandex: FakeYandex, connector: YandexConnector, body: bytes) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        await connector.webhook(config_for(yandex), WebhookRequest("POST", {}, {"secret": SECRET}, body))
    assert rejected.value.status == 400


async def test_in_a_batch_a_malformed_update_is_ignored_and_the_others_taken(
    yandex: FakeYandex, connector: YandexConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "switchboard.connectors.yandex")
    body = fixture("yandex", "private_text")
    body["updates"].insert(0, {"update_id": 1571238, "text": "no chat, no sender"})
    result = await connector.webhook(config_for(yandex), yandex.webhook_request(body, secret=SECRET))
    assert [m.body for m in result.messages] == ["Oh hi Mark"]
    assert list(result.ignored) == ["malformed: update without chat, from or message_id"]
    assert "update 1571238 ignored" in caplog.text


@pytest.mark.parametrize(
    ("name", "ignored"),
    [("channel_text", "channel post")],
)
async def test_channel_posts_are_ignored(
    yandex: FakeYandex, connector: YandexConnector, name: str, ignored: str
) -> None:
    result = await connector.webhook(config_for(yandex), request(yandex, name))
    assert (list(result.messages), list(result.ignored)) == ([], [ignored])


async def test_an_update_without_content_is_ignored(yandex: FakeYandex, connector: YandexConnector) -> None:
    body = fixture("yandex", "private_text")
    del body["updates"][0]["text"]
    body["updates"][0]["bot_request"] = {"server_action": {"name": "clicked"}}
    result = await connector.webhook(config_for(yandex), yandex.webhook_request(body, secret=SECRET))
    assert list(result.ignored) == ["update without content (bot_request)"]


async def test_forwarded_messages_and_stickers_are_written_out(yandex: FakeYandex, connector: YandexConnector) -> None:
    config = config_for(yandex)
    forwarded = await connector.webhook(config, request(yandex, "forwarded"))
    sticker = await connector.webhook(config, request(yandex, "sticker"))
    assert [m.body for m in forwarded.messages] == ["Forwarded from Petr Petrov: Something idk"]
    assert [m.body for m in sticker.messages] == ["[sticker]"]


async def test_an_image_is_fetched_in_its_original_size(
    yandex: FakeYandex, connector: YandexConnector, files: LocalFileStore
) -> None:
    yandex.add_file("disk/<guid>", b"\xff\xd8 original jpeg")
    yandex.add_file("disk/<guid>?size=small", b"small")
    result = await connector.webhook(config_for(yandex), request(yandex, "image"))
    [message] = result.messages
    assert [(a.name, a.content_type) for a in message.attachments] == [("file.jpeg", "image/jpeg")]
    assert stored_bytes(files, message.attachments[0].url) == b"\xff\xd8 original jpeg"
    [download] = yandex.calls("messages/getFile")
    assert (download.query, download.headers["authorization"]) == ({"file_id": "disk/<guid>"}, f"OAuth {TOKEN}")


async def test_a_gallery_gives_one_attachment_per_picture(yandex: FakeYandex, connector: YandexConnector) -> None:
    yandex.add_file("disk/<guid>", b"jpeg")
    result = await connector.webhook(config_for(yandex), request(yandex, "gallery"))
    assert [a.name for a in result.messages[0].attachments] == ["file1.jpeg", "file2.jpeg"]


async def test_a_file_is_fetched_and_one_over_the_limit_refused(
    yandex: FakeYandex, connector: YandexConnector, files: LocalFileStore
) -> None:
    yandex.add_file("disk/<guid>", b"twenty bytes of text")
    taken = await connector.webhook(config_for(yandex), request(yandex, "file"))
    refused = await connector.webhook(config_for(yandex, max_file_bytes=10), request(yandex, "file"))
    assert [(a.name, a.content_type, a.size) for a in taken.messages[0].attachments] == [("data.txt", "text/plain", 20)]
    assert stored_bytes(files, taken.messages[0].attachments[0].url) == b"twenty bytes of text"
    assert refused.messages[0].attachments == ()
    assert refused.messages[0].body == (
        "[attachment 'data.txt' refused: 20 bytes exceeds the channel's limit of 10 bytes]"
    )


async def test_yandex_failing_to_hand_over_a_file_asks_for_the_updates_again(
    yandex: FakeYandex, connector: YandexConnector
) -> None:
    yandex.fail_next(500, {"ok": False, "description": "Internal error"}, path="messages/getFile/")
    with pytest.raises(WebhookRejected) as rejected:
        await connector.webhook(config_for(yandex), request(yandex, "file"))
    assert rejected.value.status == 503


async def test_polling_takes_updates_and_moves_the_offset(yandex: FakeYandex, connector: YandexConnector) -> None:
    config = config_for(yandex, mode="polling")
    yandex.queue(fixture("yandex", "private_text"))
    yandex.queue(fixture("yandex", "channel_text"))
    first = await connector.poll(config, offset=0, limit=10)
    assert [m.external_id for m in first.messages] == ["user/ivan_ivanov:1702323240544005"]
    assert (list(first.ignored), first.next_offset, first.updates) == (["channel post"], 1571270, 2)
    # the next poll from next_offset erases what was taken; nothing new comes
    second = await connector.poll(config, offset=first.next_offset)
    assert (list(second.messages), second.next_offset, second.updates) == ([], 1571270, 0)
    assert [call.query for call in yandex.calls("messages/getUpdates")] == [
        {"offset": "0", "limit": "10"},
        {"offset": "1571270", "limit": "100"},
    ]


async def test_a_failed_poll_is_retryable_and_consumes_nothing(yandex: FakeYandex, connector: YandexConnector) -> None:
    yandex.queue(fixture("yandex", "private_text"))
    yandex.fail_next(503, "unavailable", path="messages/getUpdates/")
    with pytest.raises(SendFailed) as failed:
        await connector.poll(config_for(yandex, mode="polling"))
    assert failed.value.retryable is True
    again = await connector.poll(config_for(yandex, mode="polling"))
    assert [m.body for m in again.messages] == ["Oh hi Mark"]


# --- out ---------------------------------------------------------------------------------------


async def test_a_reply_in_a_private_chat_goes_by_login(yandex: FakeYandex, connector: YandexConnector) -> None:
    receipt = await connector.send(config_for(yandex), reply("Добрый день!"))
    [call] = yandex.calls("messages/sendText")
    assert call.json == {"login": "ivan_ivanov", "text": "Добрый день!", "payload_id": "switchboard-41-0"}
    assert call.headers["authorization"] == f"OAuth {TOKEN}"
    assert receipt.external_id == "user/ivan_ivanov:1702400000001005"


async def test_a_reply_in_a_group_goes_by_chat_id(yandex: FakeYandex, connector: YandexConnector) -> None:
    receipt = await connector.send(config_for(yandex), reply("Hi all", reply_to="0/0/<chat_guid>:1702325004369005"))
    assert [d.to for d in yandex.delivered] == [{"chat_id": "0/0/<chat_guid>"}]
    assert receipt.external_id == "0/0/<chat_guid>:1702400000001005"


async def test_without_an_earlier_message_the_reply_goes_to_the_contacts_login(
    yandex: FakeYandex, connector: YandexConnector
) -> None:
    await connector.send(config_for(yandex), reply("Hi", reply_to=None))
    assert [d.to for d in yandex.delivered] == [{"login": "ivan_ivanov"}]


async def test_a_long_reply_is_split_into_6000_character_messages(
    yandex: FakeYandex, connector: YandexConnector
) -> None:
    body = "\n".join(f"Строка {n}: " + "x" * 90 for n in range(130))  # ~13 000 characters
    await connector.send(config_for(yandex), reply(body))
    texts = [d.text or "" for d in yandex.delivered]
    assert len(texts) == 3 and all(len(text) <= 6000 for text in texts)
    assert "\n".join(texts) == body
    assert [d.payload_id for d in yandex.delivered] == ["switchboard-41-0", "switchboard-41-1", "switchboard-41-2"]


async def test_a_lost_answer_does_not_deliver_twice(yandex: FakeYandex, connector: YandexConnector) -> None:
    yandex.fail_next(504, "Gateway Timeout", path="messages/sendText/", after=True)
    config, message = config_for(yandex), reply("Once")
    with pytest.raises(SendFailed) as failed:
        await connector.send(config, message)
    assert failed.value.retryable is True
    receipt = await connector.send(config, message)
    assert [d.text for d in yandex.delivered] == ["Once"]
    assert receipt.external_id == "user/ivan_ivanov:1702400000001005"


async def test_429_waits_for_retry_after(yandex: FakeYandex, connector: YandexConnector) -> None:
    yandex.fail_next(429, {"ok": False, "description": "Too many requests"}, headers={"Retry-After": "30"})
    with pytest.raises(SendFailed) as failed:
        await connector.send(config_for(yandex), reply("hi"))
    assert (failed.value.retryable, failed.value.retry_after) == (True, 30.0)
    assert failed.value.reason == "Yandex Messenger: HTTP 429 sendText: Too many requests"


async def test_a_4xx_fails_with_yandexs_description(yandex: FakeYandex, connector: YandexConnector) -> None:
    yandex.fail_next(403, {"ok": False, "description": "Bot is not a member of the chat"})
    with pytest.raises(SendFailed) as failed:
        await connector.send(config_for(yandex), reply("hi", reply_to="0/0/<other>:1"))
    assert (failed.value.retryable, failed.value.reason) == (
        False,
        "Yandex Messenger: HTTP 403 sendText: Bot is not a member of the chat",
    )


async def test_a_5xx_is_retryable(yandex: FakeYandex, connector: YandexConnector) -> None:
    yandex.fail_next(500, "Internal Server Error")
    with pytest.raises(SendFailed) as failed:
        await connector.send(config_for(yandex), reply("hi"))
    assert failed.value.retryable is True


async def test_images_and_files_are_uploaded(
    yandex: FakeYandex, connector: YandexConnector, files: LocalFileStore
) -> None:
    png, pdf = b"\x89PNG\r\n\x1a\n box", b"%PDF-1.4 \x00 invoice"
    stored_png = files.put(png, "image/png", "box.png")
    stored_pdf = files.put(pdf, "application/pdf", "invoice.pdf")
    attachments = (
        OutboundFile(Attachment("box.png", "image/png", len(png), stored_png.url), stored_png.sha256),
        OutboundFile(Attachment("invoice.pdf", "application/pdf", len(pdf), stored_pdf.url), stored_pdf.sha256),
    )
    await connector.send(config_for(yandex), reply("", attachments=attachments))
    uploads = [(d.to, d.upload.filename, d.upload.content_type, d.upload.data) for d in yandex.delivered if d.upload]
    assert uploads == [
        ({"login": "ivan_ivanov"}, "box.png", "image/png", png),
        ({"login": "ivan_ivanov"}, "invoice.pdf", "application/pdf", pdf),
    ]
    assert [len(yandex.calls(path)) for path in ("sendImage", "sendFile", "sendText")] == [1, 1, 0]


# --- checks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "secrets", "field"),
    [
        ({}, {}, "secrets.oauth_token"),
        ({"mode": "push"}, {"oauth_token": "t"}, "settings.mode"),
        ({"api_base": "botapi.messenger.yandex.net"}, {"oauth_token": "t"}, "settings.api_base"),
        ({}, {"oauth_token": "t", "webhook_secret": "short"}, "secrets.webhook_secret"),
    ],
)
def test_check_settings_names_the_bad_field(
    connector: YandexConnector, settings: dict[str, Any], secrets: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidInput) as invalid:
        connector.check_settings(settings, secrets)
    assert invalid.value.field == field


def test_check_settings_and_check_reply_accept_a_working_channel(connector: YandexConnector) -> None:
    connector.check_settings({"mode": "polling"}, {"oauth_token": "y0_token"})
    config = channel_config(ChannelKind.YANDEX, {}, {})
    connector.check_reply(config, reply("hi"), datetime(2026, 1, 1))
    with pytest.raises(InvalidInput):
        connector.check_reply(config, reply(""), datetime(2026, 1, 1))
