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


class ContactMerged(StateConflict):
    """The contact asked for was merged into another: its history, identities and fields are there now."""

    def __init__(self, contact_id: int, survivor_id: int) -> None:
        super().__init__(f"contact {contact_id} was merged into contact {survivor_id}", field="contact_id")
        self.contact_id = contact_id
        self.survivor_id = survivor_id


class BadGateway(ApplicationError):
    """A system we depend on (the PBX) refused or did not answer."""

    status = 502
    title = "Bad gateway"
