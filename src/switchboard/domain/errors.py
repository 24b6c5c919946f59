"""Domain errors: each names the field it concerns so the API can say which input is wrong."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken by the input or the request."""

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidIdentity(DomainError):
    """A phone, email or messenger id that cannot be normalized."""


class InvalidTransition(DomainError):
    """A conversation was asked to move where its state machine does not go."""
