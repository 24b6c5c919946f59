"""The widget's websocket protocol: JSON frames between one visitor's browser and the desk.

Client → server: ``hello`` (first, once: ``last_id``, ``page``, ``referrer``, ``utm``, ``language``),
``introduce``, ``message`` (``client_id``, ``text``, ``attachments``), ``typing``, ``receipt``
(``status``, ``ids``), ``rate`` (``conversation_id``, ``score``, ``comment``), ``ping``.
Server → client: ``welcome``, ``message``, ``ready``, ``ack``, ``introduced``, ``state``, ``queue``,
``typing``, ``rate`` (offered at close), ``rated``, ``error`` (``ref``, ``field``, ``detail``), ``pong``.
Close codes: 4400 bad hello, 4401 forged visitor cookie, 4403 site not allowed, 4404 no such chat,
1008 flood (more frames a second than the channel allows).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import WebSocket, WebSocketDisconnect

from switchboard.application.errors import ApplicationError, NotFound
from switchboard.application.ports.storage import Conflict, StorageUnavailable
from switchboard.application.ports.webchat import Visitor
from switchboard.application.tasks import within
from switchboard.application.webchat import (
    Introduction,
    Visit,
    Written,
    introduce,
    rate_conversation,
    record_receipts,
    visitor_history,
    visitor_typing,
    visitor_writes,
)
from switchboard.domain.conversation import ConversationStatus, DeliveryStatus
from switchboard.domain.source import Source
from switchboard.domain.webchat import Throttle, visit_source
from switchboard.web.runtime import Runtime
from switchboard.web.visitors import VisitorHub, VisitorSocket, message_frame, state_frame

log = structlog.get_logger("switchboard.webchat")
HELLO_SECONDS = 10.0
TYPING = Throttle(2.0)
CLOSED = ConversationStatus.CLOSED


class ProtocolError(Exception):
    """The client broke the protocol; the socket closes with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Hello:
    last_id: int | None
    source: Source
    language: str | None


def visitor_frame(visitor: Visitor) -> dict[str, Any]:
    return {"name": visitor.name, "phone": visitor.phone, "email": visitor.email, "introduced": visitor.introduced}


def read_hello(text: str) -> Hello:
    try:
        frame = json.loads(text)
    except ValueError:
        frame = None
    if not isinstance(frame, dict) or frame.get("type") != "hello":
        raise ProtocolError(4400, 'the first frame must be {"type": "hello", ...}')
    last_id = frame.get("last_id")
    if last_id is not None and (not isinstance(last_id, int) or isinstance(last_id, bool) or last_id < 0):
        raise ProtocolError(4400, "last_id must be a whole number or null")
    utm = frame.get("utm") if isinstance(frame.get("utm"), dict) else None
    page, referrer = frame.get("page"), frame.get("referrer")
    language = frame.get("language")
    return Hello(
        last_id,
        visit_source(page if isinstance(page, str) else None, referrer if isinstance(referrer, str) else None, utm),
        language[:16] if isinstance(language, str) and language else None,
    )


class VisitorSession:
    """One connected widget, from hello to close."""

    def __init__(self, websocket: WebSocket, runtime: Runtime, hub: VisitorHub, visit: Visit, token: str) -> None:
        self.ws = websocket
        self.runtime = runtime
        self.hub = hub
        self.visit = visit
        self.token = token
        self.socket = VisitorSocket(visit.visitor.id, visit.config.channel_id)
        self.hello = Hello(None, Source(), None)

    @property
    def services(self) -> Any:
        return self.runtime.services

    async def run(self) -> None:
        try:
            text = await within(HELLO_SECONDS, self.ws.receive_text())
        except TimeoutError:
            raise ProtocolError(4400, "no hello within 10 seconds") from None
        self.hello = read_hello(text)
        for session in self.visit.sessions:
            await self.hub.watch(self.socket, session.conversation_id, session.first_message_id)
        try:
            await self._greet()
            await self._pump()
        finally:
            self.hub.leave(self.socket)

    async def _greet(self) -> None:
        config, current = self.visit.config, self.visit.current
        await self._send(
            {
                "type": "welcome",
                "visitor": visitor_frame(self.visit.visitor),
                "token": self.token,
                "online": config.online,
                "next_opening": config.next_opening.isoformat() if config.next_opening else None,
            }
        )
        for seen in await visitor_history(self.services, self.socket.visitor_id, config.channel_id, self.hello.last_id):
            await self._send(message_frame(seen))
        if current is not None:
            await self._send(state_frame(current))
            if current.status is CLOSED and not current.rated:
                await self._send({"type": "rate", "conversation_id": current.conversation_id})
        await self._send({"type": "ready"})

    async def _send(self, frame: dict[str, Any]) -> None:
        if self.socket.fresh(frame):
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False))

    async def _pump(self) -> None:
        async def outgoing() -> None:
            while True:
                await self._send(await self.socket.frames.get())

        async def incoming() -> None:
            while True:
                text = await self.ws.receive_text()
                if not self.hub.allow_frame(self.socket.visitor_id, self.visit.config.settings):
                    limit = self.visit.config.settings.frames_per_second
                    raise ProtocolError(1008, f"too many messages: at most {limit:g} a second")
                await self._handle(text)

        tasks = [asyncio.create_task(outgoing()), asyncio.create_task(incoming())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _handle(self, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            await self._send(_error(None, "frame", "a frame is a JSON object with a type"))
            return
        kind = frame.get("type")
        handler = HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self._send(_error(None, "type", f"unknown frame type {kind!r}"))
            return
        ref = frame.get("client_id") if kind == "message" else kind
        try:
            await handler(self, frame)
        except NotFound as error:
            if error.field == "channel_id":
                raise ProtocolError(4404, error.detail) from error
            await self._send(_error(ref, error.field, error.detail))
        except ApplicationError as error:
            await self._send(_error(ref, error.field, error.detail))
        except (StorageUnavailable, Conflict):
            await self._send(_error(ref, None, "the service is busy; try again"))
        except Exception:  # one bad frame must not end the visitor's chat
            log.exception("webchat.frame_failed", frame_type=kind, channel_id=self.socket.channel_id)
            await self._send(_error(ref, None, "an unexpected error occurred; try again"))

    # --- handlers ---------------------------------------------------------------------------------------------

    async def on_message(self, frame: dict[str, Any]) -> None:
        written = Written(
            frame.get("client_id") if isinstance(frame.get("client_id"), str) else "",
            frame.get("text") if isinstance(frame.get("text"), str) else "",
            tuple(str(a) for a in frame.get("attachments") or () if isinstance(a, str))[:10],
        )
        result = await visitor_writes(
            self.services,
            self.socket.channel_id,
            self.socket.visitor_id,
            written,
            self.hello.source,
            self.hello.language,
        )
        new = result.conversation_id not in self.socket.watches
        await self.hub.watch(self.socket, result.conversation_id, result.message.message.id)
        self.socket.sent.add(result.message.message.id)  # its live copy (MessageReceived) is not sent again
        ack = {**message_frame(result.message), "type": "ack", "client_id": written.client_id}
        await self.ws.send_text(json.dumps({**ack, "duplicate": result.duplicate}, ensure_ascii=False))
        if new:  # what the desk wrote into a new conversation before this socket watched it
            catch_up = await visitor_history(
                self.services, self.socket.visitor_id, self.socket.channel_id, result.message.message.id
            )
            for seen in catch_up:
                self.socket.push(message_frame(seen))

    async def on_introduce(self, frame: dict[str, Any]) -> None:
        intro = Introduction(
            _text(frame.get("name")), _text(frame.get("phone")), _text(frame.get("email")), frame.get("consent") is True
        )
        visitor = await introduce(self.services, self.socket.channel_id, self.socket.visitor_id, intro)
        await self._send({"type": "introduced", "visitor": visitor_frame(visitor)})

    async def on_typing(self, frame: dict[str, Any]) -> None:
        if not self.socket.watches or not TYPING.allow(self.socket.visitor_id, time.monotonic()):
            return
        await visitor_typing(self.services, self.runtime.bus, self.socket.visitor_id, max(self.socket.watches))

    async def on_receipt(self, frame: dict[str, Any]) -> None:
        ids = frame.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            await self._send(_error("receipt", "ids", "ids must be a list of message ids"))
            return
        try:
            status = DeliveryStatus(frame.get("status"))
        except ValueError:
            status = DeliveryStatus.FAILED  # refused by the use case with the field named
        await record_receipts(self.services, self.socket.visitor_id, ids, status)

    async def on_rate(self, frame: dict[str, Any]) -> None:
        conversation_id = frame.get("conversation_id")
        if not isinstance(conversation_id, int) or isinstance(conversation_id, bool):
            await self._send(_error("rate", "conversation_id", "conversation_id must be a number"))
            return
        rating = await rate_conversation(
            self.services, self.socket.visitor_id, conversation_id, frame.get("score"), frame.get("comment")
        )
        await self._send({"type": "rated", "conversation_id": rating.conversation_id, "score": rating.score})

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await self._send({"type": "pong"})


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _error(ref: object, field: str | None, detail: str) -> dict[str, Any]:
    return {"type": "error", "ref": ref, "field": field, "detail": detail}


HANDLERS = {
    "message": VisitorSession.on_message,
    "introduce": VisitorSession.on_introduce,
    "typing": VisitorSession.on_typing,
    "receipt": VisitorSession.on_receipt,
    "rate": VisitorSession.on_rate,
    "ping": VisitorSession.on_ping,
}


async def serve_visitor(session: VisitorSession) -> None:
    """Run a session and close the socket with the protocol's code and reason when it ends badly."""
    try:
        await session.run()
    except ProtocolError as error:
        log.info("webchat.closed", code=error.code, reason=error.reason, channel_id=session.socket.channel_id)
        with contextlib.suppress(Exception):
            await session.ws.close(code=error.code, reason=error.reason)
    except WebSocketDisconnect:
        pass
