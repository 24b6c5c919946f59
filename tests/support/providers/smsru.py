"""An SMS.ru-like API on loopback, and SMS.ru's status callbacks as SMS.ru sends them.

    smsru = SmsRuLike()
    async with serving(smsru.app) as host:       # settings: base_url = f"http://{host}"
        ...                                      # smsru.sent holds each /sms/send form
    smsru.refuse("79161234567", 207)             # that number's entry answers status_code 207
    smsru.fail_next(220)                         # the next request answers {"status": "ERROR", "status_code": 220}
    smsru.fail_next_http(503)                    # the next request answers HTTP 503
    call = smsru.callback(WEBHOOK_URL, [status_entry("000000-10000001", 103)])   # a WebhookCall

As documented at https://sms.ru/api: ``/sms/send``, ``/sms/status`` and ``/callback/add`` take
``api_id`` and ``json=1`` and answer HTTP 200 with ``status``/``status_code`` (per number under
``sms``); a wrong api_id is ``status_code`` 200. Callbacks post ``data[0]…data[N]`` entries
(``sms_status\\n<id>\\n<code>\\n<unix time>``) and ``hash`` = sha256(api_id + the entries in order),
computed here independently of the connector; the handler must answer ``100``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tests.support.providers import WebhookCall

API_ID = "A3CA597E-3ACF-4E7D-82EE-CF82B52B1A8B"
WEBHOOK_URL = "https://switchboard.example/api/v1/channels/9/webhook"
TEXTS = {
    200: "Неправильный api_id",
    201: "Не хватает средств на лицевом счету",
    202: "Неправильно указан номер телефона получателя, либо на него нет маршрута",
    205: "Сообщение слишком длинное (превышает 8 СМС)",
    207: "На этот номер нет маршрута для доставки сообщений",
    220: "Сервис временно недоступен, попробуйте чуть позже",
    231: "Превышен лимит одинаковых сообщений на этот номер в минуту",
}


def status_entry(sms_id: str, code: int, at: int = 1_700_000_000) -> str:
    return f"sms_status\n{sms_id}\n{code}\n{at}"


def smsru_hash(api_id: str, entries: list[str]) -> str:
    return hashlib.sha256((api_id + "".join(entries)).encode()).hexdigest()


@dataclass
class SmsRuLike:
    api_id: str = API_ID
    sent: list[dict[str, str]] = field(default_factory=list)  # every accepted /sms/send form
    callbacks: list[str] = field(default_factory=list)  # URLs registered by /callback/add
    statuses: dict[str, int] = field(default_factory=dict)  # sms_id -> status code for /sms/status
    _refused: dict[str, int] = field(default_factory=dict)
    _failures: list[int] = field(default_factory=list)
    _http_failures: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = self._build()

    def refuse(self, number: str, code: int) -> None:
        self._refused[number] = code

    def fail_next(self, code: int) -> None:
        self._failures.append(code)

    def fail_next_http(self, status: int) -> None:
        self._http_failures.append(status)

    def callback(self, url: str, entries: list[str], *, api_id: str | None = None) -> WebhookCall:
        """A callback POST: data[0]…data[N] and the hash, form-encoded as SMS.ru (PHP-style) posts them."""
        fields = [(f"data[{index}]", entry) for index, entry in enumerate(entries)]
        fields.append(("hash", smsru_hash(api_id or self.api_id, entries)))
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return WebhookCall(url, urlencode(fields).encode(), headers)

    def _error(self, code: int) -> JSONResponse:
        return JSONResponse({"status": "ERROR", "status_code": code, "status_text": TEXTS.get(code, "Ошибка")})

    async def _form(self, request: Request) -> tuple[dict[str, str], Response | None]:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        if self._http_failures:
            return form, Response("<html>Service Unavailable</html>", status_code=self._http_failures.pop(0))
        if form.get("api_id") != self.api_id:
            return form, self._error(200)
        if self._failures:
            return form, self._error(self._failures.pop(0))
        return form, None

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/sms/send")
        async def send(request: Request) -> Response:
            form, refused = await self._form(request)
            if refused is not None:
                return refused
            entries: dict[str, Any] = {}
            for number in form.get("to", "").split(","):
                code = self._refused.get(number)
                if code is None:
                    self.sent.append(form)
                    entries[number] = {
                        "status": "OK",
                        "status_code": 100,
                        "sms_id": f"000000-{10000000 + len(self.sent)}",
                    }
                else:
                    entries[number] = {"status": "ERROR", "status_code": code, "status_text": TEXTS.get(code, "")}
            return JSONResponse({"status": "OK", "status_code": 100, "sms": entries, "balance": 4122.56})

        @app.post("/sms/status")
        async def status(request: Request) -> Response:
            form, refused = await self._form(request)
            if refused is not None:
                return refused
            entries = {}
            for sms_id in form.get("sms_id", "").split(","):
                code = self.statuses.get(sms_id, -1)
                entries[sms_id] = {"status": "OK" if code != -1 else "ERROR", "status_code": code}
            return JSONResponse({"status": "OK", "status_code": 100, "sms": entries, "balance": 4122.56})

        @app.post("/callback/add")
        async def add_callback(request: Request) -> Response:
            form, refused = await self._form(request)
            if refused is not None:
                return refused
            if not form.get("url", "").startswith(("http://", "https://")):
                return self._error(901)
            self.callbacks.append(form["url"])
            return JSONResponse({"status": "OK", "status_code": 100, "callback": self.callbacks})

        return app
