"""Local peers that speak providers' documented APIs, for connector tests (no network leaves the machine).

Each HTTP provider is a FastAPI app to serve with ``tests.support.server.serving``; it records what
it was sent and can be told to fail. Webhooks come out of it as ``WebhookCall`` values: exactly the
method, headers and body the provider would POST, signed the way the provider documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from switchboard.application.ports.connectors import WebhookRequest


@dataclass(frozen=True)
class WebhookCall:
    """One webhook as the provider sends it, before anything on our side reads it."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"

    def request(self) -> WebhookRequest:
        """What our webhook route hands the connector: lower-cased headers, the URL's query, the raw body."""
        query = dict(parse_qsl(urlsplit(self.url).query))
        headers = {name.lower(): value for name, value in self.headers.items()}
        return WebhookRequest(method=self.method, headers=headers, query=query, body=self.body)
