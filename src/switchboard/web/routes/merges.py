"""Merging contacts, undoing a merge, and merge suggestions (on the card and for the whole base)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from switchboard.application import merges as uc
from switchboard.application import suggestions as suggest
from switchboard.application.access import Principal
from switchboard.domain.matching import DEFAULT_MIN_SCORE
from switchboard.web.access import MANAGERS, STAFF, allow, container, current_principal
from switchboard.web.schemas import (
    ContactBrief,
    ContactOut,
    MergeIn,
    MergeOut,
    PathId,
    ReasonOut,
    SuggestedPairOut,
    SuggestedPairsPage,
    SuggestionOut,
    UndoOut,
)

router = APIRouter(tags=["contacts"])
Score = Query(DEFAULT_MIN_SCORE, gt=0.0, le=1.0, description="pairs scoring at least this")


@router.get("/contacts/suggestions", response_model=SuggestedPairsPage, **allow(*STAFF))
async def suggested_pairs(
    request: Request,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
    min_score: float = Score,
    principal: Principal = Depends(current_principal),
) -> SuggestedPairsPage:
    """Pairs of contacts that are probably one person, best first, from the last whole-base search
    (``switchboard contacts duplicates --save``); merged contacts drop out."""
    found = await suggest.suggested_merges(container(request).services, principal, limit, offset, min_score)
    items = [
        SuggestedPairOut(
            a=ContactBrief(id=pair.a.id, name=pair.a.name),
            b=ContactBrief(id=pair.b.id, name=pair.b.name),
            score=pair.score,
            reasons=[ReasonOut.of(r) for r in pair.reasons],
        )
        for pair in found
    ]
    return SuggestedPairsPage(items=items, next_offset=offset + limit if len(found) == limit else None)


@router.get("/contacts/{contact_id}/suggestions", response_model=list[SuggestionOut], **allow(*STAFF))
async def contact_suggestions(
    contact_id: PathId,
    request: Request,
    limit: int = Query(10, ge=1, le=50),
    min_score: float = Score,
    principal: Principal = Depends(current_principal),
) -> list[SuggestionOut]:
    """Contacts that may be this one, scored by name (transliteration, typos, swapped parts), phone, email,
    birth date, address, city and company, with each field's similarity and weight."""
    found = await suggest.contact_suggestions(container(request).services, principal, contact_id, limit, min_score)
    return [
        SuggestionOut(contact=ContactOut.of(s.contact), score=s.score, reasons=[ReasonOut.of(r) for r in s.reasons])
        for s in found
    ]


@router.post("/contacts/{contact_id}/merge", response_model=MergeOut, **allow(*MANAGERS))
async def merge(
    contact_id: PathId, body: MergeIn, request: Request, principal: Principal = Depends(current_principal)
) -> MergeOut:
    """Merge ``duplicate_id`` into this contact: its identities, conversations, leads and timeline move here;
    fields: the choice given, else newest non-empty wins. The duplicate stays as a tombstone (reads of it
    answer 307 to this contact). Admins and supervisors; audited; undo with POST /merges/{merge_id}/undo."""
    choices = {name: side.value for name, side in body.fields.items()}
    done = await uc.merge_contacts(container(request).services, principal, contact_id, body.duplicate_id, choices)
    return MergeOut(
        merge_id=done.merge_id,
        survivor=ContactOut.of(done.survivor),
        duplicate_id=done.duplicate_id,
        taken=done.taken,
        moved=done.moved,
    )


@router.post("/merges/{merge_id}/undo", response_model=UndoOut, **allow(*MANAGERS))
async def undo(merge_id: PathId, request: Request, principal: Principal = Depends(current_principal)) -> UndoOut:
    """Undo a merge: both contacts as they were (a field edited since the merge keeps the edit)."""
    done = await uc.undo_merge(container(request).services, principal, merge_id)
    return UndoOut(
        merge_id=done.merge_id, survivor=ContactOut.of(done.survivor), duplicate=ContactOut.of(done.duplicate)
    )
