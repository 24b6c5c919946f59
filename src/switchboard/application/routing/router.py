"""The router: one engine per process that leads routing, fed in order by committed events.

Every input is an event that is already committed (an accept, a status change, a new
conversation), so the engine only ever learns facts. Its decisions are written in one unit of
work per input; when the database has moved on (``Stale``), the engine is rebuilt from it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from switchboard.application.context import Services
from switchboard.application.ports.bus import Envelope
from switchboard.application.ports.storage import UnitOfWork
from switchboard.application.routing.apply import Applier, Stale
from switchboard.application.routing.rebuild import rebuild, required_skills
from switchboard.domain.channels import ChannelKind, media_of
from switchboard.domain.conversation import ConversationStatus
from switchboard.domain.line_settings import dnis_priority
from switchboard.domain.routing import EngineSettings, RoutingEngine
from switchboard.domain.routing import events as e
from switchboard.domain.routing.config import LineConfig
from switchboard.domain.routing.decisions import Decision, KeepWaiting
from switchboard.domain.routing.model import CustomStatus, Effect

log = logging.getLogger("switchboard.routing")
S = ConversationStatus

TOPICS = (
    "ConversationOpened",
    "ConversationReopened",
    "MessageReceived",
    "ReplyQueued",
    "ConversationClosed",
    "ConversationAssigned",
    "OfferAccepted",
    "OfferDeclined",
    "ConversationPicked",
    "ConversationTransferred",
    "OperatorStatusChanged",
    "LineChanged",
    "OperatorChanged",
    "OfferUnanswered",
)
REBUILD = ("LineChanged", "OperatorChanged")
REBUILD_ATTEMPTS = 3
Translated = list[Any] | None


class RoutingElsewhere(Exception):
    """Another process leads routing; ask again (a load balancer will land on it eventually)."""


class Router:
    def __init__(self, services: Services, settings: EngineSettings | None = None) -> None:
        self.services = services
        self.settings = settings
        self.engine: RoutingEngine | None = None
        self.lines: dict[str, LineConfig] = {}
        self.rebuilds = 0
        self.rebuilding: Callable[[], Awaitable[None]] | None = None  # seam: runs before each rebuild reads
        self._lock = asyncio.Lock()

    def _now(self) -> datetime:
        return self.services.clock.now()

    async def start(self) -> None:
        async with self._lock:
            await self._rebuild()

    async def _rebuild(self) -> None:
        """Engine from the database, offer what waits to whoever is free, then admit what is still new.

        The database may be ahead of the events: a conversation committed while the engine is rebuilt
        is read here before its opening event arrives. It is still ``new`` (admission is what queues
        it), so it is admitted here, and its event, arriving later, finds it admitted and does nothing.
        A decision that meets a database already moved on leaves no half-known engine: it is built again.
        """
        for attempt in range(1, REBUILD_ATTEMPTS + 1):
            self.engine = None
            if self.rebuilding is not None:
                await self.rebuilding()
            now = self._now()
            async with self.services.uow(read_only=True) as uow:
                built = await rebuild(uow, now, self.settings)
            self.lines = {c.line_id: c for c in built.lines}
            self.rebuilds += 1
            try:
                await self._write(built.engine.resume(now.timestamp()), now)
                for conversation_id in built.unadmitted:
                    await self._admit(built.engine, conversation_id, now)
            except Stale as stale:
                log.info("routing rebuilt again (attempt %s): %s", attempt, stale)
                continue
            self.engine = built.engine
            return
        raise Stale(f"routing could not settle after {REBUILD_ATTEMPTS} rebuilds")

    async def _admit(self, engine: RoutingEngine, conversation_id: int, now: datetime) -> None:
        """A conversation the database has and the engine has not seen: queue it as its event would."""
        async with self.services.uow() as uow:
            current = await uow.routing.conversation(conversation_id)
            new = current is not None and current.queued_at is None  # never queued before: not a reopened one
            queued = await self._queued(uow, conversation_id, now, new=new)
            if queued is not None:
                await self._apply_all(uow, engine.handle(queued), now, admitted=(queued,))
            await uow.commit()

    async def handle(self, envelope: Envelope) -> None:
        """One committed event in; its reads, the engine's decisions and their writes in one unit of work."""
        async with self._lock:
            if self.engine is None or envelope.name in REBUILD or _by_hand(envelope):
                await self._rebuild()
                if envelope.name in REBUILD or _by_hand(envelope):
                    return
            engine, now = self.engine, self._now()
            assert engine is not None
            try:
                simple = _simple(envelope, now.timestamp())
                if simple is not None:  # nothing to read: a unit of work only when there is something to write
                    await self._write([d for event in simple for d in engine.handle(event)], now)
                    return
                async with self.services.uow() as uow:
                    inputs = await self._translate(uow, envelope, now)
                    if inputs:
                        decisions = [d for event in inputs for d in engine.handle(event)]
                        await self._apply_all(uow, decisions, now, admitted=inputs)
                    await uow.commit()
            except Stale as stale:
                log.info("routing rebuilt: %s", stale)
                await self._rebuild()
            except Exception:
                # nothing was written, but the engine moved: forget it, and let the bus deliver again
                self.engine = None
                raise

    async def position(self, conversation_id: int) -> tuple[int, float | None] | None:
        """Place in the queue (1 = next) and estimated wait; None when the conversation is not waiting."""
        async with self._lock:
            if self.engine is None:
                await self._rebuild()
            assert self.engine is not None
            for decision in self.engine.handle(e.PositionRequested(self._now().timestamp(), str(conversation_id))):
                if isinstance(decision, KeepWaiting):
                    return decision.position, decision.estimated_wait_s
            return None

    async def fire_due(self) -> int:
        """Fire every durable timer that is due; each fires once, in the same unit of work as its effects."""
        fired = 0
        async with self._lock:
            if self.engine is None:
                await self._rebuild()
            now = self._now()
            async with self.services.uow(read_only=True) as uow:
                due = await uow.routing.due_timers(now, 500)
            for key, _ in due:
                fired += await self._fire(key, now)
        return fired

    async def _fire(self, key: str, now: datetime) -> int:
        assert self.engine is not None
        decisions = self.engine.handle(e.TimerFired(now.timestamp(), key))
        try:
            async with self.services.uow() as uow:
                if not await uow.routing.claim_timer(key):
                    raise Stale(f"timer {key} was already fired")
                await self._apply_all(uow, decisions, now)
                await uow.commit()
        except Stale as stale:
            log.info("routing rebuilt: %s", stale)
            await self._rebuild()
            return 0
        except Exception:
            self.engine = None  # the timer is still in the table; it fires again after a rebuild
            raise
        return 1

    async def _write(self, decisions: list[Decision], now: datetime) -> None:
        if not decisions:
            return
        async with self.services.uow() as uow:
            await self._apply_all(uow, decisions, now)
            await uow.commit()

    async def _apply_all(
        self, uow: UnitOfWork, decisions: list[Decision], now: datetime, admitted: Sequence[object] = ()
    ) -> None:
        """``admitted``: the engine inputs of this unit of work; the conversations they queued are already queued."""
        queued = {int(i.conversation_id) for i in admitted if isinstance(i, e.ConversationQueued)}
        applier = Applier(uow, now, self.lines, just_queued=queued)
        for decision in decisions:
            await applier.apply(decision)

    async def _translate(self, uow: UnitOfWork, envelope: Envelope, now: datetime) -> Translated:
        """The engine's inputs for an event that needs the database's view first."""
        p, name = envelope.payload, envelope.name
        if name in ("ConversationOpened", "ConversationReopened"):
            queued = await self._queued(uow, int(p["conversation_id"]), now, new=name == "ConversationOpened")
            return [queued] if queued else None
        if name == "OfferUnanswered":  # a phone rang out: expire the offer, unless it moved on meanwhile
            ringing = await uow.routing.open_offers(conversation_id=p["conversation_id"], operator_id=p["operator_id"])
            return [e.OfferExpired(now.timestamp(), str(p["conversation_id"]))] if ringing else None
        return None

    async def _queued(self, uow: UnitOfWork, conversation_id: int, now: datetime, *, new: bool) -> Any:
        """Admission, once: only a ``new`` conversation is admitted, and queuing it is the claim."""
        c = await uow.routing.conversation(conversation_id)
        if c is None or c.status is not S.NEW:
            return None  # admitted already (by a rebuild that read it before this event came), or gone
        if not await uow.routing.move(conversation_id, (S.NEW,), S.QUEUED, now, fresh_queue=True):
            return None
        seen_before, last_operator = await uow.routing.history(c.contact_id, c.line_id, c.id)
        channel, line = await self._catalog(uow, c.channel_id, c.line_id, now)
        return e.ConversationQueued(
            at=now.timestamp(),
            conversation_id=str(c.id),
            line_id=str(c.line_id),
            media=media_of(ChannelKind(c.channel_kind)).value,
            contact_id=str(c.contact_id),
            contact_name=c.contact_name,
            vip=c.vip,
            dnis_priority=dnis_priority(line.routing if line else {}, c.dialled_number),
            last_operator_id=_opt(c.assignee_id or last_operator),
            responsible_operator_id=_opt(c.responsible_operator_id),
            skills=required_skills(channel.settings if channel else {}),
            first_contact_ever=not seen_before,
            new_conversation=new,
        )

    async def _catalog(self, uow: UnitOfWork, channel_id: int, line_id: int, now: datetime) -> tuple[Any, Any]:
        """The channel and the conversation's line: the process's catalog cache (as intake), else the database."""
        route = await self.services.catalog.route(uow, channel_id, now)
        channel, line = route if route is not None else (None, None)
        if line is None or line.id != line_id:  # moved to another line than its channel's
            line = await uow.lines.get(line_id)
        return channel, line


def _simple(envelope: Envelope, at: float) -> Translated:
    """The engine's inputs for an event that carries all it needs; None when the database must be read."""
    p, name = envelope.payload, envelope.name
    if name == "OperatorStatusChanged":
        return [] if p.get("by_engine") else [_presence(p, at)]
    if name not in _SIMPLE:
        return None
    return [_SIMPLE[name](p, at)]


_SIMPLE: dict[str, Callable[[dict[str, Any], float], Any]] = {
    "MessageReceived": lambda p, at: e.CustomerMessaged(at, str(p["conversation_id"])),
    "ReplyQueued": lambda p, at: e.OperatorReplied(at, str(p["conversation_id"])),
    "ConversationClosed": lambda p, at: e.ConversationClosed(at, str(p["conversation_id"])),
    "OfferAccepted": lambda p, at: e.OfferAccepted(at, str(p["conversation_id"]), str(p["operator_id"])),
    "OfferDeclined": lambda p, at: e.OfferDeclined(at, str(p["conversation_id"]), str(p["operator_id"])),
    "ConversationPicked": lambda p, at: e.ConversationPicked(at, str(p["conversation_id"]), str(p["operator_id"])),
    "ConversationTransferred": lambda p, at: e.ConversationTransferred(
        at,
        str(p["conversation_id"]),
        _opt(p.get("to_operator_id")),
        _opt(p.get("to_line_id")),
        str(p.get("note") or ""),
    ),
}


def engine_settings(services: Services) -> EngineSettings:
    """The engine's deployment-wide settings: admin-defined statuses with their effect."""
    return EngineSettings(custom_statuses=tuple(CustomStatus(n, Effect(e)) for n, e in services.custom_statuses))


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _by_hand(envelope: Envelope) -> bool:
    """A supervisor's assignment: the engine has no such event, so it relearns from the database."""
    return envelope.name == "ConversationAssigned" and envelope.payload.get("by_user_id") is not None


def _presence(p: dict[str, Any], at: float) -> Any:
    operator = str(p["operator_id"])
    if p["logged_in"] and not p["was_logged_in"]:
        return e.OperatorLoggedIn(at, operator, status=str(p["status"]))
    if not p["logged_in"] and p["was_logged_in"]:
        return e.OperatorLoggedOut(at, operator)
    return e.OperatorStatusChanged(at, operator, str(p["status"]), str(p.get("reason") or ""))
