"""SMPP sessions, one per SMPP channel, for a worker to run; replies go out and inbound comes in through them.

SMPP is one long-lived connection per account, not a webhook: whoever runs ``SmppSessions`` (one
process, the worker that also drains the outbound queue) keeps each SMPP channel bound, and hands
what the SMSC delivers to two callbacks: ``on_inbound(InboundMessage)`` for a customer's SMS and
``on_status(DeliveryUpdate)`` for a delivery receipt. A deliver_sm is answered only once its
callback returned, so what the callback could not keep is redelivered by the SMSC: an exception
answers ESME_RX_T_APPN (try again later), an ``InvalidInput`` ESME_RX_P_APPN (do not).

SMPP gives a mobile-originated SMS no message id, so inbound messages carry no external id: an SMSC
redelivering a deliver_sm whose answer it lost makes a second copy (rare; nothing is lost either way).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from switchboard.adapters.connectors.sms.encoding import describe, split_text
from switchboard.adapters.connectors.sms.phones import digits, recipient, sender
from switchboard.adapters.connectors.sms.smpp.assembly import LongMessages, PartsKey
from switchboard.adapters.connectors.sms.smpp.client import SmppClient, SmppUnavailable, SubmitRefused
from switchboard.adapters.connectors.sms.smpp.messages import read_text, submit_pdus
from switchboard.adapters.connectors.sms.smpp.pdu import DeliverSm, Status, Tag, status_name
from switchboard.adapters.connectors.sms.smpp.receipts import (
    PartReceipts,
    is_mobile_originated,
    is_receipt,
    read_receipt,
)
from switchboard.adapters.connectors.sms.smpp.settings import SmppSettings, smpp_settings
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.errors import InvalidInput
from switchboard.application.intake import InboundMessage
from switchboard.application.ports.connectors import ChannelConfig, OutboundMessage, Receipt, SendFailed
from switchboard.application.tasks import stop_task
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import DeliveryStatus
from switchboard.domain.source import Source

log = logging.getLogger("switchboard.sms.smpp")

InboundHandler = Callable[[InboundMessage], Awaitable[object]]
StatusHandler = Callable[[DeliveryUpdate], Awaitable[object]]

RETRYABLE = frozenset(
    {
        Status.RTHROTTLED,
        Status.RMSGQFUL,
        Status.RSYSERR,
        Status.RX_T_APPN,
        Status.RSUBMITFAIL,
        Status.RINVBNDSTS,
        Status.RUNKNOWNERR,
    }
)


@dataclass(frozen=True, slots=True)
class SessionHealth:
    bound: bool
    binds: int
    last_error: str | None


class SmppSession:
    """One SMPP channel: its client, the receipts of its long replies, the parts of long inbound SMS."""

    def __init__(
        self, config: ChannelConfig, settings: SmppSettings, on_inbound: InboundHandler, on_status: StatusHandler
    ) -> None:
        self.config = config
        self.settings = settings
        self.client = SmppClient(settings, self._deliver, name=f"channel {config.id}")
        self.receipts = PartReceipts()
        self.long_messages = LongMessages(settings.part_timeout)
        self._on_inbound = on_inbound
        self._on_status = on_status
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def channel_id(self) -> int:
        return self.config.id

    def start(self) -> None:
        self.client.start()
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(), name=f"smpp-parts:{self.channel_id}")

    async def close(self) -> None:
        if self._sweeper is not None:
            await stop_task(self._sweeper)
        await self.client.close()

    def health(self) -> SessionHealth:
        return SessionHealth(self.client.bound, self.client.binds, self.client.last_error)

    # --- out --------------------------------------------------------------------------------

    async def submit(self, message: OutboundMessage) -> Receipt:
        """Submit every part of one reply; the first part's SMSC id is the message's external id."""
        segments = split_text(message.body)
        if segments.count > self.settings.max_parts:
            raise SendFailed(
                f"smpp: the reply would be {describe(segments)}; this channel sends at most {self.settings.max_parts}",
                retryable=False,
            )
        bodies = submit_pdus(self.settings, digits(recipient(message)), segments, message.message_id)
        ids: list[str] = []
        for body in bodies:
            try:
                ids.append(await self.client.submit(body))
            except SmppUnavailable as error:
                raise SendFailed(f"{error}{_progress(ids, bodies)}", retryable=True) from error
            except SubmitRefused as error:
                reason = f"smpp: the SMSC refused submit_sm: {status_name(error.status)}{_progress(ids, bodies)}"
                retry = self.settings.throttle_pause if error.status in (Status.RTHROTTLED, Status.RMSGQFUL) else None
                raise SendFailed(reason, retryable=error.status in RETRYABLE, retry_after=retry) from error
        return Receipt(self.receipts.sent(ids), DeliveryStatus.SENT)

    # --- in ---------------------------------------------------------------------------------

    async def _deliver(self, sm: DeliverSm) -> Status:
        if is_receipt(sm.esm_class):
            return await self._receipt(sm)
        if not is_mobile_originated(sm.esm_class):
            log.info("smpp channel %d: deliver_sm with esm_class 0x%02x ignored", self.channel_id, sm.esm_class)
            return Status.ROK
        return await self._mobile_originated(sm)

    async def _receipt(self, sm: DeliverSm) -> Status:
        # the receipt's fields are ASCII whatever data_coding says; its text: tail may be anything
        text = (sm.short_message or sm.tlv(Tag.MESSAGE_PAYLOAD) or b"").decode("latin-1")
        try:
            receipt = read_receipt(sm, text)
        except ValueError as error:
            log.warning("smpp channel %d: unreadable delivery receipt: %s", self.channel_id, error)
            return Status.RX_P_APPN
        outcome = self.receipts.received(receipt)
        if outcome is not None:
            await self._on_status(DeliveryUpdate(self.channel_id, outcome.external_id, outcome.status, outcome.error))
        return Status.ROK

    async def _mobile_originated(self, sm: DeliverSm) -> Status:
        try:
            part, text = read_text(sm)
        except ValueError as error:
            log.warning("smpp channel %d: unreadable SMS from %s: %s", self.channel_id, sm.source_addr, error)
            return Status.RX_P_APPN
        if part is None:
            return await self._take_in(sm.source_addr, sm.destination_addr, text, None)
        key: PartsKey = (sm.source_addr, sm.destination_addr, part.reference, part.total)
        whole = self.long_messages.add(key, part.number, text, asyncio.get_running_loop().time())
        if whole is None:
            return Status.ROK
        return await self._take_in(sm.source_addr, sm.destination_addr, whole, key)

    async def _take_in(self, source: str, destination: str, text: str, key: PartsKey | None) -> Status:
        message = InboundMessage(
            channel_id=self.channel_id,
            sender=sender(source, self.settings.national_region),
            body=text,
            source=Source(dialled_number=destination or None),
        )
        try:
            await self._on_inbound(message)
        except InvalidInput as error:
            log.warning("smpp channel %d: SMS from %s refused: %s", self.channel_id, source, error.detail)
            status = Status.RX_P_APPN
        else:
            status = Status.ROK
        if key is not None:
            self.long_messages.done(key)
        return status

    async def _sweep(self) -> None:
        """Let out long inbound SMS whose missing parts waited too long."""
        every = min(self.settings.part_timeout, 30.0)
        while True:
            await asyncio.sleep(every)
            for key, text in self.long_messages.overdue(asyncio.get_running_loop().time()):
                try:
                    await self._take_in(key[0], key[1], text, key)
                except Exception:
                    log.exception("smpp channel %d: an incomplete long SMS was not taken in", self.channel_id)


def _progress(ids: list[str], bodies: Sequence[object]) -> str:
    if len(bodies) == 1:
        return ""
    return f" (after {len(ids)} of {len(bodies)} parts were accepted; a retry sends every part again)"


class SmppSessions:
    """The SMPP channels' sessions in this process, opened and closed as the channels come and go."""

    def __init__(self, on_inbound: InboundHandler, on_status: StatusHandler) -> None:
        self._on_inbound = on_inbound
        self._on_status = on_status
        self._sessions: dict[int, SmppSession] = {}

    def get(self, channel_id: int) -> SmppSession | None:
        return self._sessions.get(channel_id)

    def __len__(self) -> int:
        return len(self._sessions)

    async def open(self, config: ChannelConfig) -> SmppSession:
        """Start the channel's session, or restart it when its settings or password changed."""
        settings = smpp_settings(config.settings, config.secrets)
        running = self._sessions.get(config.id)
        if running is not None and running.settings == settings:
            running.config = config
            return running
        if running is not None:
            await self.close(config.id)
        session = SmppSession(config, settings, self._on_inbound, self._on_status)
        self._sessions[config.id] = session
        session.start()
        return session

    async def sync(self, configs: Iterable[ChannelConfig]) -> None:
        """Keep exactly the active SMPP channels among ``configs`` bound (call at start and when channels change)."""
        wanted = [
            config
            for config in configs
            if config.channel.kind is ChannelKind.SMS
            and config.channel.active
            and config.settings.get("provider") == "smpp"
        ]
        for channel_id in set(self._sessions) - {config.id for config in wanted}:
            await self.close(channel_id)
        for config in wanted:
            try:
                await self.open(config)
            except InvalidInput as error:
                log.warning("smpp channel %d: not started: %s", config.id, error.detail)

    async def close(self, channel_id: int) -> None:
        session = self._sessions.pop(channel_id, None)
        if session is not None:
            await session.close()

    async def close_all(self) -> None:
        for channel_id in list(self._sessions):
            await self.close(channel_id)

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        session = self._sessions.get(config.id)
        if session is None:
            raise SendFailed(f"smpp: no session runs for channel {config.id} in this process", retryable=True)
        return await session.submit(message)

    def health(self, channel_id: int) -> SessionHealth | None:
        session = self._sessions.get(channel_id)
        return None if session is None else session.health()
