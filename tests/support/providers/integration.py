"""A system behind an API channel: a real HTTP server that records every push and answers from a script."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, Response

from tests.support.server import serving


@dataclass(frozen=True)
class Push:
    headers: dict[str, str]  # lower-cased names, as received
    body: bytes  # the raw body, exactly as received


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class Integration:
    def __init__(self) -> None:
        self.pushes: list[Push] = []
        self.script: list[Answer] = []  # answers in turn; 200 with an empty body once it runs out
        self.url = ""
        self.app = FastAPI()
        self.app.post("/hook")(self._hook)

    async def _hook(self, request: Request) -> Response:
        self.pushes.append(Push(dict(request.headers), await request.body()))
        answer = self.script.pop(0) if self.script else Answer()
        return Response(answer.body, answer.status, answer.headers, media_type="application/json")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Integration]:
        async with serving(self.app) as address:
            self.url = f"http://{address}/hook"
            yield self
