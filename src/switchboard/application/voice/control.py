"""Call control: the one application API every PBX front end drives (HTTP, FastAGI, a SIP proxy).

    control = CallControl(services, positions, originator)
    step = await control.start_call(NewCall(call_id="1712.5", ani="+79161234567", dnis="+74950000000"))
    step = await control.report_result(channel_id, StepResult("1712.5", step.step_id, Outcome.DIGITS, "1"))
    await control.record_call_event(channel_id, CallEvent("ev-1", "1712.5", EventKind.RINGING, operator_id=3))

Each input is one unit of work; a repeated input (same call id, same step id, same event id)
gives the same answer and writes nothing new, so a PBX may retry freely.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput, NotFound, StateConflict, Unauthenticated
from switchboard.application.group_commit import GroupCommit, Pending, together_or_alone
from switchboard.application.ports.storage import Conflict, UnitOfWork
from switchboard.application.ports.voice import Originator, QueuePositions
from switchboard.application.voice import flow
from switchboard.application.voice.call_events import apply_event
from switchboard.application.voice.ending import end_call
from switchboard.application.voice.flow import CallContext
from switchboard.application.voice.model import (
    Action,
    CallEvent,
    EventKind,
    EventOutcome,
    NewCall,
    Outcome,
    Step,
    StepResult,
)
from switchboard.application.voice.originate import Dial, originate
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.contacts import ContactTier
from switchboard.domain.errors import DomainError
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.ivr import walk as w
from switchboard.domain.ivr.tree import IvrTree, parse_ivr
from switchboard.domain.line_settings import split_rules
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role
from switchboard.domain.routing.config import InvalidConfig
from switchboard.domain.routing.split import InboundFacts, choose_line
from switchboard.domain.voice.call import TIMEOUT, Call, CallDirection, CallStatus
from switchboard.domain.voice.numbers import caller_number, dialled_number
from switchboard.domain.voice.settings import PhoneSettings, phone_settings, voicemail_uri_problem
from switchboard.domain.voice.signing import signature_problem

log = logging.getLogger("switchboard.voice")
IDS = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces: SIP Call-IDs, Asterisk uniqueids, UUIDs
DIGITS = re.compile(r"^[0-9*#]{0,32}$")
FUTURE_SLACK = timedelta(minutes=5)
NUMBER_CACHE_S = 5.0


class CallControl:
    def __init__(
        self, services: Services, positions: QueuePositions | None = None, originator: Originator | None = None
    ) -> None:
        self.services = services
        self.positions = positions
        self.originator = originator
        self._settings: dict[int, tuple[object, PhoneSettings]] = {}
        self._trees: dict[int, tuple[object, IvrTree | None]] = {}
        self._numbers: tuple[datetime, dict[str, int]] | None = None
        self._starts: GroupCommit[_Start, Step] = GroupCommit(max_batch=32)

    @property
    def start_batches(self) -> int:
        """Transactions the group commit of new calls has written (SQLite); observability and tests."""
        return self._starts.batches

    # ---- the PBX's side ------------------------------------------------------------------------

    async def verify(self, channel_id: int, timestamp: str | None, signature: str | None, body: bytes) -> None:
        """Refuse a request that is not signed with the channel's secret, or signed too long ago (a replay)."""
        now = self.services.clock.now()
        found: tuple[Channel, Line | None] | None = self.services.catalog.peek(channel_id, now)
        if found is None:
            async with self.services.uow(read_only=True) as uow:
                found = await self.services.catalog.route(uow, channel_id, now)
        channel = found[0] if found else None
        voice = self._voice(channel) if channel is not None and channel.kind is ChannelKind.PHONE else None
        if voice is None or not voice.secret:
            raise Unauthenticated(f"channel {channel_id} is not a phone channel with a call-control secret")
        problem = signature_problem(voice.secret, timestamp, signature, body, now.timestamp())
        if problem is not None:
            log.warning("voice.unsigned_request channel=%s reason=%s", channel_id, problem)
            raise Unauthenticated(problem)

    async def start_call(self, new: NewCall) -> Step:
        """A new inbound call: who calls, which line the dialled number leads to, the first step (IVR or queue)."""
        _check_id(new.call_id, "call_id")
        try:
            dnis = dialled_number(new.dnis, self.services.default_region)
        except DomainError as error:
            raise InvalidInput(error.detail, field="dnis") from error
        ani = caller_number(new.ani, self.services.default_region)
        channel_id = new.channel_id if new.channel_id is not None else await self._channel_of_number(dnis)
        start = _Start(channel_id, new.call_id, ani, dnis)
        try:  # the unique (channel, call id) tells a repeat: no read first on the hot path
            if self.services.uow.serial_writes:  # one writer anyway: calls that arrive together share a commit
                return await self._starts.submit(start, self._write_starts)
            return await self._start(start, repeat=False)
        except Conflict:  # a repeat, or the same call started twice at once: answer from what is stored
            return await self._start(start, repeat=True)

    async def report_result(self, channel_id: int | None, result: StepResult) -> Step:
        """The outcome of the last step (digits, no input, waited, no answer); the next step."""
        _check_id(result.call_id, "call_id")
        if not DIGITS.match(result.digits):
            raise InvalidInput("digits are up to 32 of 0-9, * and #", field="digits")
        position = await self._position_if_due(channel_id, result)
        now = self.services.clock.now()
        async with self.services.uow() as uow:
            call = await self._call(uow, channel_id, result.call_id)
            if call.direction is CallDirection.OUT:
                raise StateConflict("an outbound call has no steps: report its events", field="call_id")
            if not call.live:
                return Step(call.pbx_call_id, call.step_no, Action.HANGUP, language=call.language)
            if result.step_id != call.step_no:
                return flow.current(call)  # a repeat, or a result for an old step: the current step again
            ctx = await self._context(uow, call.channel_id, call.line_id, call.dnis, call.contact_id, now)
            step = await self._advance(ctx, call, result, position)
            await uow.calls.save(call)
            await uow.commit()
        return step

    async def record_call_event(self, channel_id: int | None, event: CallEvent) -> EventOutcome:
        """Store the event once (by its id) and apply it to the call if it still can be."""
        _check_id(event.event_id, "event_id")
        _check_id(event.call_id, "call_id")
        if event.kind is EventKind.RECORDING and not (event.recording_url or "").startswith(("http://", "https://")):
            raise InvalidInput("a recording event needs an http(s) recording_url", field="recording_url")
        now = self.services.clock.now()
        if event.at is not None and event.at > now + FUTURE_SLACK:
            raise InvalidInput("the event is stamped in the future", field="at")
        try:
            return await self._record(channel_id, event, now)
        except Conflict:  # its twin committed first: now it is a repeat
            return await self._record(channel_id, event, now)

    async def voicemail_uri(self, pbx_call_id: str) -> str | None:
        """Where a SIP front end redirects this caller when nobody answers: the channel's ``voicemail_uri``,
        else the call's line's ``routing.voicemail_uri``; None when neither is set."""
        now = self.services.clock.now()
        async with self.services.uow(read_only=True) as uow:
            call = await uow.calls.find(None, pbx_call_id)
            found = await self.services.catalog.route(uow, call.channel_id, now) if call is not None else None
            line = await uow.lines.get(call.line_id) if call is not None and call.line_id is not None else None
        if found is None:
            return None
        own = self._voice(found[0]).voicemail_uri
        routed = line.routing.get("voicemail_uri") if line is not None else None
        return own or (routed if isinstance(routed, str) and voicemail_uri_problem(routed) is None else None)

    # ---- operators' side -----------------------------------------------------------------------

    async def dial(self, principal: Principal, dial: Dial) -> Call:
        """Click-to-call through the PBX integration; recorded as an outbound call."""
        if self.originator is None:
            raise StateConflict("no PBX integration places calls in this deployment", field="number")
        return await originate(self.services, self.originator, principal, dial)

    async def get_call(self, principal: Principal, call_id: int) -> Call:
        require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
        async with self.services.uow(read_only=True) as uow:
            call = await uow.calls.get(call_id)
            if call is None:
                raise NotFound(f"call {call_id} does not exist")
            if principal.role is Role.OPERATOR and call.operator_id != principal.user_id:
                line = await uow.lines.get(call.line_id) if call.line_id is not None else None
                if line is None or principal.user_id not in line.operator_ids:
                    raise NotFound(f"call {call_id} does not exist")
        return call

    # ---- the sweep -----------------------------------------------------------------------------

    async def close_expired(self, limit: int = 200) -> int:
        """Close live calls the PBX never reported the end of; they are marked ``timed_out``."""
        now = self.services.clock.now()
        async with self.services.uow(read_only=True) as uow:
            due = await uow.calls.expired(now, limit)
        closed = 0
        for call_id in due:
            async with self.services.uow() as uow:
                call = await uow.calls.get(call_id, for_update=True)
                if call is None or not call.live or call.expires_at is None or call.expires_at > now:
                    continue
                await end_call(uow, call, call.expires_at, TIMEOUT, timed_out=True)
                await uow.calls.save(call)
                await uow.commit()
                closed += 1
        if closed:
            log.info("voice.calls_timed_out count=%s", closed)
        return closed

    # ---- inside --------------------------------------------------------------------------------

    async def _write_starts(self, batch: list[Pending[_Start, Step]]) -> None:
        await together_or_alone(batch, self._start_together, lambda start: self._start(start, repeat=False))

    async def _start_together(self, batch: list[Pending[_Start, Step]]) -> list[Pending[_Start, Step]]:
        """New calls that arrived together share one transaction (group commit), each started as if alone,
        in arrival order. A batch of one is left to start alone: if it fails, that costs one transaction, not two."""
        if len(batch) == 1:
            return batch
        async with self.services.uow() as uow:
            steps = [await self._begin(uow, pending.item) for pending in batch]
            await uow.commit()
        for pending, step in zip(batch, steps, strict=True):
            pending.answer(step)
        return []

    async def _start(self, start: _Start, *, repeat: bool) -> Step:
        async with self.services.uow() as uow:
            existing = await uow.calls.find(start.channel_id, start.pbx_id) if repeat else None
            if existing is not None:
                return flow.current(existing) if existing.step else Step(start.pbx_id, existing.step_no, Action.HANGUP)
            step = await self._begin(uow, start)
            await uow.commit()
        return step

    async def _begin(self, uow: UnitOfWork, start: _Start) -> Step:
        """Who calls, which line, the first step; the call is written in ``uow``, not committed."""
        now = self.services.clock.now()
        channel_id, ani, dnis = start.channel_id, start.ani, start.dnis
        contact_id, caller = await _caller(uow, ani)
        ctx = await self._context(uow, channel_id, None, dnis, contact_id, now)
        ctx.caller_unknown = contact_id is None
        if ctx.voice.numbers and dnis not in ctx.voice.numbers:
            raise NotFound(f"channel {channel_id} does not answer {dnis}")
        call = Call(0, channel_id, start.pbx_id, CallDirection.IN, ani, dnis, CallStatus.IVR, now, contact_id)
        call.line_id, call.language = ctx.line.id, _language(ctx)
        facts = w.CallFacts(ani=ani, dnis=dnis, caller=caller, language=call.language)
        turn = w.begin(ctx.tree, facts) if ctx.tree is not None else w.default_turn(call.language)
        step = await flow.drive(ctx, call, turn)
        await flow.store(ctx, call)  # one INSERT with the first step; the unique key tells a repeat
        return step

    async def _advance(
        self, ctx: CallContext, call: Call, result: StepResult, position: tuple[int, float | None] | None
    ) -> Step:
        last = flow.current(call)
        if last.action is Action.HANGUP or call.status is CallStatus.TALKING:
            return last
        if call.status is CallStatus.VOICEMAIL:
            return flow.hangup(ctx, call, call.end_reason or "voicemail", ())
        if call.conversation_id is None:  # still in the menus (or put through by them)
            if ctx.tree is None or call.walk is None or not _walk_fits(ctx.tree, call.walk):
                return await flow.drive(ctx, call, w.default_turn(call.language))
            return await flow.continue_ivr(ctx, call, result)
        if last.action is Action.CONNECT and result.outcome in (Outcome.NO_ANSWER, Outcome.BUSY, Outcome.FAILED):
            return await flow.unanswered(ctx, call)
        return await flow.waiting(ctx, call, position)

    async def _position_if_due(self, channel_id: int | None, result: StepResult) -> tuple[int, float | None] | None:
        """Asked before the writing unit of work: the router must not wait on a transaction we hold."""
        if self.positions is None or result.outcome is not Outcome.WAITED:
            return None
        now = self.services.clock.now()
        async with self.services.uow(read_only=True) as uow:
            call = await uow.calls.find(channel_id, result.call_id)
            channel = await uow.channels.get(call.channel_id) if call is not None else None
        if call is None or call.conversation_id is None or channel is None:
            return None
        if not flow.announcement_due(call, self._voice(channel), now):
            return None
        return await self.positions.position(call.conversation_id)

    async def _record(self, channel_id: int | None, event: CallEvent, now: datetime) -> EventOutcome:
        async with self.services.uow() as uow:
            call = await self._call(uow, channel_id, event.call_id)
            if await uow.calls.event_seen(call.channel_id, event.event_id):
                return EventOutcome(call.id, False, True, call.status.value, "a repeat of an event already received")
            ctx = await self._context(uow, call.channel_id, call.line_id, call.dnis, call.contact_id, now)
            at = event.at or now
            applied, detail = await apply_event(ctx, call, event, at)
            await uow.calls.save(call)
            payload = {k: v for k, v in _payload(event).items() if v is not None}
            await uow.calls.add_event(
                call.channel_id, event.event_id, call.id, event.kind.value, at, now, applied, payload
            )
            await uow.commit()
        return EventOutcome(call.id, applied, False, call.status.value, detail)

    async def _call(self, uow: UnitOfWork, channel_id: int | None, pbx_id: str) -> Call:
        call = await uow.calls.find(channel_id, pbx_id, for_update=True)
        if call is None:
            raise NotFound(f"call {pbx_id} is not known on this channel")
        return call

    async def _context(
        self, uow: UnitOfWork, channel_id: int, line_id: int | None, dnis: str, contact_id: int | None, now: datetime
    ) -> CallContext:
        found = await self.services.catalog.route(uow, channel_id, now)
        if found is None or found[1] is None or found[0].kind is not ChannelKind.PHONE or not found[0].active:
            raise NotFound(f"channel {channel_id} is not an active phone channel")
        channel, own_line = found
        voice = self._voice(channel)
        if own_line is not None and line_id == own_line.id:  # the channel's own line: already in memory
            line: Line | None = own_line
        else:
            line = await uow.lines.get(line_id) if line_id is not None else None
        if line is None:
            line = await _split(uow, channel, own_line, dnis, contact_id, now)
        tree = voice.ivr if voice.ivr is not None else self._line_tree(line)
        return CallContext(self.services, uow, channel, line, voice, tree, now)

    def _voice(self, channel: Channel) -> PhoneSettings:
        cached = self._settings.get(channel.id)
        if cached is not None and cached[0] is channel.settings:
            return cached[1]
        try:
            voice = phone_settings(channel.settings, self.services.default_region)
        except InvalidConfig as error:  # saved before a check existed: keep the channel working without the bad parts
            log.error("channel %s has invalid voice settings: %s", channel.id, error)
            voice = PhoneSettings(
                secret=channel.settings.get("secret") if isinstance(channel.settings.get("secret"), str) else None
            )
        self._settings[channel.id] = (channel.settings, voice)
        return voice

    def _line_tree(self, line: Line) -> IvrTree | None:
        raw = line.routing.get("ivr")
        cached = self._trees.get(line.id)
        if cached is not None and cached[0] == raw:
            return cached[1]
        tree = None
        if raw is not None:
            try:
                tree = parse_ivr(raw, "routing.ivr")
            except InvalidConfig as error:
                log.error("line %s has an invalid IVR: %s", line.id, error)
        self._trees[line.id] = (raw, tree)
        return tree

    async def _channel_of_number(self, dnis: str) -> int:
        """The phone channel whose ``numbers`` include the dialled number (for front ends that only know it)."""
        now = self.services.clock.now()
        if self._numbers is None or self._numbers[0] <= now:
            numbers: dict[str, int] = {}
            async with self.services.uow(read_only=True) as uow:
                for channel in await uow.channels.list():
                    if channel.kind is ChannelKind.PHONE and channel.active:
                        for number in self._voice(channel).numbers:
                            numbers.setdefault(number, channel.id)
            self._numbers = (now + timedelta(seconds=NUMBER_CACHE_S), numbers)
        channel_id = self._numbers[1].get(dnis)
        if channel_id is None:
            raise NotFound(f"no phone channel answers {dnis}")
        return channel_id


@dataclass(frozen=True, slots=True)
class _Start:
    """A new inbound call, its numbers normalized and its channel known."""

    channel_id: int
    pbx_id: str
    ani: str
    dnis: str


def _language(ctx: CallContext) -> str:
    """What the caller hears first: the IVR's default language, else the line's (its automatic messages')."""
    if ctx.tree is not None and ctx.tree.default_language:
        return ctx.tree.default_language
    actions = ctx.line.routing.get("actions")
    language = actions.get("default_language") if isinstance(actions, dict) else None
    return language if isinstance(language, str) and language else "ru"


def _check_id(value: str, field: str) -> None:
    if not IDS.match(value):
        raise InvalidInput(f"{field} must be 1 to 128 printable characters without spaces", field=field)


def _walk_fits(tree: IvrTree, walk: dict[str, object]) -> bool:
    """A walk stored before the tree was edited may stand on a node that no longer exists."""
    return walk.get("node") in tree.nodes or walk.get("waiting") == "end"


def _payload(event: CallEvent) -> dict[str, object]:
    return {
        "operator_id": event.operator_id,
        "extension": event.extension,
        "target": event.target,
        "recording_url": event.recording_url,
        "cause": event.cause,
    }


async def _caller(uow: UnitOfWork, ani: str) -> tuple[int | None, str]:
    """The contact the calling number belongs to, and what the IVR calls them: vip, known or unknown."""
    if not ani.startswith("+"):
        return None, "unknown"
    found = await uow.contacts.owner_tier(Identity(IdentityKind.PHONE, ani))
    if found is None:
        return None, "unknown"
    return found[0], "vip" if found[1] is ContactTier.VIP else "known"


async def _split(
    uow: UnitOfWork, channel: Channel, line: Line | None, dnis: str, contact_id: int | None, now: datetime
) -> Line:
    """The line the dialled number leads to: the channel's split rules (DNIS, segment, hours), else its own line."""
    assert line is not None
    try:
        rules = split_rules(channel.settings)
    except InvalidConfig:
        return line
    if not rules:
        return line
    segments: frozenset[str] = frozenset()
    if contact_id is not None:
        contact = await uow.contacts.get(contact_id)
        segments = frozenset({contact.tier.value}) if contact else frozenset()
    chosen = int(choose_line(rules, InboundFacts(dnis, "", "", segments), now.timestamp(), str(line.id)))
    target = await uow.lines.get(chosen) if chosen != line.id else line
    return target if target is not None and target.active else line
