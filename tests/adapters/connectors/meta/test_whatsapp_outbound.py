"""WhatsApp replies out: exact Cloud API payloads, uploads, templates, the 24-hour window, failures."""

from __future__ import annotations

from datetime import timedelta

import pytest

from switchboard.adapters.connectors.meta import WhatsAppConnector
from switchboard.adapters.files import LocalFileStore
from switchboard.application.errors import InvalidInput
from switchboard.application.ports.connectors import (
    ChannelConfig,
    OutboundFile,
    OutboundMessage,
    Receipt,
    SendFailed,
    Template,
)
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import Attachment
from switchboard.domain.identity import Identity, IdentityKind
from tests.adapters.connectors.meta.conftest import channel_config
from tests.support.clock import ManualClock
from tests.support.providers.meta import PHONE_NUMBER_ID, MetaGraph, Uploaded

PHONE = Identity(IdentityKind.PHONE, "+79161234567")
JPEG = b"\xff\xd8\xff\xe0 the new part, installed"
REENGAGEMENT = (
    "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
)


def reply(body: str = "Доставка в Казань есть, 2 дня.", **fields: object) -> OutboundMessage:
    values: dict[str, object] = {"identities": (PHONE, Identity(IdentityKind.EMAIL, "olga@mail.example"))}
    values.update(fields)
    return OutboundMessage(501, 31, 11, body, **values)  # type: ignore[arg-type]


def envelope(kind: str, body: dict[str, object]) -> dict[str, object]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "79161234567",
        "type": kind,
        kind: body,
    }


async def test_a_text_reply_is_one_cloud_api_message_to_the_customers_number(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, graph: MetaGraph
) -> None:
    receipt = await whatsapp.send(wa_config, reply())

    assert receipt == Receipt("wamid.out-1")
    (sent,) = graph.sent()
    assert (sent.path, sent.headers["authorization"]) == (
        f"/{PHONE_NUMBER_ID}/messages",
        "Bearer EAAGm0PX4ZCpsBAtest-token",
    )
    assert sent.json == envelope("text", {"body": "Доставка в Казань есть, 2 дня."})


async def test_a_stored_image_is_uploaded_first_and_sent_by_its_media_id_with_the_text_as_caption(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, graph: MetaGraph, files: LocalFileStore
) -> None:
    stored = files.put(JPEG, "image/jpeg", "part.jpg")
    photo = OutboundFile(Attachment("part.jpg", "image/jpeg", len(JPEG), stored.url), stored.sha256)

    receipt = await whatsapp.send(wa_config, reply("Вот новая деталь", attachments=(photo,)))

    (upload,) = graph.sent("/media")
    assert upload.form == {"messaging_product": "whatsapp", "type": "image/jpeg"}
    assert upload.files == {"file": Uploaded("part.jpg", "image/jpeg", JPEG)}
    (sent,) = graph.sent("/messages")
    assert sent.json == envelope("image", {"id": "900001", "caption": "Вот новая деталь"})
    assert receipt == Receipt("wamid.out-2")


async def test_a_file_at_a_public_url_goes_as_a_link_and_a_long_text_goes_before_it_in_parts(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, graph: MetaGraph
) -> None:
    price = OutboundFile(Attachment("price.pdf", "application/pdf", 2048, "https://shop.example/price.pdf"))
    text = ("Прайс-лист на ноябрь. " * 200).strip()  # 4399 characters: over WhatsApp's 4096

    receipt = await whatsapp.send(wa_config, reply(text, attachments=(price,)))

    bodies = [r.json for r in graph.sent()]
    first, second = text[:4096].rsplit(" ", 1)[0], text[len(text[:4096].rsplit(" ", 1)[0]) :].strip()
    assert bodies == [
        envelope("text", {"body": first}),
        envelope("text", {"body": second}),
        envelope("document", {"link": "https://shop.example/price.pdf", "filename": "price.pdf"}),
    ]
    assert graph.sent("/media") == []
    assert receipt == Receipt("wamid.out-1")


async def test_a_template_goes_with_its_name_language_and_body_parameters(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, graph: MetaGraph
) -> None:
    template = Template("order_update", "ru", ("1042", "завтра"))

    receipt = await whatsapp.send(wa_config, reply("Заказ 1042 приедет завтра", template=template))

    (sent,) = graph.sent()
    assert sent.json == envelope(
        "template",
        {
            "name": "order_update",
            "language": {"code": "ru"},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "1042"}, {"type": "text", "text": "завтра"}]}
            ],
        },
    )
    assert receipt == Receipt("wamid.out-1")


async def test_a_file_that_cannot_be_uploaded_fails_the_reply_before_any_part_is_sent(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, graph: MetaGraph, files: LocalFileStore
) -> None:
    stored = files.put(JPEG, "image/jpeg", "part.jpg")
    photo = OutboundFile(Attachment("part.jpg", "image/jpeg", len(JPEG), stored.url), stored.sha256)
    graph.fail_next("/media", 400, code=131053, message="Media upload error", details="Unsupported file type")

    with pytest.raises(SendFailed) as failed:
        await whatsapp.send(wa_config, reply("long text " * 150, attachments=(photo,)))

    assert (failed.value.retryable, failed.value.reason) == (
        False,
        "WhatsApp: Media upload error — Unsupported file type (code 131053, HTTP 400)",
    )
    assert graph.sent("/messages") == []


async def test_a_file_neither_stored_nor_public_and_a_contact_without_a_phone_fail_for_good(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, graph: MetaGraph
) -> None:
    local = OutboundFile(Attachment("scan.pdf", "application/pdf", 10, "file:///var/files/scan.pdf"), "ab" * 32)

    with pytest.raises(SendFailed) as unsendable:
        await whatsapp.send(wa_config, reply(attachments=(local,)))
    with pytest.raises(SendFailed) as nobody:
        await whatsapp.send(wa_config, reply(identities=(Identity(IdentityKind.TELEGRAM, "5551234"),)))

    assert (unsendable.value.retryable, unsendable.value.reason) == (
        False,
        "attachment 'scan.pdf' is neither in the file store nor at an https URL",
    )
    assert (nobody.value.retryable, nobody.value.reason) == (
        False,
        "the contact has no phone number to write to on WhatsApp",
    )
    assert graph.requests == []


@pytest.mark.parametrize(
    ("status", "code", "headers", "retry_after"),
    [
        (400, 4, {}, 60.0),  # application request limit, as Graph sends it: HTTP 400
        (400, 130429, {"retry-after": "7"}, 7.0),  # Cloud API throughput
        (
            400,
            80007,
            {"x-business-use-case-usage": '{"102290129340398": [{"estimated_time_to_regain_access": 3}]}'},
            180.0,
        ),
        (403, 17, {}, 60.0),
        (400, 32, {}, 60.0),
        (429, 613, {}, 60.0),
    ],
)
async def test_rate_limits_are_retried_later_with_a_backoff_hint(
    whatsapp: WhatsAppConnector,
    wa_config: ChannelConfig,
    graph: MetaGraph,
    status: int,
    code: int,
    headers: dict[str, str],
    retry_after: float,
) -> None:
    graph.fail_next("/messages", status, code=code, message="(#4) Application request limit reached", headers=headers)

    with pytest.raises(SendFailed) as failed:
        await whatsapp.send(wa_config, reply())

    assert (failed.value.retryable, failed.value.retry_after) == (True, retry_after)
    assert await whatsapp.send(wa_config, reply()) == Receipt("wamid.out-1")  # later it goes


@pytest.mark.parametrize(("status", "code"), [(500, 1), (503, 2), (502, None), (400, 2)])
async def test_server_errors_and_transient_codes_are_retried(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, graph: MetaGraph, status: int, code: int | None
) -> None:
    graph.fail_next("/messages", status, code=code, message="An unknown error occurred")

    with pytest.raises(SendFailed) as failed:
        await whatsapp.send(wa_config, reply())

    assert failed.value.retryable is True


async def test_an_unreachable_graph_api_is_retried(whatsapp: WhatsAppConnector, graph: MetaGraph) -> None:
    config = channel_config(ChannelKind.WHATSAPP, graph, api_base="http://127.0.0.1:9/v25.0")

    with pytest.raises(SendFailed) as failed:
        await whatsapp.send(config, reply())

    assert (failed.value.retryable, failed.value.reason) == (True, "WhatsApp: cannot connect (ConnectError)")


@pytest.mark.parametrize(
    ("status", "code", "message", "details", "reason"),
    [
        (
            400,
            131047,
            "Re-engagement message",
            REENGAGEMENT,
            "WhatsApp: Re-engagement message — Message failed to send because more than 24 hours have passed since the "
            "customer last replied to this number. (code 131047, HTTP 400)",
        ),
        (400, 100, "(#100) Invalid parameter", None, "WhatsApp: (#100) Invalid parameter (code 100, HTTP 400)"),
        (
            401,
            190,
            "Error validating access token",
            None,
            "WhatsApp: Error validating access token (code 190, HTTP 401)",
        ),
    ],
)
async def test_other_client_errors_fail_the_message_with_metas_reason(
    whatsapp: WhatsAppConnector,
    wa_config: ChannelConfig,
    graph: MetaGraph,
    status: int,
    code: int,
    message: str,
    details: str | None,
    reason: str,
) -> None:
    graph.fail_next("/messages", status, code=code, message=message, details=details)

    with pytest.raises(SendFailed) as failed:
        await whatsapp.send(wa_config, reply())

    assert (failed.value.retryable, failed.value.reason) == (False, reason)


# --- the 24-hour customer service window ---------------------------------------------------------


@pytest.mark.parametrize("hours", [0, 23.9, 24])
def test_a_free_form_reply_within_24_hours_of_the_customers_message_is_accepted(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, clock: ManualClock, hours: float
) -> None:
    now = clock.now()

    whatsapp.check_reply(wa_config, reply(last_inbound_at=now - timedelta(hours=hours)), now)


@pytest.mark.parametrize(
    "last", [timedelta(hours=24, seconds=1), timedelta(days=3), None], ids=["24h1s", "3d", "never"]
)
def test_outside_the_window_a_free_form_reply_is_refused_naming_the_template(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, clock: ManualClock, last: timedelta | None
) -> None:
    now = clock.now()

    with pytest.raises(InvalidInput) as refused:
        whatsapp.check_reply(wa_config, reply(last_inbound_at=None if last is None else now - last), now)

    assert (refused.value.detail, refused.value.field) == (
        "outside WhatsApp's 24-hour customer service window: only an approved template message can be sent",
        "template",
    )


def test_outside_the_window_a_template_is_accepted_but_it_needs_a_name_and_a_language(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, clock: ManualClock
) -> None:
    now = clock.now()
    late = now - timedelta(days=3)

    whatsapp.check_reply(wa_config, reply(last_inbound_at=late, template=Template("order_update", "ru")), now)
    with pytest.raises(InvalidInput) as nameless:
        whatsapp.check_reply(wa_config, reply(last_inbound_at=late, template=Template(" ", "ru")), now)
    with pytest.raises(InvalidInput) as speechless:
        whatsapp.check_reply(wa_config, reply(last_inbound_at=late, template=Template("order_update", "")), now)

    assert (nameless.value.field, speechless.value.field) == ("template.name", "template.language")
