"""Twilio Programmable Messaging: send through the Messages resource, take inbound SMS and status callbacks.

Sending is ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form-encoded, basic auth with
the account SID and auth token) with ``StatusCallback`` set to the channel's webhook URL; Twilio
splits a long body itself (up to 1,600 characters). Twilio posts inbound SMS and status callbacks
form-encoded to that URL, signed in ``X-Twilio-Signature``: base64 of HMAC-SHA1, keyed with the auth
token, over the full URL followed by every POST parameter's name and value, sorted by name. The URL
must therefore be exactly the public one Twilio calls (``settings.webhook_url``). An inbound SMS is
answered with empty TwiML (no automatic reply); its MessageSid is the external id, so a repeated
callback stores nothing twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from switchboard.adapters.connectors.http import call, header, same_secret
from switchboard.adapters.connectors.sms import settings as read
from switchboard.adapters.connectors.sms.phones import recipient, sender
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.errors import InvalidInput
from switchboard.application.intake import InboundMessage
from switchboard.application.ports.connectors import (
    ChannelConfig,
    OutboundMessage,
    Receipt,
    SendFailed,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
)
from switchboard.domain.conversation import DeliveryStatus
from switchboard.domain.source import Source

log = logging.getLogger("switchboard.sms.twilio")

API = "https://api.twilio.com"
MAX_BODY = 1600
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
ACCOUNT_SID = r"AC[0-9a-fA-F]{32}"
SERVICE_SID = r"MG[0-9a-fA-F]{32}"
SENDER = r"\+[1-9]\d{5,14}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}"

STATUS = {
    "queued": DeliveryStatus.QUEUED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
ERRORS = {  # https://www.twilio.com/docs/api/errors — the delivery errors a status callback carries
    "30001": "queue overflow",
    "30002": "account suspended",
    "30003": "unreachable destination handset",
    "30004": "message blocked",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "message filtered by the carrier",
    "30008": "unknown error",
    "30034": "US A2P 10DLC: message from an unregistered number",
}


def signature(token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """X-Twilio-Signature of a POST: base64(HMAC-SHA1(token, url + name1value1 + name2value2 …)), names sorted."""
    data = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_variants(url: str) -> set[str]:
    """The URL with and without its default port: Twilio's own validators accept either."""
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    bare = urlunsplit(parts._replace(netloc=host if parts.port in (None, default) else parts.netloc))
    with_port = urlunsplit(parts._replace(netloc=f"{host}:{parts.port or default}"))
    return {url, bare, with_port}


class TwilioProvider:
    name: str = "twilio"
    secret_names: tuple[str, ...] = ("auth_token",)

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        read.text(settings, "account_sid", pattern=ACCOUNT_SID, hint="AC followed by 32 hexadecimal digits")
        has_from = read.optional_text(settings, "from", pattern=SENDER, hint="an E.164 number or an alphanumeric ID")
        service = read.optional_text(settings, "messaging_service_sid", pattern=SERVICE_SID, hint="MG and 32 digits")
        if has_from is None and service is None:
            raise InvalidInput("Twilio needs a from number or a messaging_service_sid", field="settings.from")
        read.url(settings, "webhook_url")
        read.url(settings, "base_url", default=API)
        read.max_parts(settings, 10)
        read.secret(secrets, "auth_token")

    def max_parts(self, settings: Mapping[str, Any]) -> int:
        return read.max_parts(settings, 10)

    def max_characters(self) -> int | None:
        return MAX_BODY

    def _base(self, config: ChannelConfig) -> str:
        base = read.url(config.settings, "base_url", default=API)
        return f"{base}/2010-04-01/Accounts/{config.settings['account_sid']}"

    def _auth(self, config: ChannelConfig) -> tuple[str, str]:
        return (str(config.settings["account_sid"]), config.secret("auth_token"))

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        form = {"To": recipient(message), "Body": message.body, "StatusCallback": str(config.settings["webhook_url"])}
        if config.settings.get("messaging_service_sid"):
            form["MessagingServiceSid"] = str(config.settings["messaging_service_sid"])
        else:
            form["From"] = str(config.settings["from"])
        response = await call(
            self._client,
            "POST",
            f"{self._base(config)}/Messages.json",
            provider="twilio",
            data=form,
            auth=self._auth(config),
        )
        answer = _json(response)
        sid = answer.get("sid")
        if not isinstance(sid, str) or not sid:
            raise SendFailed(f"twilio: the answer names no message sid: {response.text[:200]}", retryable=False)
        if answer.get("status") == "failed":
            raise SendFailed(
                f"twilio: failed at once: {answer.get('error_code')} {answer.get('error_message')}", retryable=False
            )
        return Receipt(sid, DeliveryStatus.SENT)

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        if request.method.upper() != "POST":
            raise WebhookRejected("Twilio webhooks are POSTed; set the number's webhook method to HTTP POST", 405)
        params = _form(request.body)
        self._verify(config, request, params)
        fields = dict(params)
        if fields.get("AccountSid") != config.settings.get("account_sid"):
            raise WebhookRejected("the callback is for another Twilio account", 403)
        if fields.get("SmsStatus") == "received" or ("Body" in fields and "MessageStatus" not in fields):
            return WebhookResult(
                messages=(_inbound(config, fields),), reply_body=EMPTY_TWIML, reply_content_type="text/xml"
            )
        if "MessageStatus" in fields:
            return _status(config, fields)
        log.info("twilio channel %d: callback without Body or MessageStatus ignored", config.id)
        return WebhookResult(ignored=("twilio: callback without Body or MessageStatus",), reply_body=b"")

    def _verify(self, config: ChannelConfig, request: WebhookRequest, params: list[tuple[str, str]]) -> None:
        given = header(request.headers, "x-twilio-signature")
        token = config.secrets.get("auth_token")
        if not token:
            raise WebhookRejected("the channel has no auth_token: no callback can be verified")
        url = str(config.settings.get("webhook_url") or "")
        if not given or not any(same_secret(given, signature(token, u, params)) for u in _url_variants(url)):
            raise WebhookRejected("X-Twilio-Signature does not match (is webhook_url exactly the URL Twilio calls?)")

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        """Check the credentials and point the sending number's incoming SMS webhook at this channel."""
        auth = self._auth(config)
        await call(self._client, "GET", f"{self._base(config)}.json", provider="twilio", auth=auth)
        url = str(config.settings.get("webhook_url") or public_url)
        number = config.settings.get("from")
        if not number or not str(number).startswith("+"):
            return f"Twilio credentials work; set the Messaging Service's incoming webhook to {url} (HTTP POST)"
        found = await call(
            self._client,
            "GET",
            f"{self._base(config)}/IncomingPhoneNumbers.json",
            provider="twilio",
            params={"PhoneNumber": number},
            auth=auth,
        )
        numbers = _json(found).get("incoming_phone_numbers") or []
        if not numbers:
            raise SendFailed(f"twilio: the account has no number {number}", retryable=False)
        number_sid = numbers[0]["sid"]
        form = {"SmsUrl": url, "SmsMethod": "POST"}
        path = f"{self._base(config)}/IncomingPhoneNumbers/{number_sid}.json"
        await call(self._client, "POST", path, provider="twilio", data=form, auth=auth)
        return f"Twilio number {number} now posts incoming SMS to {url}"


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except json.JSONDecodeError as error:
        raise SendFailed(f"twilio: unreadable answer: {response.text[:200]}", retryable=True) from error
    return answer if isinstance(answer, dict) else {}


def _form(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as error:
        raise WebhookRejected(f"twilio: the body is not a form: {error}", 400) from error


def _inbound(config: ChannelConfig, fields: dict[str, str]) -> InboundMessage:
    sid, origin = fields.get("MessageSid") or fields.get("SmsSid"), fields.get("From")
    if not sid or not origin:
        raise WebhookRejected("twilio: an inbound message without MessageSid or From", 400)
    body = fields.get("Body", "")
    count = fields.get("NumMedia", "0")
    media = int(count) if count.isdigit() else 0
    if media:
        body = f"{body}\n[{media} MMS media file(s): not taken in by the SMS channel]".strip()
    return InboundMessage(
        channel_id=config.id,
        sender=sender(origin),
        body=body,
        external_id=sid,
        source=Source(dialled_number=fields.get("To") or None),
    )


def _status(config: ChannelConfig, fields: dict[str, str]) -> WebhookResult:
    sid, value = fields.get("MessageSid") or fields.get("SmsSid"), fields["MessageStatus"]
    status = STATUS.get(value)
    if not sid:
        raise WebhookRejected("twilio: a status callback without MessageSid", 400)
    if status is None:
        log.info("twilio channel %d: MessageStatus %r ignored", config.id, value)
        return WebhookResult(ignored=(f"twilio: MessageStatus {value}",), reply_body=b"")
    error = None
    if status is DeliveryStatus.FAILED:
        code = fields.get("ErrorCode") or ""
        meaning = fields.get("ErrorMessage") or ERRORS.get(code, "")
        error = f"twilio: {value}" + (f", error {code}" if code else "") + (f" ({meaning})" if meaning else "")
    return WebhookResult(statuses=(DeliveryUpdate(config.id, sid, status, error),), reply_body=b"")
