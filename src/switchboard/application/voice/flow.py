"""One call-control input inside one unit of work: drive the IVR, queue the call, say what the PBX does next.

The IVR walk (``domain.ivr``) is pure; what it asks of the world (look a client code up, say a
status, order a callback) is done here and fed back, until the walk needs the PBX again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from switchboard.application.context import Services
from switchboard.application.ports.storage import ConversationQuery, TimelineRow, UnitOfWork
from switchboard.application.voice.callbacks import create_callback
from switchboard.application.voice.model import Action, Outcome, Step, StepResult
from switchboard.domain.channels import Channel
from switchboard.domain.contacts import ContactTier
from switchboard.domain.conversation import OPEN_STATUSES, ConversationStatus
from switchboard.domain.events import ContactCreated, ConversationOpened, LeadCreated, OfferUnanswered
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.ivr import walk as w
from switchboard.domain.ivr.tree import IvrTree
from switchboard.domain.leads import lead_title
from switchboard.domain.lines import Line
from switchboard.domain.source import Source
from switchboard.domain.voice import speech
from switchboard.domain.voice.call import CALLBACK, ENDED_BY_IVR, REFUSED, Call, CallStatus
from switchboard.domain.voice.callbacks import CallbackReason
from switchboard.domain.voice.settings import PhoneSettings

QUIET_S = 120.0  # a live call the PBX has not mentioned for this long is closed by the sweep (marked timed out)
MAX_TALK_S = 4 * 3600.0
S = ConversationStatus


@dataclass
class CallContext:
    """What every step of one call needs: the unit of work, the channel, its line and voice settings, now."""

    services: Services
    uow: UnitOfWork
    channel: Channel
    line: Line  # the line the dialled number leads to (split rules applied)
    voice: PhoneSettings
    tree: IvrTree | None
    now: datetime
    caller_unknown: bool = False  # the calling number was looked up at the start and belongs to nobody

    def facts(self, call: Call, caller: str) -> w.CallFacts:
        return w.CallFacts(ani=call.ani, dnis=call.dnis, caller=caller, language=call.language)


# --- steps --------------------------------------------------------------------------------------


def issue(ctx: CallContext, call: Call, action: Action, **fields: Any) -> Step:
    """The next step: numbered, remembered on the call (a repeated request gets it again), the call kept alive."""
    call.step_no += 1
    step = Step(call.pbx_call_id, call.step_no, action, **fields)
    call.step = step.to_data()
    alive = MAX_TALK_S if call.status is CallStatus.TALKING else QUIET_S + (step.max_s or 0.0)
    call.expires_at = ctx.now + timedelta(seconds=alive)
    return step


async def store(ctx: CallContext, call: Call) -> None:
    """Save the call; a new call (id 0) is inserted whole, once, when something needs its id or at the end."""
    if call.id == 0:
        await ctx.uow.calls.add(call)
    else:
        await ctx.uow.calls.save(call)


def current(call: Call) -> Step:
    assert call.step is not None
    return Step.from_data(call.step)


def hangup(ctx: CallContext, call: Call, reason: str, prompts: tuple[str, ...]) -> Step:
    call.end_reason = reason
    return issue(ctx, call, Action.HANGUP, prompts=prompts, language=call.language)


# --- the IVR ------------------------------------------------------------------------------------


async def drive(ctx: CallContext, call: Call, turn: w.Turn) -> Step:
    """Follow the walk through what the application answers itself, up to the next step for the PBX."""
    while True:
        call.walk = turn.walk.to_data()
        call.ivr_path = list(turn.walk.path)
        call.language = turn.walk.language
        action = turn.action
        reply: w.Reply | None = None
        match action:
            case w.LookupCode(code=code):
                reply = await _lookup(ctx, call, code)
            case w.OrderCallback():
                reply = w.Done(await _ivr_callback(ctx, call))
            case w.SayStatus(language=language):
                text = await _status_text(ctx, call, language)
                return issue(ctx, call, Action.PLAY, prompts=(text,), language=language)
            case _:
                return await _pbx_step(ctx, call, action)
        assert ctx.tree is not None
        turn = w.resume(ctx.tree, turn.walk, ctx.facts(call, turn.walk.caller), reply)


async def _pbx_step(ctx: CallContext, call: Call, action: w.Action) -> Step:
    match action:
        case w.PlayPrompts(prompts=prompts, language=language):
            return issue(ctx, call, Action.PLAY, prompts=prompts, language=language)
        case w.CollectDigits():
            return issue(
                ctx,
                call,
                Action.COLLECT,
                prompts=action.prompts,
                language=action.language,
                min_digits=action.min_digits,
                max_digits=action.max_digits,
                timeout_s=action.timeout_s,
            )
        case w.ConnectTo():
            return await _ivr_connect(ctx, call, action)
        case w.ToQueue(line_id=line_id, prompts=prompts):
            return await enqueue(ctx, call, line_id, prompts)
        case w.ToVoicemail(prompts=prompts, language=language, max_s=max_s):
            call.status = CallStatus.VOICEMAIL
            return issue(ctx, call, Action.VOICEMAIL, prompts=prompts, language=language, max_s=max_s)
        case w.HangUp(prompts=prompts):
            return hangup(ctx, call, ENDED_BY_IVR, prompts)
    raise AssertionError(f"no step for {action!r}")


def reply_to(result: StepResult) -> w.Reply:
    """The PBX's outcome as the walk understands it."""
    match result.outcome:
        case Outcome.DIGITS:
            return w.Digits(result.digits)
        case Outcome.NO_INPUT:
            return w.NoInput()
        case Outcome.NO_ANSWER | Outcome.BUSY | Outcome.FAILED:
            return w.Failed()
    return w.Played()


async def continue_ivr(ctx: CallContext, call: Call, result: StepResult) -> Step:
    assert ctx.tree is not None and call.walk is not None
    walk = w.Walk.from_data(call.walk)
    turn = w.resume(ctx.tree, walk, ctx.facts(call, walk.caller), reply_to(result))
    if call.status is CallStatus.RINGING:  # an IVR connect nobody answered: back in the menus
        call.status, call.operator_id = CallStatus.IVR, None
    return await drive(ctx, call, turn)


async def _lookup(ctx: CallContext, call: Call, code: str) -> w.Reply:
    """A client code keyed in: the contact it belongs to becomes the caller."""
    owner = await ctx.uow.contacts.find_by_identity(Identity(IdentityKind.CLIENT_CODE, code))
    contact = await ctx.uow.contacts.get(owner) if owner is not None else None
    if contact is None:
        return w.NotFound()
    call.contact_id = contact.id
    return w.Found("vip" if contact.tier is ContactTier.VIP else "known")


async def _ivr_callback(ctx: CallContext, call: Call) -> bool:
    if not call.ani.startswith("+"):
        return False
    contact_id, _ = await ensure_contact(ctx, call)
    await store(ctx, call)  # the callback names the call
    await create_callback(
        ctx.uow,
        ctx.line,
        call.ani,
        CallbackReason.IVR,
        ctx.now,
        channel_id=ctx.channel.id,
        contact_id=contact_id,
        call_id=call.id,
    )
    return True


async def _status_text(ctx: CallContext, call: Call, language: str) -> str:
    if call.contact_id is None:
        return speech.status_text([], language)
    found = await ctx.uow.conversations.list(ConversationQuery(contact_id=call.contact_id), 10, None)
    items = [speech.OpenItem(c.id, c.status.value) for c in found if c.status in OPEN_STATUSES]
    return speech.status_text(items, language)


async def _ivr_connect(ctx: CallContext, call: Call, action: w.ConnectTo) -> Step:
    target = action.target
    if action.operator_id is not None:
        user = await ctx.uow.users.get(action.operator_id)
        target = target or ctx.voice.target_of(action.operator_id, user.login if user else str(action.operator_id))
    call.status, call.operator_id = CallStatus.RINGING, action.operator_id
    call.offered_at = call.offered_at or ctx.now
    return issue(
        ctx,
        call,
        Action.CONNECT,
        prompts=action.prompts,
        language=action.language,
        target=target,
        operator_id=action.operator_id,
        timeout_s=action.timeout_s,
    )


# --- the queue ----------------------------------------------------------------------------------


async def ensure_contact(ctx: CallContext, call: Call) -> tuple[int, bool]:
    """The caller's contact, and whether it was made now: recognised by the number, else a new one named by it."""
    if call.contact_id is not None:
        return call.contact_id, False
    identity = Identity(IdentityKind.PHONE, call.ani) if call.ani.startswith("+") else None
    owner = None
    if identity is not None and not ctx.caller_unknown:
        owner = await ctx.uow.contacts.find_by_identity(identity)
    created = owner is None
    if owner is None:
        contact = await ctx.uow.contacts.add(call.ani or "Unknown caller", ContactTier.REGULAR, ctx.now)
        owner = contact.id
        if identity is not None:
            await ctx.uow.contacts.add_identity(owner, identity, ctx.now)
        ctx.uow.emit(ContactCreated(owner, ctx.channel.id), ctx.now)
    call.contact_id = owner
    return owner, created


async def enqueue(ctx: CallContext, call: Call, line_id: int | None, prompts: tuple[str, ...]) -> Step:
    """The call needs a person: it becomes a conversation on the line, routed with voice capacity."""
    line = ctx.line
    if line_id is not None and line_id != line.id:
        chosen = await ctx.uow.lines.get(line_id)
        line = chosen if chosen is not None and chosen.active else line
    contact_id, new_contact = await ensure_contact(ctx, call)
    source = Source(ctx.channel.id, line.id, dialled_number=call.dnis)
    conversation = await ctx.uow.conversations.add(contact_id, line.id, ctx.channel.id, S.NEW, ctx.now, source)
    kind = ctx.channel.kind
    timeline = [
        TimelineRow(
            contact_id, "conversation_opened", conversation.id, ctx.now, ctx.channel.name, conversation.id, kind
        )
    ]
    ctx.uow.emit(ConversationOpened(conversation.id, contact_id, line.id, ctx.channel.id), ctx.now)
    if new_contact and line.create_lead_for_new_contact:
        lead = await ctx.uow.leads.add(
            contact_id,
            conversation.id,
            lead_title(call.ani or "Unknown caller", ctx.channel.name),
            True,
            None,
            ctx.now,
            source,
        )
        timeline.append(TimelineRow(contact_id, "lead", lead.id, ctx.now, lead.title, conversation.id, kind))
        ctx.uow.emit(LeadCreated(lead.id, contact_id, conversation.id, True), ctx.now)
    await ctx.uow.intake.add_timeline(timeline)  # both entries in one round trip
    call.status, call.queued_at = CallStatus.QUEUED, ctx.now
    call.conversation_id, call.line_id = conversation.id, line.id
    return issue(
        ctx,
        call,
        Action.ENQUEUE,
        prompts=prompts,
        language=call.language,
        line_id=line.id,
        poll_after_s=ctx.voice.poll_after_s,
    )


def announcement_due(call: Call, voice: PhoneSettings, now: datetime) -> bool:
    if voice.announce_every_s <= 0 or call.status is not CallStatus.QUEUED:
        return False
    return call.announced_at is None or (now - call.announced_at).total_seconds() >= voice.announce_every_s


async def waiting(ctx: CallContext, call: Call, position: tuple[int, float | None] | None) -> Step:
    """The PBX asks while the caller waits: put them through if an operator is offered the call, else hold on."""
    assert call.conversation_id is not None
    conversation = await ctx.uow.routing.conversation(call.conversation_id)
    if conversation is None or conversation.status is S.CLOSED or call.end_reason == CALLBACK:
        return _left_the_queue(ctx, call)
    if conversation.status in (S.ASSIGNED, S.WAITING) and conversation.assignee_id is not None:
        return await _connect_operator(ctx, call, conversation.assignee_id, 30.0)
    offers = await ctx.uow.routing.open_offers(conversation_id=call.conversation_id)
    if offers:
        ring_s = max(5.0, (offers[0].deadline - ctx.now).total_seconds())
        return await _connect_operator(ctx, call, offers[0].operator_id, round(ring_s, 1))
    call.status, call.operator_id = CallStatus.QUEUED, None
    fields: dict[str, Any] = {"line_id": call.line_id, "poll_after_s": ctx.voice.poll_after_s}
    if position is not None and announcement_due(call, ctx.voice, ctx.now):
        place, wait_s = position
        call.announced_at = ctx.now
        prompts = (speech.announcement(place, wait_s, call.language),)
        fields.update(prompts=prompts, position=place, estimated_wait_s=wait_s)
    return issue(ctx, call, Action.ENQUEUE, language=call.language, **fields)


def _left_the_queue(ctx: CallContext, call: Call) -> Step:
    """Routing closed the conversation (queue full, closed hours) or sent it to a callback."""
    if call.end_reason == CALLBACK:
        return hangup(ctx, call, CALLBACK, (speech.phrase("callback", call.language),))
    known = call.ani.startswith("+")
    return hangup(ctx, call, REFUSED, (speech.phrase("busy" if known else "closed", call.language),))


async def _connect_operator(ctx: CallContext, call: Call, operator_id: int, ring_s: float) -> Step:
    user = await ctx.uow.users.get(operator_id)
    target = ctx.voice.target_of(operator_id, user.login if user else str(operator_id))
    call.status, call.operator_id = CallStatus.RINGING, operator_id
    call.offered_at = call.offered_at or ctx.now
    return issue(
        ctx, call, Action.CONNECT, language=call.language, operator_id=operator_id, target=target, timeout_s=ring_s
    )


async def unanswered(ctx: CallContext, call: Call) -> Step:
    """The operator's phone rang out: a missed offer; routing tries the next operator while the caller holds."""
    operator_id = call.operator_id
    call.missed_offers += 1
    if call.conversation_id is not None and operator_id is not None:
        ringing = await ctx.uow.routing.open_offers(conversation_id=call.conversation_id, operator_id=operator_id)
        if ringing:
            ctx.uow.emit(OfferUnanswered(call.conversation_id, operator_id), ctx.now)
    call.status, call.operator_id = CallStatus.QUEUED, None
    return issue(
        ctx, call, Action.ENQUEUE, language=call.language, line_id=call.line_id, poll_after_s=ctx.voice.poll_after_s
    )
