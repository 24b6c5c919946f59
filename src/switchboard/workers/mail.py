"""Inbound mail: an SMTP server for the email and fax channels' addresses, and an IMAP poller per mailbox.

Both hand each mail to ``EmailInbound`` before they acknowledge it (250 to the sender, \\Seen on the
server), so a failure means the mail comes again and nothing is lost. Pollers follow the channels:
a channel whose ``settings.imap`` appears, changes or goes away gets its poller started, restarted
or stopped at the next refresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from switchboard.adapters.email.channels import MAILED_KINDS, EmailChannels
from switchboard.adapters.email.imap_poller import ImapPoller, ImapSettings, ImapTls
from switchboard.adapters.email.inbound import EmailInbound
from switchboard.adapters.email.smtp_server import SmtpServer, SmtpServerSettings
from switchboard.adapters.files import LocalFileStore
from switchboard.application.channels import open_secrets
from switchboard.application.context import Services
from switchboard.application.tasks import Loop, within
from switchboard.domain.channels import Channel

log = logging.getLogger("switchboard.mail")


def imap_settings(channel: Channel, secrets: Mapping[str, str]) -> ImapSettings | None:
    """The poller's settings from ``settings.imap`` and the secret ``imap_password``; None when not polled."""
    imap: Any = channel.settings.get("imap")
    if not isinstance(imap, dict) or not imap.get("host") or not channel.active:
        return None
    addresses = channel.settings.get("addresses") or [None]
    return ImapSettings(
        host=str(imap["host"]),
        username=str(imap.get("username", "")),
        password=secrets.get("imap_password", ""),
        port=int(imap.get("port", 993)),
        tls=ImapTls(imap.get("tls", "tls")),
        mailbox=str(imap.get("mailbox", "INBOX")),
        address=addresses[0],
        use_idle=bool(imap.get("idle", True)),
        poll_interval_seconds=float(imap.get("poll_interval_seconds", 60.0)),
    )


class MailWorker:
    def __init__(
        self,
        services: Services,
        host: str,
        port: int,
        files_dir: str,
        *,
        refresh_seconds: float = 30.0,
        reply_secret: bytes | None = None,
    ) -> None:
        self._services = services
        self._host, self._port = host, port
        self._channels = EmailChannels(services.default_region, reply_secret)
        self._inbound = EmailInbound(
            services,
            LocalFileStore(files_dir),
            self._channels.channel_for,
            fax_gateway_for=self._channels.fax_gateway_for,
            tokens_for=self._channels.tokens_for,
        )
        self._refresh_seconds = refresh_seconds
        self.server: SmtpServer | None = None
        self.pollers: dict[int, tuple[ImapSettings, ImapPoller, asyncio.Task[None]]] = {}
        self._loop = Loop("mail-refresh")

    async def start(self) -> None:
        """The SMTP server accepts mail for the addresses channels have now (a new address needs a restart)."""
        await self.refresh()
        if self._port:
            settings = SmtpServerSettings(host=self._host, port=self._port, accept_addresses=self._channels.addresses)
            self.server = SmtpServer(settings, self._inbound.on_message)
            await self.server.start()
        self._loop.start(self._keep_fresh)

    async def refresh(self) -> None:
        """Reload the channels: their addresses, fax gateways and IMAP mailboxes."""
        async with self._services.uow(read_only=True) as uow:
            channels = await uow.channels.list()
            wanted: dict[int, ImapSettings] = {}
            for channel in channels:
                if channel.kind in MAILED_KINDS and "imap" in channel.settings:
                    secrets = open_secrets(self._services, await uow.channels.sealed_secrets(channel.id))
                    if (settings := imap_settings(channel, secrets)) is not None:
                        wanted[channel.id] = settings
        self._channels.load(channels)
        for channel_id in [c for c, (s, _, _) in self.pollers.items() if wanted.get(c) != s]:
            await self._stop_poller(channel_id)
        for channel_id, settings in wanted.items():
            if channel_id not in self.pollers:
                poller = ImapPoller(settings, self._inbound.on_message)
                task = asyncio.create_task(poller.run(), name=f"imap-{channel_id}")
                self.pollers[channel_id] = (settings, poller, task)

    async def _keep_fresh(self) -> None:
        while self._loop.running:
            await self._loop.pause(self._refresh_seconds)
            if not self._loop.running:
                return
            try:
                await self.refresh()
            except Exception:
                log.exception("mail.refresh_failed")

    async def _stop_poller(self, channel_id: int) -> None:
        _, poller, task = self.pollers.pop(channel_id)
        poller.stop()
        try:
            await within(5.0, task)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()

    async def stop(self) -> None:
        await self._loop.stop()
        for channel_id in list(self.pollers):
            await self._stop_poller(channel_id)
        if self.server is not None:
            await self.server.stop()
            self.server = None
