"""A Meta channel's settings are checked naming the field; connect() proves the token and says what it found."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.adapters.connectors.meta import InstagramConnector, MessengerConnector, WhatsAppConnector
from switchboard.application.errors import InvalidInput
from switchboard.application.ports.connectors import ChannelConfig, SendFailed
from switchboard.domain.channels import ChannelKind
from tests.adapters.connectors.meta.conftest import SECRETS, channel_config
from tests.support.providers.meta import INSTAGRAM_ACCOUNT_ID, PAGE_ID, PHONE_NUMBER_ID, MetaGraph

Meta = WhatsAppConnector | MessengerConnector | InstagramConnector
OWN = [
    ("whatsapp", "phone_number_id", PHONE_NUMBER_ID),
    ("messenger", "page_id", PAGE_ID),
    ("instagram", "instagram_account_id", INSTAGRAM_ACCOUNT_ID),
]


@pytest.fixture(params=OWN, ids=[o[0] for o in OWN])
def setup(request: pytest.FixtureRequest) -> tuple[Meta, str, str]:
    name, id_setting, own = request.param
    return request.getfixturevalue(name), id_setting, own


def test_complete_settings_pass(setup: tuple[Meta, str, str]) -> None:
    connector, id_setting, own = setup

    connector.check_settings({id_setting: own, "api_base": "https://graph.facebook.com/v25.0"}, SECRETS)

    assert connector.secret_names == ("access_token", "app_secret", "verify_token")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": None}, "id"),
        ({"id": 106540352242922}, "id"),  # a JSON number: Graph ids outgrow a double's exact range
        ({"id": "abc"}, "id"),
        ({"api_base": "ftp://graph.example"}, "settings.api_base"),
        ({"max_file_bytes": 0}, "settings.max_file_bytes"),
        ({"max_file_bytes": True}, "settings.max_file_bytes"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(setup: tuple[Meta, str, str], change: dict[str, Any], field: str) -> None:
    connector, id_setting, own = setup
    settings: dict[str, Any] = {id_setting: own}
    for key, value in change.items():
        settings[id_setting if key == "id" else key] = value

    with pytest.raises(InvalidInput) as refused:
        connector.check_settings(settings, SECRETS)

    assert refused.value.field == (f"settings.{id_setting}" if field == "id" else field)


@pytest.mark.parametrize("secret", ["access_token", "app_secret", "verify_token"])
def test_each_secret_is_required(setup: tuple[Meta, str, str], secret: str) -> None:
    connector, id_setting, own = setup

    with pytest.raises(InvalidInput) as refused:
        connector.check_settings({id_setting: own}, {**SECRETS, secret: ""})

    assert refused.value.field == f"secrets.{secret}"


async def test_connecting_a_whatsapp_number_reads_it_with_the_token(
    whatsapp: WhatsAppConnector, wa_config: ChannelConfig, graph: MetaGraph
) -> None:
    said = await whatsapp.connect(wa_config, "https://desk.shop.example")

    assert said == (
        "WhatsApp number +1 555-078-3881 (Lucky Shrub, quality GREEN) answers to this token. In the Meta app, "
        "WhatsApp > Configuration: callback URL https://desk.shop.example/api/v1/channels/7/webhook, this channel's "
        "verify token, and subscribe the messages field."
    )
    (asked,) = graph.requests
    assert (asked.method, asked.path, asked.query) == (
        "GET",
        f"/{PHONE_NUMBER_ID}",
        {"fields": "display_phone_number,verified_name,quality_rating"},
    )


async def test_connecting_a_page_reads_it_and_subscribes_it_to_the_apps_messaging_webhooks(
    messenger: MessengerConnector, fb_config: ChannelConfig, graph: MetaGraph
) -> None:
    said = await messenger.connect(fb_config, "https://desk.shop.example/api/v1/channels/7/webhook")

    assert said.startswith(
        "Facebook Page Lucky Shrub answers to this token and is subscribed to the app's "
        "messages,message_deliveries,message_reads,message_echoes webhooks."
    )
    assert [(r.method, r.path, r.query) for r in graph.requests] == [
        ("GET", f"/{PAGE_ID}", {"fields": "id,name"}),
        (
            "POST",
            f"/{PAGE_ID}/subscribed_apps",
            {"subscribed_fields": "messages,message_deliveries,message_reads,message_echoes"},
        ),
    ]


async def test_connecting_an_instagram_account_names_it(
    instagram: InstagramConnector, ig_config: ChannelConfig
) -> None:
    said = await instagram.connect(ig_config, "https://desk.shop.example")

    assert said.startswith("Instagram account @luckyshrub answers to this token.")


async def test_a_token_meta_does_not_accept_fails_the_connection_with_metas_words(
    whatsapp: WhatsAppConnector, graph: MetaGraph
) -> None:
    config = channel_config(ChannelKind.WHATSAPP, graph)
    wrong = ChannelConfig(config.channel, {**SECRETS, "access_token": "EAAexpired"})

    with pytest.raises(SendFailed) as failed:
        await whatsapp.connect(wrong, "https://desk.shop.example")

    assert (failed.value.retryable, failed.value.reason) == (
        False,
        "WhatsApp: Invalid OAuth access token - Cannot parse access token (code 190, HTTP 401)",
    )
