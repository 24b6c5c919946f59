"""SMPP sessions for the SMS channels that use a carrier or aggregator over SMPP 3.4.

SMPP is a long-lived connection, not a webhook: this worker keeps one bound session per active
SMPP channel (``SmppSessions``), hands mobile-originated messages to the intake and delivery
receipts to ``record_delivery``, and follows the channels as they are added, changed or removed.
"""

from __future__ import annotations

import logging

from switchboard.adapters.connectors.sms.smpp.sessions import SmppSessions
from switchboard.application.access import Principal
from switchboard.application.channels import open_secrets
from switchboard.application.context import Services
from switchboard.application.delivery import DeliveryUpdate, record_delivery
from switchboard.application.intake import InboundMessage, IntakeResult, receive_message
from switchboard.application.ports.connectors import ChannelConfig
from switchboard.application.tasks import Loop
from switchboard.domain.channels import ChannelKind
from switchboard.domain.operators import Role

log = logging.getLogger("switchboard.smpp")
CONNECTOR = Principal(Role.INTEGRATION)


class SmppWorker:
    def __init__(self, *, refresh_seconds: float = 30.0) -> None:
        self.sessions = SmppSessions(self._inbound, self._status)
        self._services: Services | None = None
        self._refresh_seconds = refresh_seconds
        self._loop = Loop("smpp-refresh")

    def bind(self, services: Services) -> None:
        """The services exist after the connectors that share these sessions; tie them together here."""
        self._services = services

    @property
    def services(self) -> Services:
        assert self._services is not None, "SmppWorker.bind(services) first"
        return self._services

    async def _inbound(self, message: InboundMessage) -> IntakeResult:
        return await receive_message(self.services, CONNECTOR, message, kind=ChannelKind.SMS)

    async def _status(self, update: DeliveryUpdate) -> int | None:
        return await record_delivery(self.services, update)

    async def refresh(self) -> None:
        async with self.services.uow(read_only=True) as uow:
            configs = [
                ChannelConfig(channel, open_secrets(self.services, await uow.channels.sealed_secrets(channel.id)))
                for channel in await uow.channels.list()
                if channel.kind is ChannelKind.SMS and channel.settings.get("provider") == "smpp"
            ]
        await self.sessions.sync(configs)

    async def start(self) -> None:
        await self.refresh()
        self._loop.start(self._keep_fresh)

    async def _keep_fresh(self) -> None:
        while self._loop.running:
            await self._loop.pause(self._refresh_seconds)
            if not self._loop.running:
                return
            try:
                await self.refresh()
            except Exception:
                log.exception("smpp.refresh_failed")

    async def stop(self) -> None:
        await self._loop.stop()
        await self.sessions.close_all()
