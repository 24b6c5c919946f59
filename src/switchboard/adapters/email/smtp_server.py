"""Inbound SMTP (aiosmtpd) on a configurable host and port, on the application's own event loop.

The server accepts mail only for the configured domains or addresses (plus-addressed variants of an
address included: reply tokens live there), refuses other recipients with 550, refuses messages
over the size limit with 552, and hands each accepted message, byte for byte as received, to the
injected ``on_message(raw, envelope_from, rcpt_tos)``. The 250 reply is sent only after the callback
returns; if it raises, the sender gets 451 and retries later, so a message is never lost: the callback
must store the raw message durably before it returns.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import ssl
import warnings
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

log = logging.getLogger("switchboard.email.smtp")

OnMessage = Callable[[bytes, str, list[str]], Awaitable[None]]
Authenticator = Callable[[SMTP, Session, Envelope, str, Any], AuthResult]


@dataclass(frozen=True, slots=True)
class SmtpServerSettings:
    host: str = "127.0.0.1"
    port: int = 2525  # 0 picks a free port; read it back from SmtpServer.port
    accept_domains: frozenset[str] = field(default_factory=frozenset)
    accept_addresses: frozenset[str] = field(default_factory=frozenset)
    max_message_bytes: int = 25 * 1024 * 1024
    max_recipients: int = 100
    hostname: str | None = None
    starttls_context: ssl.SSLContext | None = None
    require_starttls: bool = False
    implicit_tls_context: ssl.SSLContext | None = None
    authenticator: Authenticator | None = None
    auth_required: bool = False
    auth_require_tls: bool = True
    timeout_seconds: float = 300.0


def password_authenticator(users: Mapping[str, str]) -> Authenticator:
    """An aiosmtpd authenticator over fixed user → password pairs (PLAIN and LOGIN)."""

    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode("utf-8", "replace")
        expected = users.get(login)
        ok = expected is not None and hmac.compare_digest(expected.encode(), data.password)
        return AuthResult(success=ok, handled=False)

    return authenticate


class RecipientPolicy:
    """Which envelope recipients we accept: configured domains, or addresses (with any +tag)."""

    def __init__(self, domains: frozenset[str], addresses: frozenset[str]) -> None:
        if not domains and not addresses:
            raise ValueError("an SMTP server needs at least one accepted domain or address")
        self.domains = frozenset(d.lower().lstrip("@") for d in domains)
        self.addresses = frozenset(a.lower() for a in addresses)

    def accepts(self, address: str) -> bool:
        local, at, domain = address.strip().strip("<>").rpartition("@")
        if not at or not local or not domain:
            return False
        domain = domain.lower().rstrip(".")
        if domain in self.domains:
            return True
        base = local.lower().partition("+")[0]
        return f"{local.lower()}@{domain}" in self.addresses or f"{base}@{domain}" in self.addresses


class InboundHandler:
    """The aiosmtpd handler: recipient checks at RCPT, the hand-off at DATA."""

    def __init__(self, policy: RecipientPolicy, on_message: OnMessage, max_recipients: int) -> None:
        self.policy = policy
        self.on_message = on_message
        self.max_recipients = max_recipients

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not self.policy.accepts(address):
            return f"550 5.1.1 <{address}>: recipient unknown"
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content
        if raw is None:
            raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content or "").encode()
        sender = (envelope.mail_from or "").strip()
        sender = "" if sender == "<>" else sender  # the null reverse-path of bounces is given as ""
        try:
            await self.on_message(raw, sender, list(envelope.rcpt_tos))
        except Exception:
            log.exception("inbound mail from %s could not be stored; answered 451", envelope.mail_from)
            return "451 4.3.0 Temporary failure storing the message, please retry"
        return "250 2.0.0 Message accepted"


class SmtpServer:
    """Runs the SMTP listener on the running event loop. Use ``async with`` or start()/stop()."""

    def __init__(self, settings: SmtpServerSettings, on_message: OnMessage) -> None:
        self.settings = settings
        self.handler = InboundHandler(
            RecipientPolicy(settings.accept_domains, settings.accept_addresses), on_message, settings.max_recipients
        )
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def _protocol(self) -> SMTP:
        s = self.settings
        # aiosmtpd cannot tell a connection that began in TLS; on an implicit-TLS listener every
        # connection did, so login is over TLS and its "AUTH without TLS" warning does not apply.
        implicit = s.implicit_tls_context is not None
        with warnings.catch_warnings():
            if implicit:
                warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            protocol = self._smtp(auth_require_tls=s.auth_require_tls and not implicit)
        self._sessions.add(protocol)
        return protocol

    def _smtp(self, *, auth_require_tls: bool) -> SMTP:
        s = self.settings
        return SMTP(
            self.handler,
            data_size_limit=s.max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=s.hostname,
            ident="Switchboard ESMTP",
            tls_context=s.starttls_context,
            require_starttls=s.require_starttls,
            timeout=s.timeout_seconds,
            authenticator=s.authenticator,
            auth_required=s.auth_required,
            auth_require_tls=auth_require_tls,
            loop=asyncio.get_running_loop(),
        )

    async def start(self) -> None:
        if self._server is not None:
            return
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, host=self.settings.host, port=self.settings.port, ssl=self.settings.implicit_tls_context
        )
        log.info("SMTP server listening on %s:%s", self.settings.host, self.port)

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the SMTP server is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            for session in list(self._sessions):  # idle clients would otherwise keep wait_closed() waiting
                if session.transport is not None:
                    session.transport.close()
            await server.wait_closed()

    async def __aenter__(self) -> SmtpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
