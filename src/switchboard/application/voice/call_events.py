"""What the PBX reports: ringing at an operator, answered, transferred, hung up, recording ready.

Each event is stored once by its event id (a repeat changes nothing) and applied to the call if it
still can be. Events may arrive out of order: a hang-up before the answer ends the call at once;
the answer that turns up later, stamped before the hang-up, corrects the record (answered, talk
time, no callback), and anything else late is stored and ignored.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from switchboard.application.errors import InvalidInput
from switchboard.application.ports.storage import UnitOfWork
from switchboard.application.voice.callbacks import changed
from switchboard.application.voice.ending import end_call
from switchboard.application.voice.flow import MAX_TALK_S, CallContext
from switchboard.application.voice.model import CallEvent, EventKind
from switchboard.domain.conversation import ConversationStatus
from switchboard.domain.events import CallAnswered, CallRinging, ConversationAssigned, OfferAccepted, OffersWithdrawn
from switchboard.domain.operators import Role
from switchboard.domain.voice.call import CALLER_HANGUP, Call, CallDirection, CallStatus, Disposition
from switchboard.domain.voice.callbacks import CallbackStatus

S = ConversationStatus
Applied = tuple[bool, str]


async def apply_event(ctx: CallContext, call: Call, event: CallEvent, at: datetime) -> Applied:
    """(applied, why not) for one event on the call."""
    match event.kind:
        case EventKind.RINGING:
            return await _ringing(ctx, call, event, at)
        case EventKind.ANSWERED:
            return await _answered(ctx, call, event, at)
        case EventKind.TRANSFERRED:
            return await _transferred(ctx, call, event, at)
        case EventKind.HANGUP:
            if not call.live:
                return False, "the call has already ended"
            await end_call(ctx.uow, call, at, CALLER_HANGUP)
            return True, ""
        case EventKind.RECORDING:
            call.recording_url = event.recording_url
            return True, ""
    return False, "unknown event"


async def operator_of(ctx: CallContext, call: Call, event: CallEvent) -> int | None:
    """The operator the event names, by id or by the extension that rang; else the one the call was put through to."""
    operator_id = event.operator_id
    if operator_id is None and event.extension:
        operator_id = ctx.voice.operator_at(event.extension)
        if operator_id is None:
            user = await ctx.uow.users.get_by_login(event.extension)
            operator_id = user[0].id if user is not None else None
    if operator_id is None:
        return call.operator_id
    user_found = await ctx.uow.users.get(operator_id)
    if user_found is None or user_found.role is not Role.OPERATOR:
        raise InvalidInput(f"user {operator_id} is not an operator", field="operator_id")
    return operator_id


async def _ringing(ctx: CallContext, call: Call, event: CallEvent, at: datetime) -> Applied:
    if not call.live or call.answered_at is not None:
        return False, "the call is no longer waiting for an answer"
    operator_id = await operator_of(ctx, call, event)
    if call.status is not CallStatus.DIALING:
        call.status = CallStatus.RINGING
    call.offered_at = call.offered_at or at
    if operator_id is None:  # a phone that is nobody's desk (the IVR put the call through to a number)
        return True, "no operator's phone: nothing to pop"
    call.operator_id = operator_id
    ctx.uow.emit(CallRinging(call.id, call.conversation_id, operator_id, call.contact_id), at)
    return True, ""


async def _answered(ctx: CallContext, call: Call, event: CallEvent, at: datetime) -> Applied:
    if call.answered_at is not None:
        return False, "the call was already answered"
    operator_id = await operator_of(ctx, call, event)
    if not call.live:
        return await _late_answer(ctx, call, operator_id, at)
    call.answered_at, call.status, call.operator_id = at, CallStatus.TALKING, operator_id
    call.expires_at = ctx.now + timedelta(seconds=MAX_TALK_S)
    if call.direction is CallDirection.IN and call.conversation_id is not None and operator_id is not None:
        await _assign(ctx.uow, call.conversation_id, operator_id, at)
    ctx.uow.emit(CallAnswered(call.id, call.conversation_id, operator_id), at)
    return True, ""


async def _assign(uow: UnitOfWork, conversation_id: int, operator_id: int, at: datetime) -> None:
    """The operator picked up: their offer is accepted. If it ran out meanwhile, the call is still theirs."""
    if await uow.routing.take_offer(conversation_id, operator_id, at):
        others = await uow.routing.settle_offers(conversation_id, None, "withdrawn", at)
        await uow.routing.set_missed_offers(operator_id, 0)  # answering ends a run of misses, as in the engine
        uow.emit(OfferAccepted(conversation_id, operator_id), at)
        uow.emit(ConversationAssigned(conversation_id, operator_id, None, None), at)
        if others:
            uow.emit(OffersWithdrawn(conversation_id, tuple(others), "taken"), at)
        return
    current = await uow.routing.conversation(conversation_id)
    if current is None or (current.status is S.ASSIGNED and current.assignee_id == operator_id):
        return
    if await uow.routing.move(
        conversation_id, (S.NEW, S.QUEUED, S.OFFERED, S.ASSIGNED, S.WAITING), S.ASSIGNED, at, assignee_id=operator_id
    ):
        others = await uow.routing.settle_offers(conversation_id, None, "withdrawn", at)
        if others:
            uow.emit(OffersWithdrawn(conversation_id, tuple(others), "taken"), at)
        # by the operator's hand, as routing sees it: the router relearns from the database
        uow.emit(ConversationAssigned(conversation_id, operator_id, current.assignee_id, operator_id), at)


async def _late_answer(ctx: CallContext, call: Call, operator_id: int | None, at: datetime) -> Applied:
    """An answer reported after the hang-up, but stamped before it: the call was answered after all."""
    if call.ended_at is None or at > call.ended_at:
        return False, "the call had ended before this answer"
    call.answered_at, call.operator_id = at, operator_id
    call.disposition = Disposition.ANSWERED
    call.measure(call.after_work_s)
    for callback in await ctx.uow.callbacks.for_call(call.id):
        if callback.status is CallbackStatus.OPEN:
            callback.status, callback.done_at = CallbackStatus.CANCELLED, ctx.now
            await ctx.uow.callbacks.save(callback)
            changed(ctx.uow, callback, ctx.now)
    if call.conversation_id is not None and operator_id is not None:
        conversation = await ctx.uow.conversations.get(call.conversation_id, for_update=True)
        if conversation is not None and conversation.assignee_id is None:
            conversation.assignee_id = operator_id
            await ctx.uow.conversations.save(conversation)
    return True, "corrected: answered before the hang-up"


async def _transferred(ctx: CallContext, call: Call, event: CallEvent, at: datetime) -> Applied:
    if not call.live:
        return False, "the call has already ended"
    previous = call.operator_id
    call.transferred_to = (event.target or event.extension or "")[:200] or None
    operator_id = await operator_of(ctx, call, event) if event.operator_id or event.extension else None
    if operator_id is not None and operator_id != previous:
        call.operator_id = operator_id
        if call.conversation_id is not None and await ctx.uow.routing.move(
            call.conversation_id, (S.ASSIGNED, S.WAITING), S.ASSIGNED, at, assignee_id=operator_id
        ):
            ctx.uow.emit(ConversationAssigned(call.conversation_id, operator_id, previous, previous or operator_id), at)
    return True, ""
