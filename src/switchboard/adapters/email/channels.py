"""Which email or fax channel a recipient address belongs to (plus-addressed reply tokens included)."""

from __future__ import annotations

from switchboard.adapters.email.fax import FaxGateway
from switchboard.adapters.email.threads import ReplyTokens, channel_tokens
from switchboard.domain.channels import Channel, ChannelKind

MAILED_KINDS = (ChannelKind.EMAIL, ChannelKind.FAX)


def _base(address: str) -> str:
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def fax_gateway(channel: Channel, default_region: str) -> FaxGateway:
    """A fax channel's gateway: ``settings.gateway.domain`` (and ``sender_domains``, if it mails from others)."""
    gateway = channel.settings.get("gateway") or {}
    domains = [gateway.get("domain", ""), *gateway.get("sender_domains", [])]
    return FaxGateway(sender_domains=frozenset(d for d in domains if d), default_region=default_region)


class EmailChannels:
    """Addresses of the email and fax channels (``settings.addresses``), refreshed when channels change."""

    def __init__(self, default_region: str = "RU", reply_secret: bytes | None = None) -> None:
        self._by_address: dict[str, int] = {}
        self._gateways: dict[int, FaxGateway] = {}
        self._tokens: dict[int, ReplyTokens] = {}
        self._region = default_region
        self._reply_secret = reply_secret

    def load(self, channels: list[Channel]) -> None:
        mailed = [c for c in channels if c.kind in MAILED_KINDS and c.active]
        self._by_address = {
            _base(address): channel.id
            for channel in mailed
            for address in channel.settings.get("addresses", [])
            if isinstance(address, str)
        }
        self._gateways = {c.id: fax_gateway(c, self._region) for c in mailed if c.kind is ChannelKind.FAX}
        self._tokens = {
            c.id: tokens
            for c in mailed
            if c.kind is ChannelKind.EMAIL and (tokens := channel_tokens(c.settings, self._reply_secret))
        }

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset(self._by_address)

    def channel_for(self, recipients: list[str]) -> int | None:
        return next((self._by_address[_base(r)] for r in recipients if _base(r) in self._by_address), None)

    def fax_gateway_for(self, channel_id: int) -> FaxGateway | None:
        """The gateway when the channel is a fax channel; None for an email channel."""
        return self._gateways.get(channel_id)

    def tokens_for(self, channel_id: int) -> ReplyTokens | None:
        """The reply tokens an email channel signs and honours; None when it has them switched off."""
        return self._tokens.get(channel_id)
