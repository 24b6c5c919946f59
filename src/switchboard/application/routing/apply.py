"""Writing the engine's decisions: each guarded by the state it expects, in the caller's unit of work.

A guard that fails means the database moved on since the engine decided (an accept committed
by the API, a close by an operator); ``Stale`` is raised and the router rebuilds the engine
from the database, which is the truth.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from switchboard.application.ports.storage import NewMessage, UnitOfWork
from switchboard.domain.conversation import AuthorKind, ConversationStatus, DeliveryStatus, Direction
from switchboard.domain.events import (
    AutomaticMessageQueued,
    CallbackRequested,
    ConversationAssigned,
    ConversationClosed,
    ConversationMoved,
    ConversationQueued,
    OfferMade,
    OfferMissed,
    OffersWithdrawn,
    OperatorStatusChanged,
)
from switchboard.domain.routing import decisions as d
from switchboard.domain.routing.automatic import message_text
from switchboard.domain.routing.config import LineConfig
from switchboard.domain.timeline import summarize

log = logging.getLogger("switchboard.routing")
S = ConversationStatus
WAITING_STATES = (S.NEW, S.QUEUED, S.OFFERED)


class Stale(Exception):
    """A decision met a database that had already changed."""


def instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Applier:
    def __init__(
        self, uow: UnitOfWork, now: datetime, lines: dict[str, LineConfig], just_queued: set[int] | None = None
    ) -> None:
        self.uow, self.now, self.lines = uow, now, lines
        # conversations this unit of work has just queued (admission), untouched by a decision since
        self.just_queued = just_queued if just_queued is not None else set()

    async def apply(self, decision: d.Decision) -> None:
        if not isinstance(decision, d.KeepWaiting) and (named := getattr(decision, "conversation_id", None)):
            self.just_queued.discard(int(named))
        handler = getattr(self, f"_{type(decision).__name__}", None)
        if handler is None:
            log.debug("routing decision without effect: %s", decision)
            return
        await handler(decision)

    async def _closed_meanwhile(self, conversation: int) -> bool:
        """Closed after the engine decided: its ConversationClosed event follows and settles the engine, no rebuild."""
        current = await self.uow.routing.conversation(conversation)
        return current is not None and current.status is S.CLOSED

    async def _Offer(self, x: d.Offer) -> None:
        conversation = int(x.conversation_id)
        if not await self.uow.routing.move(conversation, WAITING_STATES, S.OFFERED, self.now):
            if await self._closed_meanwhile(conversation):
                return
            raise Stale(f"conversation {conversation} is no longer waiting")
        operators = [int(o) for o in x.operator_ids]
        deadline = instant(x.deadline)
        await self.uow.routing.add_offers(conversation, int(x.line_id), operators, self.now, deadline)
        self.uow.emit(OfferMade(conversation, int(x.line_id), tuple(operators), deadline.isoformat()), self.now)

    async def _Assign(self, x: d.Assign) -> None:
        conversation, operator = int(x.conversation_id), int(x.operator_id)
        current = await self.uow.routing.conversation(conversation)
        if current is not None and current.status is S.ASSIGNED and current.assignee_id == operator:
            return  # already written by the accept that caused it
        if current is not None and current.status is S.CLOSED:
            return  # accepted and closed before the engine heard of the accept; the close event follows
        if not await self.uow.routing.move(conversation, WAITING_STATES, S.ASSIGNED, self.now, assignee_id=operator):
            raise Stale(f"conversation {conversation} cannot be assigned now")
        await self.uow.routing.settle_offers(conversation, [operator], "accepted", self.now)
        self.uow.emit(ConversationAssigned(conversation, operator, None, None), self.now)

    async def _WithdrawOffers(self, x: d.WithdrawOffers) -> None:
        conversation = int(x.conversation_id)
        state = "expired" if x.reason == "expired" else "withdrawn"
        settled = await self.uow.routing.settle_offers(conversation, [int(o) for o in x.operator_ids], state, self.now)
        if settled:
            self.uow.emit(OffersWithdrawn(conversation, tuple(settled), x.reason), self.now)
        current = await self.uow.routing.conversation(conversation)
        if (
            current is not None
            and current.status is S.OFFERED
            and not await self.uow.routing.open_offers(conversation_id=conversation)
        ):
            await self.uow.routing.move(conversation, (S.OFFERED,), S.QUEUED, self.now)

    async def _KeepWaiting(self, x: d.KeepWaiting) -> None:
        conversation = int(x.conversation_id)
        if conversation in self.just_queued:  # admitted in this unit of work: queued already
            self.just_queued.discard(conversation)
        else:
            await self.uow.routing.move(conversation, (S.NEW, S.OFFERED), S.QUEUED, self.now)
        self.uow.emit(ConversationQueued(conversation, int(x.line_id), x.position, x.estimated_wait_s), self.now)

    async def _MoveToLine(self, x: d.MoveToLine) -> None:
        conversation = int(x.conversation_id)
        moved = await self.uow.routing.move(
            conversation, (*WAITING_STATES, S.ASSIGNED, S.WAITING), S.QUEUED, self.now, line_id=int(x.to_line_id)
        )
        if not moved:
            raise Stale(f"conversation {conversation} cannot move lines now")
        await self.uow.routing.settle_offers(conversation, None, "withdrawn", self.now)
        self.uow.emit(ConversationMoved(conversation, int(x.from_line_id), int(x.to_line_id), x.reason), self.now)

    async def _RequestCallback(self, x: d.RequestCallback) -> None:
        conversation = int(x.conversation_id)
        current = await self.uow.routing.conversation(conversation)
        if current is not None:
            await self.uow.timeline.add(
                current.contact_id,
                "callback_requested",
                conversation,
                self.now,
                f"callback requested: {x.reason}",
                conversation,
                current.channel_kind,
            )
        self.uow.emit(CallbackRequested(conversation, int(x.line_id), int(x.contact_id or 0), x.reason), self.now)

    async def _Refuse(self, x: d.Refuse) -> None:
        await self._send_template(x.conversation_id, x.line_id, x.template_key, {}, "")
        await self._close(int(x.conversation_id), x.reason)

    async def _CloseConversation(self, x: d.CloseConversation) -> None:
        await self._close(int(x.conversation_id), x.reason)

    async def _SendAutomaticMessage(self, x: d.SendAutomaticMessage) -> None:
        await self._send_template(x.conversation_id, x.line_id, x.template_key, dict(x.variables), x.language)

    async def _ScheduleTimer(self, x: d.ScheduleTimer) -> None:
        await self.uow.routing.schedule_timer(x.key, instant(x.at), self.now)

    async def _CancelTimer(self, x: d.CancelTimer) -> None:
        await self.uow.routing.cancel_timer(x.key)

    async def _SetOperatorStatus(self, x: d.SetOperatorStatus) -> None:
        await self._presence(int(x.operator_id), x.status, x.reason)

    async def _CountMissed(self, x: d.CountMissed) -> None:
        """Decided here, so persisted here: a rebuild restores the count, supervisors see it."""
        operator, conversation = int(x.operator_id), int(x.conversation_id)
        await self.uow.routing.set_missed_offers(operator, x.missed)
        self.uow.emit(OfferMissed(conversation, operator, x.missed), self.now)

    async def _AutoPause(self, x: d.AutoPause) -> None:
        await self.uow.routing.set_missed_offers(int(x.operator_id), 0)  # the pause restarts the count
        await self._presence(int(x.operator_id), "break", x.reason)

    async def _presence(self, operator_id: int, status: str, reason: str) -> None:
        await self.uow.routing.set_presence(operator_id, status, reason, self.now, True)
        self.uow.emit(OperatorStatusChanged(operator_id, status, reason, True, True, None, by_engine=True), self.now)

    async def _close(self, conversation: int, reason: str) -> None:
        current = await self.uow.routing.conversation(conversation)
        open_states = (*WAITING_STATES, S.ASSIGNED, S.WAITING)
        if current is None or not await self.uow.routing.move(conversation, open_states, S.CLOSED, self.now):
            raise Stale(f"conversation {conversation} is already closed")
        await self.uow.routing.settle_offers(conversation, None, "withdrawn", self.now)
        await self.uow.timeline.add(
            current.contact_id,
            "conversation_closed",
            conversation,
            self.now,
            f"closed: {reason}",
            conversation,
            current.channel_kind,
        )
        self.uow.emit(ConversationClosed(conversation, current.line_id, current.assignee_id, None), self.now)

    async def _send_template(
        self, conversation_id: str, line_id: str, key: str, variables: dict[str, str], language: str
    ) -> None:
        line = self.lines.get(line_id)
        text = message_text(line.actions, key, language, variables) if line else None
        current = await self.uow.routing.conversation(int(conversation_id))
        if text is None or current is None:
            return
        message = await self.uow.messages.add(
            NewMessage(
                current.id, current.channel_id, Direction.OUT, AuthorKind.SYSTEM, text, DeliveryStatus.QUEUED, self.now
            )
        )
        await self.uow.timeline.add(
            current.contact_id, "message", message.id, self.now, summarize(text), current.id, current.channel_kind
        )
        self.uow.emit(AutomaticMessageQueued(message.id, current.id, current.channel_id, key), self.now)
