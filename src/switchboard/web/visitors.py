"""Web chat visitors' sockets: what the desk does reaches the widget live.

One bus subscription per process (like the operators' hub): replies and automatic messages, closes,
assignments, queue places and operators' typing of the conversations that this process's visitors
are in are turned into widget frames. Replies are read from storage, so the frame is what was
committed. Queue position and estimated wait are asked of the routing engine for every waiting
conversation whenever routing moves (and every few seconds, as the estimate drifts).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from switchboard.application.context import Services
from switchboard.application.ports.bus import Bus, Envelope, Subscription
from switchboard.application.ports.webchat import VisitorMessage
from switchboard.application.tasks import stop_task, within
from switchboard.application.webchat import OPERATOR_TYPING, ConversationView, conversation_view, visitor_message
from switchboard.domain.conversation import ConversationStatus, Direction
from switchboard.domain.webchat import TokenBucket, WidgetSettings

log = structlog.get_logger("switchboard.webchat")
QUEUE_LIMIT = 1000
WAITING = frozenset({ConversationStatus.NEW, ConversationStatus.QUEUED, ConversationStatus.OFFERED})
MESSAGES = ("ReplyQueued", "AutomaticMessageQueued", "MessageReceived")
STATES = (
    "ConversationAssigned",
    "ConversationClosed",
    "ConversationReopened",
    "ConversationQueued",
    "ConversationTransferred",
    "ConversationMoved",
    "OffersWithdrawn",
)
TOPICS = (*MESSAGES, *STATES, OPERATOR_TYPING)
Position = Callable[[int], Awaitable[tuple[int, float | None] | None]]


def message_frame(seen: VisitorMessage) -> dict[str, Any]:
    """A message as the widget draws it; the visitor's own carry the widget's client id back."""
    m = seen.message
    author = {"contact": "visitor", "operator": "operator"}.get(m.author_kind.value, "system")
    client_id = m.external_id.split(":", 1)[1] if m.direction is Direction.IN and m.external_id else None
    return {
        "type": "message",
        "message": {
            "id": m.id,
            "conversation_id": m.conversation_id,
            "from": author,
            "operator": seen.operator_name if author == "operator" else None,
            "text": m.body,
            "attachments": [
                {"name": a.name, "content_type": a.content_type, "size": a.size, "url": a.url} for a in m.attachments
            ],
            "created_at": m.created_at.isoformat(),
            "status": m.delivery_status.value,
            "client_id": client_id,
        },
    }


def state_frame(view: ConversationView) -> dict[str, Any]:
    return {
        "type": "state",
        "conversation_id": view.conversation_id,
        "status": view.status.value,
        "operator": view.operator_name,
        "rated": view.rated,
    }


@dataclass(eq=False)
class VisitorSocket:
    """One open widget: its frames to send, the conversations it shows and the messages it already has."""

    visitor_id: str
    channel_id: int
    frames: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    watches: dict[int, int] = field(default_factory=dict)  # conversation id -> first message id shown
    sent: set[int] = field(default_factory=set)

    def push(self, frame: dict[str, Any]) -> None:
        try:
            self.frames.put_nowait(frame)
        except asyncio.QueueFull:
            log.warning("webchat.socket_too_slow", channel_id=self.channel_id)

    def fresh(self, frame: dict[str, Any]) -> bool:
        """True the first time a message frame is seen on this socket (replay, ack and live meet here)."""
        if frame.get("type") != "message":
            return True
        message_id = int(frame["message"]["id"])
        if message_id in self.sent:
            return False
        self.sent.add(message_id)
        return True


class VisitorHub:
    def __init__(self, services: Services, bus: Bus, position: Position, *, poll_seconds: float = 5.0) -> None:
        self._services = services
        self._bus = bus
        self._position = position
        self.poll_seconds = poll_seconds
        self._sockets: dict[int, set[VisitorSocket]] = {}  # conversation id -> sockets showing it
        self._waiting: dict[int, tuple[int, float | None] | None] = {}  # conversation id -> last place told
        self._buckets: dict[str, TokenBucket] = {}
        self._subscription: Subscription | None = None
        self._poller: asyncio.Task[None] | None = None
        self._moved = asyncio.Event()

    async def start(self) -> None:
        self._subscription = await self._bus.subscribe(None, self._deliver, topics=TOPICS)
        self._poller = asyncio.create_task(self._poll(), name="webchat-queue-positions")

    async def stop(self) -> None:
        if self._poller is not None:
            await stop_task(self._poller)
        if self._subscription is not None:
            await self._subscription.cancel()
            self._subscription = None

    # --- sockets ----------------------------------------------------------------------------------------------

    async def watch(self, socket: VisitorSocket, conversation_id: int, first_message_id: int) -> None:
        """The socket shows this conversation from now on; if it waits in a queue, its place is pushed."""
        socket.watches.setdefault(conversation_id, first_message_id)
        self._sockets.setdefault(conversation_id, set()).add(socket)
        view = await conversation_view(self._services, conversation_id)
        if view is not None and view.status in WAITING:
            self._waiting.setdefault(conversation_id, None)
            self._moved.set()

    def leave(self, socket: VisitorSocket) -> None:
        for conversation_id in socket.watches:
            sockets = self._sockets.get(conversation_id)
            if sockets is not None:
                sockets.discard(socket)
                if not sockets:
                    del self._sockets[conversation_id]
                    self._waiting.pop(conversation_id, None)

    def allow_frame(self, visitor_id: str, settings: WidgetSettings) -> bool:
        """The visitor's flood limit, shared by all their sockets on this process."""
        bucket = self._buckets.get(visitor_id)
        if bucket is None:
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            bucket = self._buckets[visitor_id] = TokenBucket(settings.frames_per_second, settings.burst)
        return bucket.take(time.monotonic())

    @property
    def connected(self) -> int:
        return len({s for sockets in self._sockets.values() for s in sockets})

    # --- what the desk did ------------------------------------------------------------------------------------

    async def _deliver(self, envelope: Envelope) -> None:
        conversation_id = envelope.payload.get("conversation_id")
        if envelope.name in ("ConversationQueued", "ConversationAssigned", "ConversationClosed", "OffersWithdrawn"):
            self._moved.set()  # someone else's place may have changed too
        sockets = self._sockets.get(conversation_id) if isinstance(conversation_id, int) else None
        if not sockets or conversation_id is None:
            return
        if envelope.name in MESSAGES:
            await self._message(sockets, conversation_id, int(envelope.payload["message_id"]))
        elif envelope.name == OPERATOR_TYPING:
            self._fan_out(sockets, {"type": "typing", "conversation_id": conversation_id})
        elif envelope.name == "ConversationQueued":
            place = (int(envelope.payload["position"]), envelope.payload.get("estimated_wait_s"))
            self._waiting[conversation_id] = place
            self._fan_out(sockets, _queue_frame(conversation_id, place))
        else:
            await self._state(sockets, conversation_id)

    async def _message(self, sockets: set[VisitorSocket], conversation_id: int, message_id: int) -> None:
        seen = await visitor_message(self._services, message_id)
        if seen is None:
            return
        frame = message_frame(seen)
        for socket in list(sockets):
            if message_id >= socket.watches.get(conversation_id, message_id + 1):
                socket.push(frame)

    async def _state(self, sockets: set[VisitorSocket], conversation_id: int) -> None:
        view = await conversation_view(self._services, conversation_id)
        if view is None:
            return
        if view.status in WAITING:
            self._waiting.setdefault(conversation_id, None)
        else:
            self._waiting.pop(conversation_id, None)
        self._fan_out(sockets, state_frame(view))
        if view.status is ConversationStatus.CLOSED and not view.rated:
            self._fan_out(sockets, {"type": "rate", "conversation_id": conversation_id})

    @staticmethod
    def _fan_out(sockets: set[VisitorSocket], frame: dict[str, Any]) -> None:
        for socket in list(sockets):
            socket.push(frame)

    # --- queue places -----------------------------------------------------------------------------------------

    async def _poll(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await within(self.poll_seconds, self._moved.wait())
            self._moved.clear()
            await asyncio.sleep(0.05)  # let a burst of routing events settle into one round
            try:
                await self._tell_places()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webchat.queue_poll_failed")

    async def _tell_places(self) -> None:
        for conversation_id in list(self._waiting):
            try:
                place = await self._position(conversation_id)
            except Exception as error:  # routing is led by another process: the events still tell places
                log.debug("webchat.position_unknown", conversation_id=conversation_id, reason=str(error))
                return
            if place is None or place == self._waiting.get(conversation_id):
                continue
            self._waiting[conversation_id] = place
            self._fan_out(self._sockets.get(conversation_id, set()), _queue_frame(conversation_id, place))


def _queue_frame(conversation_id: int, place: tuple[int, float | None]) -> dict[str, Any]:
    position, wait = place
    return {
        "type": "queue",
        "conversation_id": conversation_id,
        "position": position,
        "estimated_wait_s": None if wait is None else round(float(wait)),
    }
