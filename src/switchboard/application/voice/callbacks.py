"""Callback tasks: the line's list of numbers to call back, soonest due first.

A callback is a task on the line's list, not a routed conversation: operators of the line see
the list (``GET /api/v1/voice/callbacks``) and take one by calling it
(``POST /api/v1/voice/callbacks/{id}/call``), which dials out through the PBX. The customer
answering marks it done; a call nobody picks up puts it back on the list. One number has at
most one pending callback per line: a second missed call does not add another.
"""

from __future__ import annotations

from datetime import datetime

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput, NotFound
from switchboard.application.ports.bus import Envelope
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.contacts import ContactTier
from switchboard.domain.errors import DomainError
from switchboard.domain.events import CallbackChanged, CallbackCreated, ContactCreated
from switchboard.domain.identity import Identity, IdentityKind, normalize_phone
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role
from switchboard.domain.voice.call import CALLBACK
from switchboard.domain.voice.callbacks import (
    Callback,
    CallbackReason,
    CallbackStatus,
    callback_sla,
    due_by,
)

STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
PENDING = (CallbackStatus.OPEN, CallbackStatus.CALLING)


async def create_callback(
    uow: UnitOfWork,
    line: Line,
    number: str,
    reason: CallbackReason,
    now: datetime,
    *,
    channel_id: int | None = None,
    contact_id: int | None = None,
    call_id: int | None = None,
    conversation_id: int | None = None,
    note: str = "",
) -> Callback:
    """A callback due by the line's SLA; the number's pending one on this line is returned instead of a second."""
    pending = await uow.callbacks.pending_for(line.id, number)
    if pending is not None:
        return pending
    callback = await uow.callbacks.add(
        Callback(
            id=0,
            line_id=line.id,
            number=number,
            reason=reason,
            status=CallbackStatus.OPEN,
            due_at=due_by(now, callback_sla(line.routing)),
            created_at=now,
            channel_id=channel_id,
            contact_id=contact_id,
            call_id=call_id,
            conversation_id=conversation_id,
            note=note[:500],
        )
    )
    if contact_id is not None:
        await uow.timeline.add(
            contact_id, "callback", callback.id, now, f"callback to {number} ({reason.value})", conversation_id, "phone"
        )
    uow.emit(CallbackCreated(callback.id, line.id, contact_id, reason.value), now)
    return callback


def changed(uow: UnitOfWork, callback: Callback, now: datetime) -> None:
    uow.emit(CallbackChanged(callback.id, callback.line_id, callback.status.value, callback.assignee_id), now)


async def order_callback(
    services: Services, principal: Principal, channel_id: int, phone: str, name: str | None, note: str
) -> Callback:
    """A customer asks to be called back (the website's widget, or staff on their behalf)."""
    require_role(principal, Role.INTEGRATION, *STAFF)
    try:
        number = normalize_phone(phone, services.default_region)
    except DomainError as error:
        raise InvalidInput(error.detail, field="phone") from error
    if len(note) > 500:
        raise InvalidInput("note is longer than 500 characters", field="note")
    now = services.clock.now()
    async with services.uow() as uow:
        found = await services.catalog.route(uow, channel_id, now)
        channel, line = found if found is not None else (None, None)
        if channel is None or line is None or not channel.active:
            raise InvalidInput(f"channel {channel_id} does not exist or is switched off", field="channel_id")
        contact_id = await _contact_for(uow, number, name, channel.id, now)
        callback = await create_callback(
            uow, line, number, CallbackReason.WIDGET, now, channel_id=channel.id, contact_id=contact_id, note=note
        )
        await uow.commit()
    return callback


async def _contact_for(uow: UnitOfWork, number: str, name: str | None, channel_id: int, now: datetime) -> int:
    identity = Identity(IdentityKind.PHONE, number)
    owner = await uow.contacts.find_by_identity(identity)
    if owner is not None:
        return owner
    contact = await uow.contacts.add((name or "").strip()[:200] or number, ContactTier.REGULAR, now)
    await uow.contacts.add_identity(contact.id, identity, now)
    uow.emit(ContactCreated(contact.id, channel_id), now)
    return contact.id


async def list_callbacks(
    services: Services, principal: Principal, line_id: int | None, statuses: tuple[CallbackStatus, ...]
) -> list[Callback]:
    """Operators see their lines' callbacks; supervisors every line's."""
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        lines: list[int] | None = None
        if principal.role is Role.OPERATOR:
            mine = [line.id for line in await uow.lines.list() if principal.user_id in line.operator_ids]
            if line_id is not None and line_id not in mine:
                raise InvalidInput("operators list the callbacks of their own lines", field="line_id")
            lines = [line_id] if line_id is not None else mine
        elif line_id is not None:
            lines = [line_id]
        return await uow.callbacks.list(lines, statuses or PENDING, 200)


async def load_for_operator(uow: UnitOfWork, principal: Principal, callback_id: int) -> Callback:
    """The callback, if the operator works its line (else the 404 of a missing one)."""
    callback = await uow.callbacks.get(callback_id, for_update=True)
    if callback is None:
        raise NotFound(f"callback {callback_id} does not exist")
    if principal.role is Role.OPERATOR:
        line = await uow.lines.get(callback.line_id)
        if line is None or principal.user_id not in line.operator_ids:
            raise NotFound(f"callback {callback_id} does not exist")
    return callback


async def on_callback_requested(services: Services, envelope: Envelope) -> None:
    """Routing sent a conversation to a callback (overflow, off hours): put the contact's number on the list.

    A waiting caller is then told so and the call ends; a chat customer keeps their conversation.
    """
    conversation_id = int(envelope.payload["conversation_id"])
    now = services.clock.now()
    async with services.uow() as uow:
        conversation = await uow.conversations.get(conversation_id)
        line = await uow.lines.get(int(envelope.payload["line_id"])) if conversation else None
        if conversation is None or line is None:
            return
        call = await uow.calls.by_conversation(conversation_id)
        number = call.ani if call is not None else await _phone_of(uow, conversation.contact_id)
        if not number or not number.startswith("+"):
            return
        await create_callback(
            uow,
            line,
            number,
            CallbackReason.ROUTING,
            now,
            channel_id=conversation.channel_id,
            contact_id=conversation.contact_id,
            call_id=call.id if call else None,
            conversation_id=conversation_id,
            note=str(envelope.payload.get("reason", "")),
        )
        if call is not None and call.live:
            call.end_reason = CALLBACK
            await uow.calls.save(call)
        await uow.commit()


async def _phone_of(uow: UnitOfWork, contact_id: int) -> str | None:
    contact = await uow.contacts.get(contact_id)
    if contact is None:
        return None
    return next((i.value for i in contact.identities if i.kind is IdentityKind.PHONE), None)
