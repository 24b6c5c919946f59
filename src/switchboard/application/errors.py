"""Application errors: each maps to one HTTP problem type in the web layer."""

from __future__ import annotations


class ApplicationError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(ApplicationError):
    status = 404
    title = "Not found"


class Forbidden(ApplicationError):
    status = 403
    title = "Forbidden"


class Unauthenticated(ApplicationError):
    status = 401
    title = "Unauthenticated"


class InvalidInput(ApplicationError):
    status = 422
    title = "Invalid input"


class StateConflict(ApplicationError):
    status = 409
    title = "Conflict"


class Unavailable(ApplicationError):
    status = 503
    title = "Service unavailable"


class BadGateway(ApplicationError):
    """A system we depend on (the PBX) refused or did not answer."""

    status = 502
    title = "Bad gateway"
