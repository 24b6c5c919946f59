"""Which email channel a recipient address belongs to (plus-addressed reply tokens included)."""

from __future__ import annotations

from switchboard.domain.channels import Channel, ChannelKind


def _base(address: str) -> str:
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


class EmailChannels:
    """Addresses of the email channels (``settings.addresses``), refreshed when channels change."""

    def __init__(self) -> None:
        self._by_address: dict[str, int] = {}

    def load(self, channels: list[Channel]) -> None:
        self._by_address = {
            _base(address): channel.id
            for channel in channels
            if channel.kind is ChannelKind.EMAIL and channel.active
            for address in channel.settings.get("addresses", [])
            if isinstance(address, str)
        }

    @property
    def addresses(self) -> frozenset[str]:
        return frozenset(self._by_address)

    def channel_for(self, recipients: list[str]) -> int | None:
        return next((self._by_address[_base(r)] for r in recipients if _base(r) in self._by_address), None)
