"""Outbound SMTP (aiosmtplib): plain, STARTTLS or implicit TLS, optional login, and failures sorted
into temporary (retry later: 4xx replies, connection trouble, timeouts) and permanent (5xx replies,
a rejected login, a TLS mode or certificate that will not work until the configuration changes).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from enum import StrEnum

import aiosmtplib

from switchboard.adapters.email.errors import PermanentSendError, SendError, TemporarySendError


class TlsMode(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"  # implicit TLS ("SMTPS", port 465)


@dataclass(frozen=True, slots=True)
class SmtpClientSettings:
    host: str
    port: int = 587
    tls: TlsMode = TlsMode.STARTTLS
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0
    local_hostname: str | None = None
    # Trust these CA certificates (PEM file) instead of the system store: a private relay's own CA.
    cert_bundle: str | None = None
    validate_certs: bool = True


@dataclass(frozen=True, slots=True)
class SendReceipt:
    message_id: str | None
    accepted_recipients: tuple[str, ...]
    refused_recipients: tuple[tuple[str, int, str], ...] = ()
    response: str = ""


def envelope_recipients(message: EmailMessage) -> list[str]:
    """To, Cc and Bcc addresses, deduplicated, in order."""
    values = [str(v) for name in ("To", "Cc", "Bcc") for v in (message.get_all(name) or [])]
    return list(dict.fromkeys(address for _, address in getaddresses(values) if address))


class SmtpSender:
    """Sends one message per connection: simple, and correct behind any relay."""

    def __init__(self, settings: SmtpClientSettings) -> None:
        self.settings = settings

    async def send(
        self,
        message: EmailMessage,
        *,
        envelope_from: str | None = None,
        recipients: Sequence[str] | None = None,
    ) -> SendReceipt:
        s = self.settings
        to = list(recipients) if recipients is not None else envelope_recipients(message)
        if not to:
            raise PermanentSendError("the message has no recipients")
        try:
            errors, response = await aiosmtplib.send(
                message,
                sender=envelope_from,
                recipients=to,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                use_tls=s.tls is TlsMode.TLS,
                start_tls=s.tls is TlsMode.STARTTLS,
                validate_certs=s.validate_certs,
                cert_bundle=s.cert_bundle,
                timeout=s.timeout_seconds,
                local_hostname=s.local_hostname,
            )
        except Exception as error:
            raise classify(error) from error
        refused = tuple((rcpt, reply.code, reply.message) for rcpt, reply in errors.items())
        refused_names = {rcpt for rcpt, _, _ in refused}
        message_id = message.get("Message-ID")
        return SendReceipt(
            message_id=str(message_id).strip().strip("<>") if message_id else None,
            accepted_recipients=tuple(r for r in to if r not in refused_names),
            refused_recipients=refused,
            response=response,
        )


def _caused_by_certificate(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def classify(error: BaseException) -> SendError:
    """Turn an aiosmtplib/OS error into a TemporarySendError or PermanentSendError with the SMTP reply."""
    if isinstance(error, SendError):
        return error
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        replies = [(r.recipient, r.code, r.message) for r in error.recipients]
        detail = "all recipients refused: " + "; ".join(f"{rcpt} {code} {text}" for rcpt, code, text in replies)
        code, text = (replies[0][1], replies[0][2]) if replies else (None, "")
        permanent = bool(replies) and all(c >= 500 for _, c, _ in replies)
        return (PermanentSendError if permanent else TemporarySendError)(detail, code=code, text=text)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        kind = type(error).__name__.removeprefix("SMTP")
        detail = f"{kind}: {error.code} {error.message}"
        cls = PermanentSendError if 500 <= error.code < 600 else TemporarySendError
        return cls(detail, code=error.code, text=error.message)
    if _caused_by_certificate(error):
        return PermanentSendError(f"the server's TLS certificate is not trusted: {error}")
    if isinstance(error, aiosmtplib.SMTPNotSupported) or (
        type(error) is aiosmtplib.SMTPException and "not supported" in str(error)  # e.g. STARTTLS not offered
    ):
        return PermanentSendError(f"the server does not support what the settings ask for: {error}")
    if isinstance(error, aiosmtplib.SMTPException | OSError | TimeoutError):
        return TemporarySendError(f"{type(error).__name__}: {error}")
    return TemporarySendError(f"unexpected {type(error).__name__}: {error}")
