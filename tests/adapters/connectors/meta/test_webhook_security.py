"""What every Meta webhook must pass before anything in it is read: the handshake and the signature."""

from __future__ import annotations

import pytest

from switchboard.adapters.connectors.meta import InstagramConnector, MessengerConnector, WhatsAppConnector
from switchboard.application.ports.connectors import ChannelConfig, WebhookRejected, WebhookRequest
from switchboard.domain.channels import ChannelKind
from tests.adapters.connectors.meta.conftest import channel_config, signed
from tests.support.providers.meta import (
    MetaGraph,
    load_fixture,
    meta_body,
    signature,
    verification_query,
    webhook_headers,
)

Meta = WhatsAppConnector | MessengerConnector | InstagramConnector
KINDS = [
    (ChannelKind.WHATSAPP, "whatsapp", "whatsapp_image.json"),
    (ChannelKind.FACEBOOK, "messenger", "messenger_image.json"),
    (ChannelKind.INSTAGRAM, "instagram", "instagram_image.json"),
]


@pytest.fixture(params=KINDS, ids=[k[1] for k in KINDS])
def case(request: pytest.FixtureRequest, graph: MetaGraph) -> tuple[Meta, ChannelConfig, dict[str, object]]:
    kind, fixture_name, payload_name = request.param
    connector: Meta = request.getfixturevalue(fixture_name)
    payload = load_fixture(payload_name, cdn=graph.cdn_base)
    return connector, channel_config(kind, graph), payload


def get(query: dict[str, str]) -> WebhookRequest:
    return WebhookRequest("GET", {}, query, b"")


async def test_the_verify_handshake_echoes_the_challenge_as_plain_text(
    case: tuple[Meta, ChannelConfig, dict[str, object]],
) -> None:
    connector, config, _ = case

    result = await connector.webhook(config, get(verification_query(challenge="1158201444")))

    assert (result.reply_status, result.reply_body, result.reply_content_type) == (200, b"1158201444", "text/plain")
    assert (result.messages, result.statuses) == ((), ())


@pytest.mark.parametrize(
    "query",
    [
        verification_query(verify_token="someone-elses-token"),
        {**verification_query(), "hub.mode": "unsubscribe"},
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
        {**verification_query(), "hub.challenge": ""},
    ],
    ids=["wrong-token", "wrong-mode", "no-token", "no-challenge"],
)
async def test_a_handshake_without_our_verify_token_is_refused_with_403(
    case: tuple[Meta, ChannelConfig, dict[str, object]], query: dict[str, str]
) -> None:
    connector, config, _ = case

    with pytest.raises(WebhookRejected) as refused:
        await connector.webhook(config, get(query))

    assert refused.value.status == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "application/json"},
        {"x-hub-signature-256": "sha256=" + "0" * 64},
        {"x-hub-signature-256": "sha1=0123"},
        "signed-with-another-secret",
    ],
    ids=["missing", "wrong", "not-sha256", "other-secret"],
)
async def test_an_unsigned_or_badly_signed_post_is_refused_with_401_and_nothing_is_read(
    case: tuple[Meta, ChannelConfig, dict[str, object]], graph: MetaGraph, headers: dict[str, str] | str
) -> None:
    connector, config, payload = case
    body = meta_body(payload)
    if headers == "signed-with-another-secret":
        headers = webhook_headers(body, "not-the-app-secret")

    with pytest.raises(WebhookRejected) as refused:
        await connector.webhook(config, WebhookRequest("POST", dict(headers), {}, body))

    assert refused.value.status == 401
    assert graph.requests == []  # the image it names was never fetched


async def test_one_changed_byte_breaks_the_signature(
    case: tuple[Meta, ChannelConfig, dict[str, object]], graph: MetaGraph
) -> None:
    connector, config, payload = case
    body = meta_body(payload)
    tampered = body.replace(b'"id"', b'"Id"', 1)

    with pytest.raises(WebhookRejected) as refused:
        await connector.webhook(config, WebhookRequest("POST", webhook_headers(body), {}, tampered))

    assert refused.value.status == 401
    assert graph.requests == []


async def test_the_signature_covers_the_escaped_bytes_meta_sends_not_the_decoded_text(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig
) -> None:
    payload = load_fixture("whatsapp_text.json")
    body = meta_body(payload)
    assert b"\\u0417" in body  # "З" travels as \u0417

    result = await whatsapp.webhook(wa_config, WebhookRequest("POST", webhook_headers(body), {}, body))

    assert [m.body for m in result.messages] == ["Здравствуйте! Есть доставка в Казань?"]


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[1, 2]", b""], ids=["broken", "binary", "list", "empty"])
async def test_a_signed_body_that_is_not_a_json_object_is_refused_with_400(
    case: tuple[Meta, ChannelConfig, dict[str, object]], body: bytes
) -> None:
    connector, config, _ = case

    with pytest.raises(WebhookRejected) as refused:
        await connector.webhook(config, WebhookRequest("POST", {"x-hub-signature-256": signature(body)}, {}, body))

    assert refused.value.status == 400


async def test_a_channel_without_its_app_secret_refuses_with_503_so_meta_retries_once_it_is_set(
    whatsapp: WhatsAppConnector, graph: MetaGraph
) -> None:
    config = channel_config(ChannelKind.WHATSAPP, graph)
    unconfigured = ChannelConfig(config.channel, {"access_token": "t", "verify_token": "v"})

    with pytest.raises(WebhookRejected) as refused:
        await whatsapp.webhook(unconfigured, signed(load_fixture("whatsapp_text.json")))

    assert refused.value.status == 503


async def test_another_products_object_and_other_methods_are_not_taken(
    case: tuple[Meta, ChannelConfig, dict[str, object]],
) -> None:
    connector, config, _ = case

    foreign = await connector.webhook(config, signed({"object": "user", "entry": [{"id": "1", "changes": []}]}))
    with pytest.raises(WebhookRejected) as refused:
        await connector.webhook(config, WebhookRequest("PUT", {}, {}, b""))

    assert (foreign.messages, foreign.statuses, foreign.ignored) == ((), (), ("object 'user'",))
    assert refused.value.status == 405
