"""Click-to-call over HTTP: a signed POST to the PBX integration's ``originate_url``.

    POST <originate_url>
    X-Switchboard-Timestamp: 1767225600
    X-Switchboard-Signature: sha256=<HMAC-SHA256(secret, timestamp + "." + body)>
    {"call_id": "sb-…", "channel_id": 2, "operator_id": 3, "from": "sip:olga@pbx", "to": "+79161234567",
     "caller_id": "+74950000000"}

Any 2xx means the PBX took it (it may answer ``{"call_id": "<its own id>"}``); anything else, or
no answer within the timeout, is an ``OriginateFailed`` with the reason.
"""

from __future__ import annotations

import json

import httpx

from switchboard.adapters.connectors.http import new_client
from switchboard.application.ports.clock import Clock
from switchboard.application.ports.voice import OriginateFailed, OriginateRequest
from switchboard.domain.voice.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

TIMEOUT = httpx.Timeout(5.0, connect=3.0)


class HttpOriginator:
    def __init__(self, clock: Clock, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._clock = clock
        self._client = new_client(transport, TIMEOUT)

    @property
    def needs_url(self) -> bool:
        return True

    async def originate(self, request: OriginateRequest) -> str | None:
        if not request.url or not request.secret:
            raise OriginateFailed("the channel has no originate_url and secret to place calls with")
        body = json.dumps(
            {
                "call_id": request.call_id,
                "channel_id": request.channel_id,
                "operator_id": request.operator_id,
                "from": request.operator_target,
                "to": request.number,
                "caller_id": request.caller_id,
            }
        ).encode()
        timestamp = str(int(self._clock.now().timestamp()))
        headers = {
            "content-type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(request.secret, timestamp, body),
        }
        try:
            response = await self._client.post(request.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise OriginateFailed(f"cannot reach the PBX ({type(error).__name__})") from error
        if not response.is_success:
            raise OriginateFailed(f"HTTP {response.status_code} {response.text[:200]}".strip())
        return _pbx_id(response)

    async def close(self) -> None:
        await self._client.aclose()


def _pbx_id(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    value = data.get("call_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None
