"""Click-to-call: the operator's phone rings, then the customer's; recorded as an outbound call.

The call record and its conversation (assigned to the operator, so routing counts the voice
slot) are written first; then the PBX integration is asked to place the call. If it refuses,
the record is closed as ``originate_failed`` and the operator gets a 502 saying why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import BadGateway, InvalidInput, NotFound, StateConflict
from switchboard.application.ports.storage import UnitOfWork
from switchboard.application.ports.voice import OriginateFailed, OriginateRequest, Originator
from switchboard.application.voice.callbacks import changed, load_for_operator
from switchboard.application.voice.ending import end_call
from switchboard.application.voice.flow import QUIET_S
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.contacts import ContactTier
from switchboard.domain.conversation import ConversationStatus
from switchboard.domain.errors import DomainError
from switchboard.domain.events import ContactCreated, ConversationAssigned, ConversationOpened
from switchboard.domain.identity import Identity, IdentityKind, normalize_phone
from switchboard.domain.operators import Role
from switchboard.domain.routing.config import InvalidConfig
from switchboard.domain.source import Source
from switchboard.domain.voice.call import ORIGINATE_FAILED, Call, CallDirection, CallStatus
from switchboard.domain.voice.callbacks import Callback, CallbackStatus
from switchboard.domain.voice.settings import PhoneSettings, phone_settings

S = ConversationStatus


@dataclass(frozen=True, slots=True)
class Dial:
    """Whom to call: a number, a contact (their phone), or a callback from the list."""

    number: str | None = None
    contact_id: int | None = None
    callback_id: int | None = None
    channel_id: int | None = None


async def originate(services: Services, originator: Originator, principal: Principal, dial: Dial) -> Call:
    require_role(principal, Role.OPERATOR)
    assert principal.user_id is not None
    if sum(x is not None for x in (dial.number, dial.contact_id, dial.callback_id)) != 1:
        raise InvalidInput("call exactly one of: a number, a contact_id or a callback_id", field="number")
    typed = _typed_number(dial.number, services.default_region) if dial.number is not None else None
    now = services.clock.now()
    async with services.uow() as uow:
        call, request = await _record(services, uow, principal.user_id, dial, typed, now, originator.needs_url)
        await uow.commit()
    try:
        pbx_id = await originator.originate(request)
    except OriginateFailed as error:
        await _failed(services, call.id)
        raise BadGateway(f"the PBX did not place the call: {error}", field="number") from error
    if pbx_id and pbx_id != call.pbx_call_id:
        call = await _rename(services, call.id, pbx_id)
    return call


def _typed_number(raw: str, region: str) -> str:
    try:
        return normalize_phone(raw, region)
    except DomainError as error:
        raise InvalidInput(error.detail, field="number") from error


async def _record(
    services: Services,
    uow: UnitOfWork,
    operator_id: int,
    dial: Dial,
    typed: str | None,
    now: datetime,
    needs_url: bool,
) -> tuple[Call, OriginateRequest]:
    operator = await uow.users.get(operator_id)
    assert operator is not None
    callback = await _take_callback(uow, Principal(Role.OPERATOR, operator_id), dial.callback_id, now)
    number, contact_id = await _whom(uow, dial, typed, callback, now)
    preferred = callback.channel_id if callback is not None else None
    channel, voice = await _channel(uow, services.default_region, dial.channel_id, preferred, operator_id, needs_url)
    line_id = callback.line_id if callback is not None else channel.line_id
    source = Source(channel.id, line_id)
    conversation = await uow.conversations.add(contact_id, line_id, channel.id, S.NEW, now, source)
    await uow.routing.move(conversation.id, (S.NEW,), S.ASSIGNED, now, assignee_id=operator_id)
    await uow.timeline.add(
        contact_id, "conversation_opened", conversation.id, now, channel.name, conversation.id, channel.kind
    )
    uow.emit(ConversationOpened(conversation.id, contact_id, line_id, channel.id), now)
    uow.emit(ConversationAssigned(conversation.id, operator_id, None, operator_id), now)  # routing relearns the slot
    call = await uow.calls.add(
        Call(
            id=0,
            channel_id=channel.id,
            pbx_call_id=f"sb-{uuid.uuid4().hex}",
            direction=CallDirection.OUT,
            ani=voice.shown_number,
            dnis=number,
            status=CallStatus.DIALING,
            started_at=now,
            contact_id=contact_id,
            conversation_id=conversation.id,
            line_id=line_id,
            operator_id=operator_id,
            expires_at=now + timedelta(seconds=QUIET_S),
            callback_id=callback.id if callback else None,
        )
    )
    request = OriginateRequest(
        url=voice.originate_url,
        secret=voice.secret,
        call_id=call.pbx_call_id,
        channel_id=channel.id,
        operator_id=operator_id,
        operator_target=voice.target_of(operator_id, operator.login),
        number=number,
        caller_id=voice.shown_number,
    )
    return call, request


async def _take_callback(
    uow: UnitOfWork, principal: Principal, callback_id: int | None, now: datetime
) -> Callback | None:
    if callback_id is None:
        return None
    callback = await load_for_operator(uow, principal, callback_id)
    if callback.status is not CallbackStatus.OPEN:
        raise StateConflict(f"the callback is {callback.status.value}, not open", field="callback_id")
    callback.status, callback.assignee_id = CallbackStatus.CALLING, principal.user_id
    callback.attempts += 1
    await uow.callbacks.save(callback)
    changed(uow, callback, now)
    return callback


async def _whom(
    uow: UnitOfWork, dial: Dial, typed: str | None, callback: Callback | None, now: datetime
) -> tuple[str, int]:
    """The number to dial and the contact it belongs to (a new contact for a number nobody has)."""
    if dial.contact_id is not None:
        contact = await uow.contacts.get(dial.contact_id)
        if contact is None:
            raise NotFound(f"contact {dial.contact_id} does not exist")
        phone = next((i.value for i in contact.identities if i.kind is IdentityKind.PHONE), None)
        if phone is None:
            raise InvalidInput(f"contact {contact.id} has no phone number", field="contact_id")
        return phone, contact.id
    number = callback.number if callback is not None else typed
    assert number is not None
    if callback is not None and callback.contact_id is not None:
        return number, callback.contact_id
    identity = Identity(IdentityKind.PHONE, number)
    owner = await uow.contacts.find_by_identity(identity)
    if owner is None:
        owner = (await uow.contacts.add(number, ContactTier.REGULAR, now)).id
        await uow.contacts.add_identity(owner, identity, now)
        uow.emit(ContactCreated(owner, None), now)
    return number, owner


async def _channel(
    uow: UnitOfWork, region: str, channel_id: int | None, preferred: int | None, operator_id: int, needs_url: bool
) -> tuple[Channel, PhoneSettings]:
    """The channel to dial out of: the one asked for, else the callback's own, else one of the operator's lines."""
    if channel_id is not None:
        channel = await uow.channels.get(channel_id)
        voice = _dialling(channel, region, needs_url)
        if channel is None or voice is None:
            raise InvalidInput(f"channel {channel_id} is not a phone channel that can place calls", field="channel_id")
        return channel, voice
    mine = {line.id for line in await uow.lines.list() if operator_id in line.operator_ids}
    usable = [(c, v) for c in await uow.channels.list() if (v := _dialling(c, region, needs_url)) is not None]
    usable.sort(key=lambda pair: (pair[0].id != preferred, pair[0].line_id not in mine, pair[0].id))
    if not usable:
        needed = " with an originate_url and a secret" if needs_url else ""
        raise InvalidInput(f"no active phone channel{needed} can place calls", field="channel_id")
    return usable[0]


def _dialling(channel: Channel | None, region: str, needs_url: bool) -> PhoneSettings | None:
    """The channel's voice settings if it can place calls: a phone channel with an ``originate_url`` and a
    secret, or any phone channel when the originator needs no URL (Asterisk through AMI)."""
    if channel is None or channel.kind is not ChannelKind.PHONE or not channel.active:
        return None
    try:
        voice = phone_settings(channel.settings, region)
    except InvalidConfig:
        return None
    return voice if not needs_url or (voice.originate_url and voice.secret) else None


async def _failed(services: Services, call_id: int) -> None:
    async with services.uow() as uow:
        call = await uow.calls.get(call_id, for_update=True)
        if call is not None and call.live:
            await end_call(uow, call, services.clock.now(), ORIGINATE_FAILED)
            await uow.calls.save(call)
            await uow.commit()


async def _rename(services: Services, call_id: int, pbx_id: str) -> Call:
    """The PBX answered with its own id for the call: its events will carry that one."""
    async with services.uow() as uow:
        call = await uow.calls.get(call_id, for_update=True)
        assert call is not None
        call.pbx_call_id = pbx_id[:128]
        await uow.calls.save(call)
        await uow.commit()
    return call
