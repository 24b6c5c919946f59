"""Inbound mail: an SMTP server for the email channels' addresses, handing mail to the intake."""

from __future__ import annotations

from switchboard.adapters.email.channels import EmailChannels
from switchboard.adapters.email.inbound import EmailInbound
from switchboard.adapters.email.smtp_server import SmtpServer, SmtpServerSettings
from switchboard.adapters.files import LocalFileStore
from switchboard.application.context import Services


class MailWorker:
    def __init__(self, services: Services, host: str, port: int, files_dir: str) -> None:
        self._services = services
        self._host, self._port = host, port
        self._channels = EmailChannels(services.default_region)
        self._inbound = EmailInbound(
            services,
            LocalFileStore(files_dir),
            self._channels.channel_for,
            fax_gateway_for=self._channels.fax_gateway_for,
        )
        self.server: SmtpServer | None = None

    async def start(self) -> None:
        """Accepts mail for the addresses email channels have now (a new address needs a restart)."""
        async with self._services.uow(read_only=True) as uow:
            self._channels.load(await uow.channels.list())
        settings = SmtpServerSettings(host=self._host, port=self._port, accept_addresses=self._channels.addresses)
        self.server = SmtpServer(settings, self._inbound.on_message)
        await self.server.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
