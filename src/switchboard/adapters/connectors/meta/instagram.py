"""Instagram messaging (Instagram Direct for professional accounts) on the Messenger Platform.

The events and the Send API are Messenger's (``messenger.MessengerPlatform``) with Instagram's own
differences: the webhook's object is ``instagram`` and its entries are the professional account's
id; the sender is an Instagram-scoped id (IGSID, ``IdentityKind.INSTAGRAM``); a ``read`` event names
the message it read (``read.mid``), so it becomes a ``read`` status; texts are cut at 1000
characters; files go only by a public https URL (the Send API takes no upload for Instagram); and
the only message tag after the 24-hour window is ``HUMAN_AGENT`` (7 days).

With Facebook Login the token is the linked Page's and the base is ``graph.facebook.com``; with
Instagram Login set ``settings.api_base`` to ``https://graph.instagram.com/v25.0`` and use the
Instagram user token. ``/me/messages`` works for both.
"""

from __future__ import annotations

from switchboard.adapters.connectors.meta.graph import Graph, text_of, webhook_url
from switchboard.adapters.connectors.meta.messenger import MessengerPlatform
from switchboard.application.ports.connectors import ChannelConfig
from switchboard.domain.channels import ChannelKind
from switchboard.domain.identity import IdentityKind


class InstagramConnector(MessengerPlatform):
    """The ``Connector`` of ``kind: instagram`` channels (``instagram_account_id``, optional ``message_tag``)."""

    kind = ChannelKind.INSTAGRAM
    provider = "Instagram"
    object_name = "instagram"
    id_setting = "instagram_account_id"
    id_help = "Instagram professional account ID (the IG user id linked to the Page)"
    identity = IdentityKind.INSTAGRAM
    text_limit = 1000
    tags = frozenset({"HUMAN_AGENT"})
    uploads = False

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        graph = Graph(self._client, config, self.provider)
        own = str(config.settings[self.id_setting])
        account = await graph.request("GET", own, params={"fields": "id,username,name"})
        username = text_of(account.get("username"))
        return (
            f"Instagram account {'@' + username if username else own} answers to this token. "
            f"In the Meta app, Instagram > Webhooks: callback URL {webhook_url(config, public_url)} with this "
            "channel's verify token, subscribe the messages and messaging_seen fields."
        )
