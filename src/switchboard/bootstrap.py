"""Wires one configuration: embedded (SQLite + in-process bus) or scaled (PostgreSQL + RabbitMQ)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from switchboard.adapters.bus import bus_from_url
from switchboard.adapters.bus.memory import InMemoryBus
from switchboard.adapters.clock import SystemClock
from switchboard.adapters.connectors.api import ApiConnector
from switchboard.adapters.connectors.meta.instagram import InstagramConnector
from switchboard.adapters.connectors.meta.messenger import MessengerConnector
from switchboard.adapters.connectors.meta.whatsapp import WhatsAppConnector
from switchboard.adapters.connectors.sms.connector import SmsConnector
from switchboard.adapters.connectors.sms.smpp.sessions import SmppSessions
from switchboard.adapters.connectors.telegram import TelegramConnector
from switchboard.adapters.connectors.vk import VkConnector
from switchboard.adapters.connectors.yandex import YandexConnector
from switchboard.adapters.email.connector import EmailConnector, FaxConnector
from switchboard.adapters.email.threads import reply_secret
from switchboard.adapters.files import LocalFileStore
from switchboard.adapters.security.passwords import Argon2Hasher
from switchboard.adapters.security.secrets import FernetSecretBox
from switchboard.adapters.security.sessions import JwtSigner
from switchboard.adapters.storage.database import Database
from switchboard.adapters.storage.leader import POLLING_LOCK, LeaderLock
from switchboard.adapters.storage.migrate import upgrade
from switchboard.adapters.storage.outbox import SqlInbox, SqlOutboxStore
from switchboard.adapters.storage.uow import SqlUnitOfWorkFactory
from switchboard.adapters.telephony.http_originator import HttpOriginator
from switchboard.application.context import Services
from switchboard.application.ports.bus import Bus
from switchboard.application.ports.clock import Clock
from switchboard.application.ports.connectors import ConnectorRegistry
from switchboard.application.ports.files import FileStore
from switchboard.application.routing.router import Router, RoutingElsewhere, engine_settings
from switchboard.application.tasks import within
from switchboard.application.voice import CallControl
from switchboard.config import Settings
from switchboard.workers.agi import AgiWorker
from switchboard.workers.ami import AmiWorker
from switchboard.workers.delivery import DeliveryWorker
from switchboard.workers.mail import MailWorker
from switchboard.workers.polling import PollingWorker
from switchboard.workers.relay import OutboxRelay
from switchboard.workers.routing import RoutingWorker
from switchboard.workers.smpp import SmppWorker
from switchboard.workers.voice import RouterPositions, VoiceWorker


@dataclass
class Container:
    settings: Settings
    database: Database
    bus: Bus
    services: Services
    outbox: SqlOutboxStore
    inbox: SqlInbox
    relay: OutboxRelay
    routing: RoutingWorker
    delivery: DeliveryWorker
    smpp: SmppWorker
    voice: VoiceWorker
    polling: PollingWorker | None = None
    mail: MailWorker | None = None
    agi: AgiWorker | None = None
    ami: AmiWorker | None = None
    stopped: bool = False

    async def start(self, *, migrate: bool = False) -> None:
        if migrate:
            await upgrade(self.database)
        await self.bus.start()
        if self.mail is not None:
            await self.mail.start()
        if self.settings.routing:
            await self.routing.start()
        elif not isinstance(self.bus, InMemoryBus):
            # routing's queue keeps its events for the process that leads routing; an in-process bus
            # has no such other process, and a router started later rebuilds from the database
            await self.routing.declare()
        await self.voice.start()
        for asterisk in (self.ami, self.agi):
            if asterisk is not None:
                await asterisk.start()
        self.relay.start()
        if self.settings.delivery:
            await self.smpp.start()
            await self.delivery.start()
            if self.polling is not None:
                await self.polling.start()

    @property
    def call_control(self) -> CallControl:
        return self.voice.control

    async def queue_position(self, conversation_id: int) -> tuple[int, float | None] | None:
        """Asked of the engine; only the process leading routing has it (RoutingElsewhere otherwise)."""
        if not self.routing.leading:
            raise RoutingElsewhere("this process does not lead routing")
        return await self.routing.router.position(conversation_id)

    async def stop(self, *, drain_seconds: float = 10.0, step_seconds: float = 30.0) -> int:
        """Graceful: drain the outbox, then stop; returns how many events stayed unsent (-1: the drain
        itself was stuck). Idempotent.

        Each step gets ``step_seconds`` (the drain its own ``drain_seconds`` on top): a step stuck past
        it is logged and left behind, so a shutdown always ends and the steps after it still run."""
        if self.stopped:
            return 0
        self.stopped = True
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = []
        if self.mail is not None:
            steps.append(("mail", self.mail.stop))
        if self.polling is not None:
            steps.append(("polling", self.polling.stop))
        steps += [("delivery", self.delivery.stop), ("smpp", self.smpp.stop)]
        steps += [(name, worker.stop) for name, worker in (("agi", self.agi), ("ami", self.ami)) if worker is not None]
        steps += [("voice", self.voice.stop), ("routing", self.routing.stop), ("relay", self.relay.stop)]
        for name, step in steps:
            await _bounded(name, step(), step_seconds)
        left = await _bounded("drain", self.relay.drain(drain_seconds), drain_seconds + step_seconds)
        for name, step in (
            ("bus", self.bus.close),
            ("connectors", self.services.connectors.close),
            ("database", self.database.dispose),
        ):
            await _bounded(name, step(), step_seconds)
        return -1 if left is None else left


T = TypeVar("T")
log = logging.getLogger("switchboard.shutdown")


async def _bounded(step: str, awaitable: Awaitable[T], seconds: float) -> T | None:
    try:
        return await within(seconds, awaitable)
    except TimeoutError:
        log.error("shutdown.step_stuck", extra={"step": step, "seconds": seconds})
        return None


def build(settings: Settings, *, clock: Clock | None = None, fast_hashing: bool = False) -> Container:
    clock = clock or SystemClock()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    bus = bus_from_url(settings.bus_url, namespace=settings.bus_namespace)
    smpp = SmppWorker()
    services = Services(
        uow=SqlUnitOfWorkFactory(database),
        clock=clock,
        hasher=Argon2Hasher(fast=fast_hashing),
        signer=JwtSigner(settings.secret_key, lifetime=timedelta(hours=settings.session_hours)),
        default_region=settings.default_region,
        custom_statuses=tuple(sorted(settings.custom_statuses.items())),
        secret_box=FernetSecretBox(settings.secret_key),
        connectors=connectors(
            LocalFileStore(settings.files_dir), clock, smpp.sessions, reply_secret=reply_secret(settings.secret_key)
        ),
    )
    outbox = SqlOutboxStore(database)
    relay = OutboxRelay(outbox, bus, clock)
    database.on_commit(relay.wake)
    routing = RoutingWorker(Router(services, engine_settings(services)), bus, LeaderLock(database))
    control = CallControl(services, RouterPositions(routing), HttpOriginator(clock))
    voice = VoiceWorker(control, bus, SqlInbox(database), clock, sweep_seconds=settings.voice_sweep_seconds)
    mail = (
        MailWorker(
            services,
            settings.smtp_host,
            settings.smtp_port,
            settings.files_dir,
            reply_secret=reply_secret(settings.secret_key),
        )
        if settings.mail
        else None
    )
    smpp.bind(services)
    inbox = SqlInbox(database)
    delivery = DeliveryWorker(services, bus, inbox)
    ami = AmiWorker(control, settings.ami_url, recordings_url=settings.ami_recordings_url) if settings.ami_url else None
    control.originator = ami.originator if ami is not None else control.originator
    agi = (
        AgiWorker(control, settings.agi_host, settings.agi_port, report_dial_events=ami is None)
        if settings.agi_port
        else None
    )
    polling = PollingWorker(services, LeaderLock(database, POLLING_LOCK))
    return Container(
        settings, database, bus, services, outbox, inbox, relay, routing, delivery, smpp, voice, polling, mail, agi, ami
    )


def connectors(
    files: FileStore, clock: Clock, smpp: SmppSessions | None = None, *, reply_secret: bytes | None = None
) -> ConnectorRegistry:
    """Every medium's connector, by channel kind; ``reply_secret`` signs email reply tokens."""
    return ConnectorRegistry(
        [
            ApiConnector(),
            EmailConnector(files, reply_secret),
            FaxConnector(files),
            WhatsAppConnector(files),
            MessengerConnector(files, clock=clock),
            InstagramConnector(files, clock=clock),
            TelegramConnector(files),
            VkConnector(files),
            YandexConnector(files),
            SmsConnector(smpp),
        ]
    )
