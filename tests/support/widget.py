"""A scripted web chat widget for protocol tests: a real websocket client speaking the widget's frames."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import websockets

from switchboard.web.routes.webchat import VISITOR_COOKIE


class Widget:
    """One browser tab: connects, says hello, keeps every frame it got (``frames``) and the visitor token."""

    def __init__(
        self,
        host: str,
        channel_id: int,
        *,
        token: str | None = None,
        last_id: int | None = None,
        page: str | None = "https://shop.example/garden?utm_source=yandex&utm_campaign=spring",
        referrer: str | None = "https://ya.ru/search?q=seeds",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = f"ws://{host}/webchat/{channel_id}/ws"
        self.token = token
        self.last_id = last_id
        self.page = page
        self.referrer = referrer
        self.headers = dict(headers or {})
        self.frames: list[dict[str, Any]] = []
        self.greeting: list[dict[str, Any]] = []
        self.ws: Any = None
        self.cookie: str | None = None

    async def __aenter__(self) -> Widget:
        headers = dict(self.headers)
        if self.token:
            headers["Cookie"] = f"{VISITOR_COOKIE}={self.token}"
        self.ws = await websockets.connect(self.url, additional_headers=headers)
        self.cookie = self.ws.response.headers.get("set-cookie")
        hello = {
            "type": "hello",
            "last_id": self.last_id,
            "page": self.page,
            "referrer": self.referrer,
            "language": "ru",
        }
        await self.send(hello)
        self.greeting = await self.until("ready")
        welcome = self.greeting[0]
        assert welcome["type"] == "welcome", welcome
        self.token = welcome["token"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def until(self, kind: str, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Frames up to and including the first of ``kind``."""
        got = []
        while True:
            frame = await self.recv(timeout)
            got.append(frame)
            if frame["type"] == kind:
                return got

    async def next(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        return (await self.until(kind, timeout))[-1]

    async def write(self, text: str, client_id: str | None = None, **extra: Any) -> dict[str, Any]:
        """Send a message and wait for its ack (or the error about it)."""
        client_id = client_id or uuid.uuid4().hex
        await self.send({"type": "message", "client_id": client_id, "text": text, **extra})
        while True:
            frame = await self.recv()
            if frame["type"] == "ack" and frame["client_id"] == client_id:
                return frame
            if frame["type"] == "error" and frame["ref"] == client_id:
                return frame

    async def introduce(self, **fields: Any) -> dict[str, Any]:
        await self.send({"type": "introduce", **fields})
        while True:
            frame = await self.recv()
            if frame["type"] == "introduced" or (frame["type"] == "error" and frame["ref"] == "introduce"):
                return frame

    async def silent(self, seconds: float = 0.4) -> list[dict[str, Any]]:
        """Frames that arrive within ``seconds`` (expected: none of a kind the caller checks)."""
        got = []
        try:
            while True:
                got.append(await self.recv(seconds))
        except TimeoutError:
            return got


def messages(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f["message"] for f in frames if f["type"] == "message"]
