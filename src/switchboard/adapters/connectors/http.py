"""What every HTTP provider's connector shares: calling the API with one meaning of failure, checking signatures.

A provider's answer maps onto ``SendFailed`` the same way for every connector: a timeout, a
refused connection or a 5xx may succeed later (retryable); a 429 is retryable after the time the
provider asks for (``Retry-After`` or the body's own field, which the caller passes); any other
4xx will not succeed as it is and fails the message with the provider's reason.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
from collections.abc import Mapping
from functools import cache
from typing import Any

import httpx

from switchboard.application.ports.connectors import SendFailed

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_REASON = 500


@cache
def tls() -> ssl.SSLContext:
    """One verifying TLS context for every client: loading the CA bundle takes ~30 ms, once per process is enough."""
    return httpx.create_ssl_context()


def new_client(
    transport: httpx.AsyncBaseTransport | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT
) -> httpx.AsyncClient:
    """One client per connector; tests inject a transport or point the channel's base URL at a local server."""
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, verify=tls())


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


async def call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    retry_after: float | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request; return a 2xx response or raise ``SendFailed`` saying why and whether to retry."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException as error:
        raise SendFailed(f"{provider}: timed out ({type(error).__name__})", retryable=True) from error
    except httpx.TransportError as error:
        raise SendFailed(f"{provider}: cannot connect ({type(error).__name__})", retryable=True) from error
    if response.is_success:
        return response
    reason = f"{provider}: HTTP {response.status_code} {response.text[:MAX_REASON]}".strip()
    if response.status_code == 429:
        wait = retry_after if retry_after is not None else retry_after_seconds(response)
        raise SendFailed(reason, retryable=True, retry_after=wait)
    if response.status_code >= 500 or response.status_code == 408:
        raise SendFailed(reason, retryable=True, retry_after=retry_after_seconds(response))
    raise SendFailed(reason, retryable=False)


def hmac_sha256_hex(secret: str | bytes, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a header or token the provider sent with the one we configured."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def header(headers: Mapping[str, str], name: str) -> str | None:
    return headers.get(name.lower())
