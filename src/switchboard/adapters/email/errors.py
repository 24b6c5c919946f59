"""Errors of the email connector: each names what was wrong so the caller can report it clearly."""

from __future__ import annotations


class EmailError(Exception):
    """Base of every error raised by the email connector."""


class MalformedEmail(EmailError):
    """The bytes are not a usable RFC 5322/MIME message (no headers, no sender, broken multipart …)."""


class MalformedFax(EmailError):
    """The mail came from a fax gateway but carries no fax document or no recognisable fax number."""


class ComposeError(EmailError):
    """An outgoing message cannot be built from what was given (bad address, missing PDF …)."""


class SendError(EmailError):
    """Sending through SMTP failed. ``temporary`` tells whether retrying later may succeed."""

    temporary: bool = False

    def __init__(self, detail: str, *, code: int | None = None, text: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.text = text


class TemporarySendError(SendError):
    """Retry later: a 4xx reply, a refused or dropped connection, a timeout."""

    temporary = True


class PermanentSendError(SendError):
    """Do not retry as is: a 5xx reply, a rejected login, a TLS mode the server does not offer."""

    temporary = False
