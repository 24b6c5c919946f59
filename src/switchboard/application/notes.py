"""Internal notes on a conversation and the desk's canned responses."""

from __future__ import annotations

from datetime import datetime

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.conversations import check_reads
from switchboard.application.errors import InvalidInput, NotFound
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.events import NoteAdded
from switchboard.domain.notes import CannedResponse, Note, canned_problems, note_problem
from switchboard.domain.operators import Role
from switchboard.domain.timeline import summarize

STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
MANAGERS = (Role.ADMIN, Role.SUPERVISOR)
NOTES_PER_CONVERSATION = 1000


async def add_note(services: Services, principal: Principal, conversation_id: int, body: str) -> Note:
    """Anyone who may read the conversation may leave a note on it; the customer never sees notes."""
    require_role(principal, *STAFF)
    problem = note_problem(body)
    if problem is not None:
        raise InvalidInput(problem, field="text")
    now = services.clock.now()
    async with services.uow() as uow:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        await check_reads(uow, principal, conversation)
        note = await uow.notes.add(conversation_id, principal.user_id, body, now)
        await uow.timeline.add(conversation.contact_id, "note", note.id, now, summarize(body), conversation_id)
        uow.emit(NoteAdded(note.id, conversation_id, principal.user_id, conversation.assignee_id), now)
        await uow.commit()
        return note


async def list_notes(services: Services, principal: Principal, conversation_id: int) -> list[Note]:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        await check_reads(uow, principal, conversation)
        return await uow.notes.list(conversation_id, NOTES_PER_CONVERSATION)


async def list_canned(services: Services, principal: Principal) -> list[CannedResponse]:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        return await uow.canned.list()


async def create_canned(
    services: Services, principal: Principal, shortcut: str, title: str, body: str
) -> CannedResponse:
    """Supervisors and admins keep the shared answers; a shortcut is unique."""
    require_role(principal, *MANAGERS)
    problems = canned_problems(shortcut, title, body)
    if problems:
        field, message = problems[0]
        raise InvalidInput(f"{field}: {message}", field=field)
    now = services.clock.now()
    async with services.uow() as uow:
        if any(c.shortcut == shortcut for c in await uow.canned.list()):
            raise InvalidInput(f"shortcut /{shortcut} is taken", field="shortcut")
        canned = await uow.canned.add(shortcut, title.strip(), body, now)
        await _audit(uow, principal, "canned.create", canned.id, now)
        await uow.commit()
        return canned


async def delete_canned(services: Services, principal: Principal, canned_id: int) -> None:
    require_role(principal, *MANAGERS)
    now = services.clock.now()
    async with services.uow() as uow:
        if not await uow.canned.delete(canned_id):
            raise NotFound(f"canned response {canned_id} does not exist")
        await _audit(uow, principal, "canned.delete", canned_id, now)
        await uow.commit()


async def _audit(uow: UnitOfWork, principal: Principal, action: str, canned_id: int, now: datetime) -> None:
    await uow.audit.add(
        now, action, "canned_response", canned_id, {}, principal.user_id, principal.token_id, principal.request_id
    )
