"""The Telegram connector against a local Bot API server: webhooks in as documented, replies out."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from switchboard.adapters.connectors.http import hmac_sha256_hex
from switchboard.adapters.connectors.telegram import TelegramConnector
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
from tests.support.providers.telegram import TOKEN, FakeTelegram

VOICE_ID = "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX"
SECRET = "s3cret-token_for-tests"
ANN = Sender("Test Firstname Test Lastname", external_kind=IdentityKind.TELEGRAM, external_id="1111111")


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram().running() as server:
        yield server


@pytest.fixture
async def connector(files: LocalFileStore) -> AsyncIterator[TelegramConnector]:
    connector = TelegramConnector(files)
    yield connector
    await connector.close()


def _request(telegram: FakeTelegram, name: str) -> WebhookRequest:
    return telegram.webhook_request(fixture("telegram", name), secret=SECRET)


def config_for(telegram: FakeTelegram, **settings: Any) -> ChannelConfig:
    secrets = {"bot_token": telegram.token, "webhook_secret": SECRET}
    return channel_config(ChannelKind.TELEGRAM, {"api_base": telegram.base_url, **settings}, secrets)


def reply(
    body: str, *, attachments: tuple[OutboundFile, ...] = (), reply_to: str | None = "1111111:1365"
) -> OutboundMessage:
    return OutboundMessage(
        message_id=41,
        conversation_id=5,
        contact_id=3,
        body=body,
        attachments=attachments,
        identities=(Identity(IdentityKind.TELEGRAM, "1111111"),),
        reply_to=reply_to,
    )


# --- set-up ------------------------------------------------------------------------------------


async def test_connect_sets_the_webhook_with_a_secret_token(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    # given a channel with only its bot token (no webhook secret stored)
    config = channel_config(ChannelKind.TELEGRAM, {"api_base": telegram.base_url}, {"bot_token": telegram.token})
    # when it is connected
    said = await connector.connect(config, "https://desk.example/api/v1/channels/7/webhook")
    # then Telegram got our URL and a secret token derived from the bot token, which webhooks must carry
    derived = hmac_sha256_hex(TOKEN, f"switchboard:telegram-webhook:{CHANNEL_ID}".encode())
    [call] = telegram.calls("setWebhook")
    assert call.json == {
        "url": "https://desk.example/api/v1/channels/7/webhook",
        "secret_token": derived,
        "allowed_updates": ["message", "edited_message"],
    }
    assert "https://desk.example/api/v1/channels/7/webhook" in said and derived not in said
    result = await connector.webhook(config, telegram.webhook_request(fixture("telegram", "text")))
    assert [m.body for m in result.messages] == ["/start"]


async def test_connect_with_a_revoked_token_fails_with_telegrams_reason(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    config = channel_config(ChannelKind.TELEGRAM, {"api_base": telegram.base_url}, {"bot_token": "1:revoked"})
    with pytest.raises(SendFailed) as failed:
        await connector.connect(config, "https://desk.example/hook")
    assert (failed.value.retryable, failed.value.reason) == (False, "Telegram: HTTP 401 setWebhook: Unauthorized")


# --- in ----------------------------------------------------------------------------------------


async def test_a_text_message_becomes_an_inbound_message(telegram: FakeTelegram, connector: TelegramConnector) -> None:
    config = config_for(telegram)
    result = await connector.webhook(config, telegram.webhook_request(fixture("telegram", "text"), secret=SECRET))
    assert list(result.messages) == [InboundMessage(CHANNEL_ID, ANN, "/start", "1111111:1365")]
    assert (result.ignored, result.reply_status, result.reply_body) == ((), 200, b"ok")


async def test_a_replayed_update_gives_the_same_external_id(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    config = config_for(telegram)
    update = fixture("telegram", "text")
    first = await connector.webhook(config, telegram.webhook_request(update, secret=SECRET))
    again = await connector.webhook(config, telegram.webhook_request(update, secret=SECRET))
    assert list(first.messages) == list(again.messages)
    assert first.messages[0].external_id == "1111111:1365"


@pytest.mark.parametrize("secret", [None, "", "s3cret-token_for-testX", "S3CRET-TOKEN_FOR-TESTS"])
async def test_a_webhook_without_the_secret_token_is_rejected(
    telegram: FakeTelegram, connector: TelegramConnector, secret: str | None
) -> None:
    request = telegram.webhook_request(fixture("telegram", "voice"), secret=secret)
    if secret is None:
        request = WebhookRequest("POST", {"content-type": "application/json"}, {}, request.body)
    with pytest.raises(WebhookRejected) as rejected:
        await connector.webhook(config_for(telegram), request)
    assert rejected.value.status == 401
    assert telegram.requests == []  # not even the voice file was fetched


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
async def test_a_body_that_is_not_a_json_object_is_rejected_400(
    telegram: FakeTelegram, connector: TelegramConnector, body: bytes
) -> None:
    request = WebhookRequest("POST", {"x-telegram-bot-api-secret-token": SECRET}, {}, body)
    with pytest.raises(WebhookRejected) as rejected:
        await connector.webhook(config_for(telegram), request)
    assert rejected.value.status == 400


@pytest.mark.parametrize(
    ("name", "ignored"), [("edited_message", "edited_message"), ("callback_query", "callback_query")]
)
async def test_other_update_types_are_acknowledged_and_ignored(
    telegram: FakeTelegram, connector: TelegramConnector, caplog: pytest.LogCaptureFixture, name: str, ignored: str
) -> None:
    caplog.set_level(logging.INFO, "switchboard.connectors.telegram")
    result = await connector.webhook(config_for(telegram), _request(telegram, name))
    assert (list(result.messages), list(result.ignored), result.reply_status) == ([], [ignored], 200)
    assert f"Telegram update 10000 ignored: {ignored}" in caplog.text


async def test_a_message_without_sender_is_ignored_as_malformed(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    update = fixture("telegram", "text")
    del update["message"]["from"]
    result = await connector.webhook(config_for(telegram), telegram.webhook_request(update, secret=SECRET))
    assert (list(result.messages), list(result.ignored)) == ([], ["malformed: message without from.id or chat.id"])


async def test_a_photo_is_taken_in_its_largest_size_with_the_caption(
    telegram: FakeTelegram, connector: TelegramConnector, files: LocalFileStore
) -> None:
    picture = b"\xff\xd8\xff\xe0 large jpeg \r\n\r\n--not-a-boundary"
    telegram.add_file("AgACAgIAAxkBAAP-YV7jp_large", picture, "photos/file_7.jpg")
    result = await connector.webhook(config_for(telegram), _request(telegram, "photo"))
    [message] = result.messages
    assert message.body == "The parcel arrived like this"
    assert message.external_id == "111111111:254"
    assert message.language == "en"
    [attachment] = message.attachments
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "photo-AQADlarge.jpg",
        "image/jpeg",
        len(picture),
    )
    assert stored_bytes(files, attachment.url) == picture
    assert [call.json for call in telegram.calls("getFile")] == [{"file_id": "AgACAgIAAxkBAAP-YV7jp_large"}]


@pytest.mark.parametrize(
    ("name", "file_name", "content_type"),
    [
        ("voice", "voice-1365.ogg", "audio/ogg"),
        ("document", "Testfile.pdf", "application/pdf"),
        ("audio", "audio-1365.mp3", "audio/mpeg"),
    ],
)
async def test_voice_documents_and_audio_are_fetched_into_the_file_store(
    telegram: FakeTelegram,
    connector: TelegramConnector,
    files: LocalFileStore,
    name: str,
    file_name: str,
    content_type: str,
) -> None:
    data = f"{name} bytes".encode()
    telegram.add_file(VOICE_ID, data, f"{name}/file_1")
    result = await connector.webhook(config_for(telegram), _request(telegram, name))
    [message] = result.messages
    assert message.body == ""
    assert [(a.name, a.content_type, a.size) for a in message.attachments] == [(file_name, content_type, len(data))]
    assert stored_bytes(files, message.attachments[0].url) == data


async def test_a_file_over_the_channels_limit_is_refused_and_the_message_kept(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    # given a channel taking files up to 1000 bytes, and a document Telegram says is 536392 bytes
    config = config_for(telegram, max_file_bytes=1000)
    update = fixture("telegram", "document")
    update["message"]["caption"] = "my invoice"
    result = await connector.webhook(config, telegram.webhook_request(update, secret=SECRET))
    [message] = result.messages
    assert message.attachments == ()
    assert message.body == (
        "my invoice\n[attachment 'Testfile.pdf' refused: 536392 bytes exceeds the channel's limit of 1000 bytes]"
    )
    assert telegram.calls("getFile") == []  # refused before downloading


async def test_a_file_without_a_declared_size_is_refused_once_the_download_passes_the_limit(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    update = fixture("telegram", "voice")
    del update["message"]["voice"]["file_size"]
    telegram.add_file(VOICE_ID, b"x" * 1001, "voice/file_2.oga", hide_size=True)
    request = telegram.webhook_request(update, secret=SECRET)
    result = await connector.webhook(config_for(telegram, max_file_bytes=1000), request)
    [message] = result.messages
    assert message.attachments == ()
    assert message.body == "[attachment 'voice-1365.ogg' refused: larger than the channel's limit of 1000 bytes]"
    assert len(telegram.calls("voice/file_2.oga")) == 1


async def test_a_file_telegram_will_not_hand_over_is_refused_with_its_reason(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    update = fixture("telegram", "voice")
    del update["message"]["voice"]["file_size"]
    telegram.add_file(VOICE_ID, b"", "voice/big.oga", too_big=True)
    result = await connector.webhook(config_for(telegram), telegram.webhook_request(update, secret=SECRET))
    assert result.messages[0].body == (
        "[attachment 'voice-1365.ogg' refused: Telegram: HTTP 400 getFile: Bad Request: file is too big]"
    )


async def test_telegram_failing_to_hand_over_a_file_asks_for_the_update_again(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    telegram.add_file(VOICE_ID, b"ogg", "voice/file_3.oga")
    telegram.fail_next(502, "Bad Gateway", path="voice/file_3.oga")
    with pytest.raises(WebhookRejected) as rejected:
        await connector.webhook(config_for(telegram), _request(telegram, "voice"))
    assert rejected.value.status == 503
    assert TOKEN not in rejected.value.reason


async def test_a_location_is_written_out(telegram: FakeTelegram, connector: TelegramConnector) -> None:
    result = await connector.webhook(config_for(telegram), _request(telegram, "location"))
    assert [(m.body, m.external_id) for m in result.messages] == [("Location: 55.751244, 37.618423", "1111111:1366")]


async def test_the_senders_own_contact_card_gives_the_senders_phone(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    result = await connector.webhook(config_for(telegram), _request(telegram, "contact"))
    [message] = result.messages
    assert message.sender == Sender(
        "Test Firstname Test Lastname", phone="+79161234567", external_kind=IdentityKind.TELEGRAM, external_id="1111111"
    )
    assert message.body == "Contact: Test Firstname Test Lastname, +79161234567"


async def test_someone_elses_contact_card_stays_text(telegram: FakeTelegram, connector: TelegramConnector) -> None:
    update = fixture("telegram", "contact")
    update["message"]["contact"]["user_id"] = 2222222
    result = await connector.webhook(config_for(telegram), telegram.webhook_request(update, secret=SECRET))
    [message] = result.messages
    assert message.sender == ANN
    assert message.body == "Contact: Test Firstname Test Lastname, +79161234567"


# --- out ---------------------------------------------------------------------------------------


async def test_a_reply_is_sent_to_the_chat_of_the_last_message(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    receipt = await connector.send(config_for(telegram), reply("Здравствуйте! Посылка в пути."))
    [call] = telegram.calls("sendMessage")
    assert call.json == {"chat_id": 1111111, "text": "Здравствуйте! Посылка в пути."}
    assert receipt.external_id == "1111111:101"


async def test_without_an_earlier_message_the_reply_goes_to_the_contacts_private_chat(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    await connector.send(config_for(telegram), reply("Hello", reply_to=None))
    assert [call.json for call in telegram.calls("sendMessage")] == [{"chat_id": 1111111, "text": "Hello"}]


async def test_a_long_reply_is_split_at_paragraphs_and_the_receipt_is_the_first_part(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    paragraphs = [f"Абзац номер {n}. " * 120 for n in range(1, 4)]  # ~2000 characters each
    body = "\n\n".join(p.strip() for p in paragraphs)
    receipt = await connector.send(config_for(telegram), reply(body))
    texts = [call.json["text"] for call in telegram.calls("sendMessage")]
    assert texts == [paragraphs[0].strip() + "\n\n" + paragraphs[1].strip(), paragraphs[2].strip()]
    assert all(len(text) <= 4096 for text in texts)
    assert receipt.external_id == "1111111:101"


async def test_429_is_retried_after_telegrams_time(telegram: FakeTelegram, connector: TelegramConnector) -> None:
    telegram.rate_limit("sendMessage", seconds=7)
    with pytest.raises(SendFailed) as failed:
        await connector.send(config_for(telegram), reply("hi"))
    assert (failed.value.retryable, failed.value.retry_after) == (True, 7.0)
    assert failed.value.reason == "Telegram: HTTP 429 sendMessage: Too Many Requests: retry after 7"


async def test_a_retried_reply_resumes_after_the_parts_already_sent(
    telegram: FakeTelegram, connector: TelegramConnector
) -> None:
    # given a reply in two parts whose second part is rate limited
    config, message = config_for(telegram), reply("a " * 3000)
    telegram.rate_limit("sendMessage", seconds=3, skip=1)
    with pytest.raises(SendFailed) as failed:
        await connector.send(config, message)
    assert failed.value.retry_after == 3.0
    # when the delivery queue tries again
    receipt = await connector.send(config, message)
    # then only the second part went out again, and the receipt names the first
    assert [s.text for s in telegram.sent] == ["a " * 2047 + "a", "a " * 951 + "a"]
    assert receipt.external_id == "1111111:101"


async def test_a_5xx_is_retryable(telegram: FakeTelegram, connector: TelegramConnector) -> None:
    telegram.fail_next(502, "<html>Bad Gateway</html>", path="sendMessage")
    with pytest.raises(SendFailed) as failed:
        await connector.send(config_for(telegram), reply("hi"))
    assert (failed.value.retryable, failed.value.reason) == (True, "Telegram: HTTP 502 sendMessage: Bad Gateway")


@pytest.mark.parametrize(
    ("status", "description"), [(400, "Bad Request: chat not found"), (403, "Forbidden: bot was blocked by the user")]
)
async def test_a_4xx_fails_the_message_with_telegrams_description(
    telegram: FakeTelegram, connector: TelegramConnector, status: int, description: str
) -> None:
    telegram.refuse("sendMessage", status, description)
    with pytest.raises(SendFailed) as failed:
        await connector.send(config_for(telegram), reply("hi"))
    assert (failed.value.retryable, failed.value.reason) == (
        False,
        f"Telegram: HTTP {status} sendMessage: {description}",
    )


async def test_an_unreachable_telegram_is_retryable_and_the_reason_hides_the_token(
    files: LocalFileStore, connector: TelegramConnector
) -> None:
    config = channel_config(ChannelKind.TELEGRAM, {"api_base": "http://127.0.0.1:9"}, {"bot_token": TOKEN})
    with pytest.raises(SendFailed) as failed:
        await connector.send(config, reply("hi"))
    assert failed.value.retryable is True
    assert failed.value.reason == "Telegram: cannot connect (ConnectError)"
    assert failed.value.__cause__ is None and failed.value.__suppress_context__ is True


async def test_attachments_are_uploaded_from_the_file_store(
    telegram: FakeTelegram, connector: TelegramConnector, files: LocalFileStore
) -> None:
    photo_bytes, pdf_bytes = b"\x89PNG\r\n\x1a\n picture", b"%PDF-1.4\r\n invoice \x00\xff"
    photo = files.put(photo_bytes, "image/png", "damage.png")
    pdf = files.put(pdf_bytes, "application/pdf", "invoice.pdf")
    attachments = (
        OutboundFile(Attachment("damage.png", "image/png", len(photo_bytes), photo.url), photo.sha256),
        OutboundFile(Attachment("invoice.pdf", "application/pdf", len(pdf_bytes), pdf.url), pdf.sha256),
    )
    receipt = await connector.send(config_for(telegram), reply("Here they are", attachments=attachments))
    assert [(s.method, s.chat_id, s.text, s.file_name, s.file_data) for s in telegram.sent] == [
        ("sendMessage", "1111111", "Here they are", None, None),
        ("sendPhoto", "1111111", None, "damage.png", photo_bytes),
        ("sendDocument", "1111111", None, "invoice.pdf", pdf_bytes),
    ]
    [upload] = telegram.calls("sendPhoto")
    assert upload.form == {"chat_id": "1111111"}
    assert upload.files["photo"].content_type == "image/png"
    assert receipt.external_id == "1111111:101"


async def test_a_reply_with_no_chat_to_answer_fails(telegram: FakeTelegram, connector: TelegramConnector) -> None:
    message = OutboundMessage(1, 1, 1, "hi")
    with pytest.raises(SendFailed) as failed:
        await connector.send(config_for(telegram), message)
    assert (failed.value.retryable, failed.value.reason) == (False, "the contact has no Telegram chat to answer in")


# --- checks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "secrets", "field"),
    [
        ({}, {}, "secrets.bot_token"),
        ({}, {"bot_token": "not a token"}, "secrets.bot_token"),
        ({"api_base": "ftp://x"}, {"bot_token": TOKEN}, "settings.api_base"),
        ({"max_file_bytes": 0}, {"bot_token": TOKEN}, "settings.max_file_bytes"),
        ({}, {"bot_token": TOKEN, "webhook_secret": "no spaces allowed"}, "secrets.webhook_secret"),
    ],
)
def test_check_settings_names_the_bad_field(
    connector: TelegramConnector, settings: dict[str, Any], secrets: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidInput) as invalid:
        connector.check_settings(settings, secrets)
    assert invalid.value.field == field


def test_check_settings_accepts_a_working_configuration(connector: TelegramConnector) -> None:
    connector.check_settings(
        {"api_base": "https://api.telegram.org", "max_file_bytes": 5_000_000}, {"bot_token": TOKEN}
    )


def test_check_reply_refuses_what_telegram_never_takes(connector: TelegramConnector) -> None:
    config = channel_config(ChannelKind.TELEGRAM, {}, {"bot_token": TOKEN})
    now = datetime(2026, 1, 1)
    with pytest.raises(InvalidInput) as empty:
        connector.check_reply(config, reply("  "), now)
    huge = OutboundFile(Attachment("film.mp4", "video/mp4", 51 * 1024 * 1024, None), hashlib.sha256(b"").hexdigest())
    with pytest.raises(InvalidInput) as too_big:
        connector.check_reply(config, reply("film", attachments=(huge,)), now)
    assert (empty.value.field, too_big.value.field) == ("body", "attachments")
    connector.check_reply(config, reply("fine"), now)
