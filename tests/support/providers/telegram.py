"""A local Telegram Bot API server: the methods a Telegram channel uses, answered as documented.

Fixture use::

    async with FakeTelegram().running() as telegram:
        settings = {"api_base": telegram.base_url}
        secrets = {"bot_token": telegram.token}
        telegram.add_file("AwADBAADbXXXXXXXXXXXGBdhD2l6_XX", b"OggS…", "voice/file_1.oga")
        telegram.rate_limit("sendMessage", seconds=7)      # the next sendMessage answers 429 retry_after 7
        await telegram.deliver(fixture("telegram", "text"))  # POST to the URL given to setWebhook

Endpoints (``/bot<token>/<method>``, a wrong token answers 401 ``Unauthorized``): ``setWebhook``
(remembers ``url`` and ``secret_token``), ``getFile``, ``sendMessage``, ``sendPhoto``,
``sendDocument`` (JSON or multipart; answered with a ``Message`` whose ``message_id`` counts from
100), and ``/file/bot<token>/<file_path>`` serving files added with ``add_file``. ``sent`` lists the
messages the bot sent, in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Response

from switchboard.application.ports.connectors import WebhookRequest
from tests.support.providers import ProviderServer, Recorded, answer

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SEND_METHODS = ("sendMessage", "sendPhoto", "sendDocument")


@dataclass(frozen=True, slots=True)
class SentMessage:
    method: str
    chat_id: str
    text: str | None
    file_name: str | None
    file_data: bytes | None
    file_url: str | None


class FakeTelegram(ProviderServer):
    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.webhook: dict[str, Any] | None = None
        self.sent: list[SentMessage] = []
        self._files: dict[str, tuple[str, bytes, bool, bool]] = {}
        self._next_id = 100

    def add_file(
        self, file_id: str, data: bytes, file_path: str, *, too_big: bool = False, hide_size: bool = False
    ) -> None:
        """A file ``getFile`` knows; ``too_big`` answers as Telegram does over 20 MB; ``hide_size`` omits file_size."""
        self._files[file_id] = (file_path, data, too_big, hide_size)

    def rate_limit(self, method: str, seconds: int, *, skip: int = 0) -> None:
        body = {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {seconds}",
            "parameters": {"retry_after": seconds},
        }
        self.fail_next(429, body, path=method, skip=skip)

    def refuse(self, method: str, status: int, description: str) -> None:
        self.fail_next(status, {"ok": False, "error_code": status, "description": description}, path=method)

    def webhook_request(self, update: dict[str, Any], *, secret: str | None = None) -> WebhookRequest:
        """The call Telegram makes to our webhook, with the secret token given to ``setWebhook``."""
        token = secret if secret is not None else (self.webhook or {}).get("secret_token")
        headers = {"content-type": "application/json"}
        if token is not None:
            headers["x-telegram-bot-api-secret-token"] = token
        return WebhookRequest("POST", headers, {}, _json(update))

    async def deliver(self, update: dict[str, Any]) -> httpx.Response:
        assert self.webhook is not None, "setWebhook was not called"
        request = self.webhook_request(update)
        async with httpx.AsyncClient() as client:
            return await client.post(self.webhook["url"], content=request.body, headers=dict(request.headers))

    # --- the server ------------------------------------------------------------------------------

    async def handle(self, recorded: Recorded) -> Response:
        prefix, _, rest = recorded.path.lstrip("/").partition("/")
        if prefix == "file":
            return self._file(rest)
        if prefix != f"bot{self.token}":
            return answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        params = recorded.params()
        if rest == "setWebhook":
            self.webhook = dict(params)
            return answer(200, {"ok": True, "result": True, "description": "Webhook was set"})
        if rest == "getFile":
            return self._get_file(str(params.get("file_id")))
        if rest in SEND_METHODS:
            return self._send(rest, recorded)
        return answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    def _get_file(self, file_id: str) -> Response:
        if file_id not in self._files:
            return answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"})
        path, data, too_big, hide_size = self._files[file_id]
        if too_big:
            return answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: file is too big"})
        result: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id[-6:]}", "file_path": path}
        if not hide_size:
            result["file_size"] = len(data)
        return answer(200, {"ok": True, "result": result})

    def _file(self, rest: str) -> Response:
        owner, _, path = rest.partition("/")
        if owner != f"bot{self.token}":
            return answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        for file_path, data, _, _ in self._files.values():
            if file_path == path:
                return Response(data, 200, media_type="application/octet-stream")
        return answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    def _send(self, method: str, recorded: Recorded) -> Response:
        params = recorded.params()
        field = {"sendPhoto": "photo", "sendDocument": "document"}.get(method)
        upload = recorded.files.get(field) if field else None
        self._next_id += 1
        self.sent.append(
            SentMessage(
                method,
                str(params.get("chat_id")),
                params.get("text"),
                upload.filename if upload else None,
                upload.data if upload else None,
                params.get(field) if field and upload is None else None,
            )
        )
        chat = {"id": params.get("chat_id"), "type": "private"}
        result = {"message_id": self._next_id, "date": 1700000000, "chat": chat}
        if params.get("text") is not None:
            result["text"] = params["text"]
        return answer(200, {"ok": True, "result": result})


def _json(update: dict[str, Any]) -> bytes:
    return json.dumps(update, ensure_ascii=False).encode()
