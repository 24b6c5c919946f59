"""The operator's desk beyond replies: internal notes, canned responses, revealing a customer's full contacts."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from switchboard.application import notes as uc
from switchboard.application.access import Principal
from switchboard.application.desk_heads import MAX_MESSAGES, ConversationHead, conversation_heads
from switchboard.application.errors import InvalidInput
from switchboard.application.privacy import reveal_contact, shown
from switchboard.domain.notes import CannedResponse, Note
from switchboard.web.access import MANAGERS, STAFF, allow, container, current_principal
from switchboard.web.schemas import ContactOut, ConversationOut, MessageOut, PathId, Strict

router = APIRouter()


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=10_000)


class NoteOut(BaseModel):
    id: int
    conversation_id: int
    author_id: int | None
    text: str
    created_at: datetime

    @classmethod
    def of(cls, n: Note) -> NoteOut:
        return cls(
            id=n.id, conversation_id=n.conversation_id, author_id=n.author_id, text=n.body, created_at=n.created_at
        )


class CannedIn(Strict):
    shortcut: str = Field(min_length=1, max_length=40, description="typed after '/' in the composer")
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=10_000)


class CannedOut(BaseModel):
    id: int
    shortcut: str
    title: str
    text: str

    @classmethod
    def of(cls, c: CannedResponse) -> CannedOut:
        return cls(id=c.id, shortcut=c.shortcut, title=c.title, text=c.body)


class RevealIn(Strict):
    reason: str = Field(default="", max_length=200, description="kept in the audit log")


@router.get(
    "/conversations/{conversation_id}/notes", response_model=list[NoteOut], tags=["conversations"], **allow(*STAFF)
)
async def notes(
    conversation_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> list[NoteOut]:
    """Internal notes on the conversation, oldest first; the customer never sees them."""
    return [NoteOut.of(n) for n in await uc.list_notes(container(request).services, principal, conversation_id)]


@router.post(
    "/conversations/{conversation_id}/notes",
    response_model=NoteOut,
    status_code=201,
    tags=["conversations"],
    **allow(*STAFF),
)
async def add_note(
    conversation_id: PathId, body: NoteIn, request: Request, principal: Principal = Depends(current_principal)
) -> NoteOut:
    """Leave a note for colleagues (anyone who may read the conversation); announced as NoteAdded."""
    return NoteOut.of(await uc.add_note(container(request).services, principal, conversation_id, body.text))


@router.get("/canned-responses", response_model=list[CannedOut], tags=["desk"], **allow(*STAFF))
async def canned(request: Request, principal: Principal = Depends(current_principal)) -> list[CannedOut]:
    """The shared ready answers, by shortcut."""
    return [CannedOut.of(c) for c in await uc.list_canned(container(request).services, principal)]


@router.post("/canned-responses", response_model=CannedOut, status_code=201, tags=["desk"], **allow(*MANAGERS))
async def add_canned(body: CannedIn, request: Request, principal: Principal = Depends(current_principal)) -> CannedOut:
    made = await uc.create_canned(container(request).services, principal, body.shortcut, body.title, body.text)
    return CannedOut.of(made)


@router.delete("/canned-responses/{canned_id}", status_code=204, tags=["desk"], **allow(*MANAGERS))
async def delete_canned(
    canned_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    await uc.delete_canned(container(request).services, principal, canned_id)
    return Response(status_code=204)


@router.post("/contacts/{contact_id}/reveal", response_model=ContactOut, tags=["contacts"], **allow(*STAFF))
async def reveal(
    contact_id: PathId, body: RevealIn, request: Request, principal: Principal = Depends(current_principal)
) -> ContactOut:
    """The contact's identities in full (operators see them masked elsewhere); every reveal is audited."""
    return ContactOut.of(await reveal_contact(container(request).services, principal, contact_id, body.reason))


class HeadOut(BaseModel):
    conversation: ConversationOut
    contact: ContactOut | None = Field(description="null when the contact was merged: GET /contacts/{id} follows")
    messages: list[MessageOut] = Field(description="the newest `limit`, newest first (as /messages)")
    notes: list[NoteOut] = Field(description="oldest first")
    complete: bool = Field(description="no older messages than these")

    @classmethod
    def of(cls, principal: Principal, head: ConversationHead, limit: int) -> HeadOut:
        return cls(
            conversation=ConversationOut.of(head.conversation),
            contact=ContactOut.of(shown(principal, head.contact)) if head.contact else None,
            messages=[MessageOut.of(m) for m in head.messages],
            notes=[NoteOut.of(n) for n in head.notes],
            complete=len(head.messages) < limit,
        )


def _ids(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput("ids are conversation ids separated by commas, e.g. 12,15,18", field="ids") from None


@router.get("/desk/heads", response_model=list[HeadOut], tags=["desk"], **allow(*STAFF))
async def heads(
    request: Request,
    ids: str = Query("", max_length=2200, description="conversation ids, comma-separated: 12,15,18"),
    limit: int = Query(30, ge=1, le=MAX_MESSAGES),
    principal: Principal = Depends(current_principal),
) -> list[HeadOut]:
    """Several conversations at once (card, newest messages, notes): the desk warms all it holds in one request.

    Conversations the caller may not read, or that do not exist, are left out.
    """
    found = await conversation_heads(container(request).services, principal, _ids(ids), limit)
    return [HeadOut.of(principal, head, limit) for head in found]
