"""Instagram messaging: the Messenger Platform with Instagram's ids, read receipts by message and its limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from switchboard.adapters.connectors.meta import InstagramConnector
from switchboard.adapters.files import LocalFileStore
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.errors import InvalidInput
from switchboard.application.intake import InboundMessage, Sender
from switchboard.application.ports.connectors import ChannelConfig, OutboundFile, OutboundMessage, Receipt, SendFailed
from switchboard.domain.conversation import Attachment, DeliveryStatus
from switchboard.domain.identity import Identity, IdentityKind
from tests.adapters.connectors.meta.conftest import SECRETS, signed
from tests.support.clock import ManualClock
from tests.support.providers.meta import CUSTOMER_IGSID, INSTAGRAM_ACCOUNT_ID, MetaGraph, load_fixture

CUSTOMER = Sender(external_kind=IdentityKind.INSTAGRAM, external_id=CUSTOMER_IGSID)
JPEG = b"\xff\xd8\xff\xe0 a photo of the size label"


def reply(body: str = "Да, размер M есть.", **fields: object) -> OutboundMessage:
    values: dict[str, object] = {"identities": (Identity(IdentityKind.INSTAGRAM, CUSTOMER_IGSID),)}
    values.update(fields)
    return OutboundMessage(503, 33, 13, body, **values)  # type: ignore[arg-type]


async def test_a_direct_message_comes_in_from_the_instagram_scoped_id(
    instagram: InstagramConnector, ig_config: ChannelConfig
) -> None:
    payload = load_fixture("instagram_text.json")

    result = await instagram.webhook(ig_config, signed(payload))

    mid = payload["entry"][0]["messaging"][0]["message"]["mid"]
    assert result.messages == (InboundMessage(ig_config.id, CUSTOMER, "Привет! Есть размер M?", mid),)


async def test_an_image_behind_a_url_without_a_file_name_is_named_by_its_message(
    instagram: InstagramConnector, ig_config: ChannelConfig, graph: MetaGraph, files: LocalFileStore
) -> None:
    graph.add_cdn("ig_messaging_cdn/", JPEG, "image/jpeg")

    result = await instagram.webhook(ig_config, signed(load_fixture("instagram_image.json", cdn=graph.cdn_base)))

    (message,) = result.messages
    assert message.attachments == (
        Attachment("image-DQ0OjM0image-0.jpg", "image/jpeg", len(JPEG), files.put(JPEG, "x", "y").url),
    )
    assert graph.requests[0].query == {"asset_id": "17952342431710364", "signature": "AbC"}


async def test_a_cdn_link_that_redirects_is_followed(
    instagram: InstagramConnector, ig_config: ChannelConfig, graph: MetaGraph
) -> None:
    graph.add_cdn("ig_messaging_cdn/", JPEG, "image/jpeg")
    payload = load_fixture("instagram_image.json", cdn=f"{graph.base_url}/redirect")

    result = await instagram.webhook(ig_config, signed(payload))

    assert [a.size for m in result.messages for a in m.attachments] == [len(JPEG)]
    assert [r.path for r in graph.requests] == ["/redirect/ig_messaging_cdn/", "/cdn/ig_messaging_cdn/"]


async def test_a_read_event_names_its_message_and_marks_it_read(
    instagram: InstagramConnector, ig_config: ChannelConfig
) -> None:
    result = await instagram.webhook(ig_config, signed(load_fixture("instagram_read.json")))

    assert result.statuses == (
        DeliveryUpdate(ig_config.id, "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjout-1", DeliveryStatus.READ),
    )


@pytest.mark.parametrize(
    ("fixture", "ignored"), [("instagram_echo.json", "message echo"), ("instagram_reaction.json", "event reaction")]
)
async def test_echoes_and_reactions_are_acknowledged_and_listed(
    instagram: InstagramConnector, ig_config: ChannelConfig, fixture: str, ignored: str
) -> None:
    result = await instagram.webhook(ig_config, signed(load_fixture(fixture)))

    assert (result.messages, result.statuses, result.ignored) == ((), (), (ignored,))


async def test_a_reply_goes_to_me_messages_in_parts_of_1000_characters(
    instagram: InstagramConnector, ig_config: ChannelConfig, graph: MetaGraph, clock: ManualClock
) -> None:
    receipt = await instagram.send(ig_config, reply("слово " * 300, last_inbound_at=clock.now()))

    sent = graph.sent()
    assert [r.path for r in sent] == ["/me/messages", "/me/messages"]
    assert [len(r.json["message"]["text"]) for r in sent] == [995, 803]
    assert {r.json["recipient"]["id"] for r in sent} == {CUSTOMER_IGSID}
    assert receipt == Receipt("m_out-1")


async def test_a_file_goes_by_its_public_url_and_a_stored_one_without_it_fails_before_anything_is_sent(
    instagram: InstagramConnector, ig_config: ChannelConfig, graph: MetaGraph, files: LocalFileStore
) -> None:
    public = OutboundFile(Attachment("label.jpg", "image/jpeg", 10, "https://shop.example/label.jpg"))
    stored = files.put(JPEG, "image/jpeg", "label.jpg")
    private = OutboundFile(Attachment("label.jpg", "image/jpeg", len(JPEG), stored.url), stored.sha256)

    await instagram.send(ig_config, reply("", attachments=(public,)))
    with pytest.raises(SendFailed) as failed:
        await instagram.send(ig_config, reply("Смотрите фото", attachments=(private,)))

    (sent,) = graph.sent()
    assert sent.json["message"] == {
        "attachment": {"type": "image", "payload": {"url": "https://shop.example/label.jpg", "is_reusable": False}}
    }
    assert (failed.value.retryable, failed.value.reason) == (
        False,
        "Instagram takes attachment 'label.jpg' only by a public https URL",
    )


def test_only_the_human_agent_tag_extends_the_window_and_it_is_checked_with_the_settings(
    instagram: InstagramConnector,
) -> None:
    settings = {"instagram_account_id": INSTAGRAM_ACCOUNT_ID, "message_tag": "ACCOUNT_UPDATE"}

    with pytest.raises(InvalidInput) as refused:
        instagram.check_settings(settings, SECRETS)

    assert (refused.value.detail, refused.value.field) == (
        "message_tag must be one of: HUMAN_AGENT",
        "settings.message_tag",
    )
    instagram.check_settings({**settings, "message_tag": "HUMAN_AGENT"}, SECRETS)


def test_later_than_24_hours_without_a_tag_the_reply_is_refused(
    instagram: InstagramConnector, ig_config: ChannelConfig, clock: ManualClock
) -> None:
    now = clock.now()

    with pytest.raises(InvalidInput) as refused:
        instagram.check_reply(ig_config, reply(last_inbound_at=now - timedelta(hours=30)), now)

    assert refused.value.detail.startswith("outside Instagram's 24-hour standard messaging window")
