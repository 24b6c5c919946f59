"""How a call ends: the record closed, its conversation closed (routing frees the operator and starts
after-call work), a callback for a caller nobody answered, one line in the contact's timeline."""

from __future__ import annotations

from datetime import datetime

from switchboard.application.ports.storage import UnitOfWork
from switchboard.application.voice.callbacks import changed, create_callback
from switchboard.domain.conversation import ConversationAction, ConversationStatus
from switchboard.domain.events import CallEnded, ConversationClosed
from switchboard.domain.voice.call import Call, CallDirection, Disposition, summary, wants_callback
from switchboard.domain.voice.callbacks import CallbackReason, CallbackStatus

REASONS = {
    Disposition.ABANDONED: CallbackReason.ABANDONED,
    Disposition.VOICEMAIL: CallbackReason.VOICEMAIL,
    Disposition.MISSED: CallbackReason.MISSED,
}


async def end_call(uow: UnitOfWork, call: Call, at: datetime, reason: str, *, timed_out: bool = False) -> None:
    line = await uow.lines.get(call.line_id) if call.line_id is not None else None
    wrap = line.routing.get("wrap_up_s") if line is not None else None
    call.timed_out = timed_out
    call.end(at, reason, float(wrap) if isinstance(wrap, int | float) and not isinstance(wrap, bool) else 0.0)
    await _close_conversation(uow, call, at)
    if line is not None and wants_callback(call) and call.disposition in REASONS:
        await create_callback(
            uow,
            line,
            call.ani,
            REASONS[call.disposition],
            at,
            channel_id=call.channel_id,
            contact_id=call.contact_id,
            call_id=call.id,
            conversation_id=call.conversation_id,
        )
    if call.direction is CallDirection.OUT and call.callback_id is not None:
        await _callback_attempt_over(uow, call, at)
    if call.contact_id is not None:
        operator = await uow.users.get(call.operator_id) if call.operator_id is not None else None
        await uow.timeline.add(
            call.contact_id,
            "call",
            call.id,
            at,
            summary(call, operator.name if operator else None),
            call.conversation_id,
            "phone",
        )
    uow.emit(
        CallEnded(
            call.id,
            call.conversation_id,
            call.contact_id,
            call.operator_id,
            (call.disposition or Disposition.MISSED).value,
            timed_out,
        ),
        at,
    )


async def _close_conversation(uow: UnitOfWork, call: Call, at: datetime) -> None:
    """The call is over, so is its conversation: routing frees the voice slot (and starts wrap-up)."""
    if call.conversation_id is None:
        return
    conversation = await uow.conversations.get(call.conversation_id, for_update=True)
    if conversation is None or conversation.status is ConversationStatus.CLOSED:
        return
    conversation.apply(ConversationAction.CLOSE)
    conversation.closed_at = at
    await uow.conversations.save(conversation)
    await uow.routing.settle_offers(conversation.id, None, "withdrawn", at)
    await uow.timeline.add(
        conversation.contact_id, "conversation_closed", conversation.id, at, "call ended", conversation.id, "phone"
    )
    uow.emit(ConversationClosed(conversation.id, conversation.line_id, conversation.assignee_id, None), at)


async def _callback_attempt_over(uow: UnitOfWork, call: Call, at: datetime) -> None:
    """The customer answered: done. Nobody picked up: back on the list for another try."""
    assert call.callback_id is not None
    callback = await uow.callbacks.get(call.callback_id, for_update=True)
    if callback is None or callback.status is not CallbackStatus.CALLING:
        return
    if call.disposition is Disposition.ANSWERED:
        callback.status, callback.done_at = CallbackStatus.DONE, at
    else:
        callback.status, callback.assignee_id = CallbackStatus.OPEN, None
    await uow.callbacks.save(callback)
    changed(uow, callback, at)
