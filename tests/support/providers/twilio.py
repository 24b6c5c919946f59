"""A Twilio-like Programmable Messaging API on loopback, and Twilio's webhooks as Twilio sends them.

    twilio = TwilioLike()
    async with serving(twilio.app) as host:          # settings: base_url = f"http://{host}"
        ...                                          # the connector sends; twilio.messages holds each form
    twilio.fail_next(429, code=20429, message="Too Many Requests", retry_after="7")
    call = twilio.inbound(WEBHOOK_URL, From="+79161234567", Body="Здравствуйте")   # a WebhookCall
    call = twilio.status_callback(WEBHOOK_URL, "SM…", "undelivered", ErrorCode="30003")

Endpoints, answers and webhook fields follow Twilio's documentation: the Messages resource
(https://www.twilio.com/docs/messaging/api/message-resource), its error body ``{code, message,
more_info, status}``, IncomingPhoneNumbers, the incoming message webhook
(https://www.twilio.com/docs/messaging/guides/webhook-request) and the outbound status callback.
Webhooks are signed as Twilio documents (https://www.twilio.com/docs/usage/security): base64
HMAC-SHA1 with the auth token over the URL followed by each POST parameter's name and value,
sorted by name — computed here independently of the connector's code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tests.support.providers import WebhookCall

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-for-tests"
NUMBER = "+15005550006"
NUMBER_SID = "PN" + "fedcba9876543210" * 2
WEBHOOK_URL = "https://switchboard.example/api/v1/channels/7/webhook"


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """As Twilio signs a POST webhook (one value per parameter, as its SMS webhooks have)."""
    data = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class TwilioLike:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    number: str = NUMBER
    messages: list[dict[str, str]] = field(default_factory=list)  # every accepted Messages.json form
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request
    number_settings: dict[str, str] = field(default_factory=dict)  # what was POSTed to the number
    _failures: list[_Failure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.app = self._build()

    def fail_next(self, status: int, *, code: int, message: str, retry_after: str | None = None) -> None:
        """Answer the next Messages.json request with Twilio's error body."""
        body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
        body["status"] = status
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._failures.append(_Failure(status, body, headers))

    # --- webhooks as Twilio sends them ------------------------------------------------------

    def signed(self, url: str, params: dict[str, str], *, token: str | None = None) -> WebhookCall:
        signature = twilio_signature(token or self.auth_token, url, params)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": hashlib.sha256(urlencode(params).encode()).hexdigest()[:32],
        }
        return WebhookCall(url, urlencode(params).encode(), headers)

    def inbound(
        self, url: str, *, From: str, Body: str, MessageSid: str = "SM" + "1" * 32, **extra: str
    ) -> WebhookCall:
        """An incoming SMS to our number, with the fields Twilio's incoming message webhook documents."""
        params = {
            "ToCountry": "US",
            "ToState": "CA",
            "SmsMessageSid": MessageSid,
            "NumMedia": "0",
            "ToCity": "",
            "FromZip": "",
            "SmsSid": MessageSid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": Body,
            "FromCountry": "RU",
            "To": self.number,
            "ToZip": "",
            "NumSegments": "1",
            "MessageSid": MessageSid,
            "AccountSid": self.account_sid,
            "From": From,
            "ApiVersion": "2010-04-01",
        }
        params.update(extra)
        return self.signed(url, params)

    def status_callback(self, url: str, sid: str, status: str, **extra: str) -> WebhookCall:
        """A status callback for one of our messages (ErrorCode present when undelivered or failed)."""
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "ChannelPrefix": "sms",
            "From": self.number,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": "+79161234567",
        }
        params.update(extra)
        return self.signed(url, params)

    # --- the REST API -----------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def _refusal(self, request: Request, sid: str) -> Response | None:
        self.requests.append((request.method, request.url.path))
        if sid != self.account_sid or not self._authorized(request):
            body = {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003"}
            return JSONResponse({**body, "status": 401}, status_code=401)
        return None

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
        async def create_message(sid: str, request: Request) -> Response:
            refused = self._refusal(request, sid)
            if refused is not None:
                return refused
            if self._failures:
                failure = self._failures.pop(0)
                return JSONResponse(failure.body, status_code=failure.status, headers=failure.headers)
            form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
            self.messages.append(form)
            message_sid = f"SM{len(self.messages):032x}"
            return JSONResponse(_message_resource(self.account_sid, message_sid, form), status_code=201)

        @app.get("/2010-04-01/Accounts/{sid}.json")
        async def account(sid: str, request: Request) -> Response:
            refused = self._refusal(request, sid)
            return refused or JSONResponse({"sid": sid, "status": "active", "type": "Full"})

        @app.get("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json")
        async def numbers(sid: str, request: Request) -> Response:
            refused = self._refusal(request, sid)
            if refused is not None:
                return refused
            found = request.query_params.get("PhoneNumber") == self.number
            listed = [{"sid": NUMBER_SID, "phone_number": self.number, "sms_url": ""}] if found else []
            return JSONResponse({"incoming_phone_numbers": listed, "page": 0, "page_size": 50})

        @app.post("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers/{number_sid}.json")
        async def update_number(sid: str, number_sid: str, request: Request) -> Response:
            refused = self._refusal(request, sid)
            if refused is not None:
                return refused
            self.number_settings.update(parse_qsl((await request.body()).decode()))
            return JSONResponse(
                {"sid": number_sid, "phone_number": self.number, "sms_url": self.number_settings["SmsUrl"]}
            )

        return app


def _message_resource(account_sid: str, sid: str, form: dict[str, str]) -> dict[str, Any]:
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": form.get("Body", ""),
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
        "date_sent": None,
        "date_updated": "Thu, 24 Aug 2023 05:01:45 +0000",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued" if "MessagingServiceSid" not in form else "accepted",
        "to": form.get("To"),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }
