"""Operators' websockets: live events of their conversations, resumable without loss or doubles.

A frame's ``id`` is the event's publish number, which the outbox relay gives as it publishes
(gap-free, in publish order; outbox row ids are not: on PostgreSQL a smaller id can commit after
a larger one). A client that reconnects with the last id it saw gets the missed events from the
outbox first, then the live stream; a live event at or below the last number sent (replayed, or
published twice after a relay crash) is not sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from switchboard.application.access import Principal
from switchboard.application.auth import authenticate
from switchboard.application.errors import Unauthenticated
from switchboard.application.ports.bus import Bus, Envelope, Subscription
from switchboard.application.ports.storage import OutboxStore
from switchboard.domain.operators import Role
from switchboard.web import screen_pops
from switchboard.web.access import SESSION_COOKIE

log = structlog.get_logger("switchboard.ws")
router = APIRouter()
PERSONAL_KEYS = ("assignee_id", "operator_id", "previous_operator_id", "author_id")
REPLAY_PAGE = 500
QUEUE_LIMIT = 10_000
POPPED_LIMIT = 1_000


def concerns(principal: Principal, envelope: Envelope) -> bool:
    """Supervisors see the whole floor; an operator, the events that name them."""
    if principal.role in (Role.ADMIN, Role.SUPERVISOR):
        return True
    payload = envelope.payload
    if any(payload.get(key) == principal.user_id for key in PERSONAL_KEYS):
        return True
    operator_ids = payload.get("operator_ids")
    return isinstance(operator_ids, list) and principal.user_id in operator_ids


def frame(envelope: Envelope) -> str:
    """Live-only notices (a visitor typing) have event id 0 and no ``id``: they are never replayed."""
    body: dict[str, Any] = {"id": envelope.sequence, "event_id": envelope.event_id} if envelope.sequence > 0 else {}
    body.update(event=envelope.name, occurred_at=envelope.occurred_at.isoformat(), data=envelope.payload)
    return json.dumps(body)


@dataclass(frozen=True, slots=True)
class PopNow:
    """A ringing event committed by this very process: pop the card before the relay brings the event."""

    envelope: Envelope


@dataclass(eq=False)
class Client:
    principal: Principal
    queue: asyncio.Queue[Envelope | PopNow] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))


class Hub:
    """One bus subscription per process, fanned out to the connected clients.

    When an operator's last socket closes and none opens again within the grace period, they are
    signed out of routing (their conversations go back to the queue).
    """

    def __init__(
        self, bus: Bus, on_gone: Callable[[int], Awaitable[object]] | None = None, grace_seconds: float = 0.0
    ) -> None:
        self._bus = bus
        self._clients: set[Client] = set()
        self._subscription: Subscription | None = None
        self._on_gone = on_gone
        self._grace = grace_seconds
        self._watches: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._subscription = await self._bus.subscribe(None, self._deliver)

    async def stop(self) -> None:
        for task in list(self._watches):
            task.cancel()
        if self._subscription is not None:
            await self._subscription.cancel()
            self._subscription = None

    async def _deliver(self, envelope: Envelope) -> None:
        for client in list(self._clients):
            if concerns(client.principal, envelope):
                try:
                    client.queue.put_nowait(envelope)
                except asyncio.QueueFull:
                    log.warning("ws.client_too_slow", user_id=client.principal.user_id)

    def committed_here(self, envelopes: list[Envelope]) -> None:
        """Events this process just committed: a ringing operator connected here gets the card at once."""
        for envelope in envelopes:
            if envelope.name != "CallRinging":
                continue
            for client in list(self._clients):
                if client.principal.user_id == envelope.payload.get("operator_id"):
                    with contextlib.suppress(asyncio.QueueFull):
                        client.queue.put_nowait(PopNow(envelope))

    def join(self, principal: Principal) -> Client:
        client = Client(principal)
        self._clients.add(client)
        return client

    def leave(self, client: Client) -> None:
        self._clients.discard(client)
        user_id = client.principal.user_id
        if self._on_gone is None or self._grace <= 0 or client.principal.role is not Role.OPERATOR or user_id is None:
            return
        if not self._connected(user_id):
            task = asyncio.create_task(self._watch(user_id))
            self._watches.add(task)
            task.add_done_callback(self._watches.discard)

    def _connected(self, user_id: int) -> bool:
        return any(c.principal.user_id == user_id for c in self._clients)

    async def _watch(self, user_id: int) -> None:
        await asyncio.sleep(self._grace)
        if not self._connected(user_id) and self._on_gone is not None:
            try:
                await self._on_gone(user_id)
            except Exception:
                log.exception("ws.sign_out_failed", user_id=user_id)

    @property
    def connected(self) -> int:
        return len(self._clients)


async def _authenticate(websocket: WebSocket) -> Principal:
    token = websocket.query_params.get("token") or websocket.cookies.get(SESSION_COOKIE)
    header = websocket.headers.get("authorization", "")
    if not token and header.lower().startswith("bearer "):
        token = header[7:].strip()
    if not token:
        raise Unauthenticated("sign in or send an API token")
    return await authenticate(websocket.app.state.container.services, token)


async def _replay(websocket: WebSocket, store: OutboxStore, principal: Principal, after: int) -> int:
    """Send the numbered events after ``after``; returns the last number replayed."""
    while True:
        page = await store.sequenced_after(after, REPLAY_PAGE)
        for envelope in page:
            if concerns(principal, envelope):
                await websocket.send_text(frame(envelope))
                await screen_pops.after(websocket, principal, envelope)
        if page:
            after = page[-1].sequence
        if len(page) < REPLAY_PAGE:
            return after


@router.websocket("/ws")
async def events(websocket: WebSocket) -> None:
    """Live events; connect with ?last_event_id=N to resume after event N.

    A refused connection is accepted and then closed with a code (4400 bad input, 4401 not signed
    in, 4403 wrong role) and a reason, because browsers never see the reason of a refused handshake.
    """
    await websocket.accept()
    try:
        principal = await _authenticate(websocket)
    except Unauthenticated as error:
        await websocket.close(code=4401, reason=error.detail)
        return
    if principal.role is Role.INTEGRATION:
        await websocket.close(code=4403, reason="the websocket is for people at the desk")
        return
    last = websocket.query_params.get("last_event_id")
    if last is not None and not last.isdigit():
        await websocket.close(code=4400, reason="last_event_id must be a whole number")
        return
    container = websocket.app.state.container
    hub: Hub = websocket.app.state.hub
    client = hub.join(principal)
    try:
        replayed = await _replay(websocket, container.outbox, principal, int(last)) if last is not None else 0
        await websocket.send_text(
            json.dumps({"event": "ready", "last_event_id": await container.outbox.last_sequence()})
        )
        await _pump(websocket, client, replayed)
    except WebSocketDisconnect:
        pass
    finally:
        hub.leave(client)


async def _pump(websocket: WebSocket, client: Client, replayed: int) -> None:
    """Live events after the replay; the relay publishes in number order, so a number at or below
    the last one sent is a copy (already replayed, or published again) and is skipped. A ringing
    event's card goes out once, whichever path brings it first (this server's fast path or the relay)."""
    last = replayed
    popped: dict[int, None] = {}  # ringing events whose card went out, oldest first

    async def pop_once(envelope: Envelope) -> None:
        if envelope.event_id in popped:
            return
        popped[envelope.event_id] = None
        if len(popped) > POPPED_LIMIT:
            del popped[next(iter(popped))]
        await screen_pops.after(websocket, client.principal, envelope)

    async def outgoing() -> None:
        nonlocal last
        while True:
            item = await client.queue.get()
            if isinstance(item, PopNow):
                await pop_once(item.envelope)
                continue
            if item.sequence:
                if item.sequence <= last:
                    continue
                last = item.sequence
            await websocket.send_text(frame(item))
            await pop_once(item)

    async def incoming() -> None:
        while True:
            text = await websocket.receive_text()
            if text == "ping":
                await websocket.send_text('{"event":"pong"}')

    tasks: list[asyncio.Task[Any]] = [asyncio.create_task(outgoing()), asyncio.create_task(incoming())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
