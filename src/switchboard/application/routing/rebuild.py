"""Rebuild the routing engine from the database: after a start, a takeover, or a divergence.

The database is the truth: who is logged in and how, which conversations wait, ring or are
held, and which timers are pending. Counters the database does not keep (round-robin memory,
learned handle times) restart from their defaults.

A conversation still ``new`` has not been admitted yet (its opening event may still be on its
way to the router): it is left out of the restored engine and returned apart, for the router
to admit it through the engine's front door (welcome, hours, limits, stickiness) exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.application.ports.routing import ActiveConversation, RoutableOperator
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.channels import ChannelKind, media_of
from switchboard.domain.conversation import ConversationStatus
from switchboard.domain.line_settings import dnis_priority, line_config
from switchboard.domain.lines import Line
from switchboard.domain.routing import EngineSettings, RoutingEngine
from switchboard.domain.routing.config import InvalidConfig, LineConfig
from switchboard.domain.routing.model import Capacity, OperatorProfile
from switchboard.domain.routing.snapshot import (
    ConversationSnapshot,
    EngineSnapshot,
    OperatorSnapshot,
)

log = logging.getLogger("switchboard.routing")
S = ConversationStatus


def configs(lines: list[Line], skills: Mapping[int, Mapping[str, int]]) -> list[LineConfig]:
    """Every active line as the engine takes it; a line whose stored settings fail keeps the defaults."""
    found = []
    for line in lines:
        if not line.active:
            continue
        try:
            found.append(line_config(line.id, line.name, line.time_zone, line.operator_ids, line.routing, skills))
        except InvalidConfig as error:
            log.error("line %s has invalid routing settings, using defaults: %s", line.id, error)
            found.append(line_config(line.id, line.name, line.time_zone, line.operator_ids, {}, skills))
    return found


async def operator_skills(uow: UnitOfWork) -> dict[int, dict[str, int]]:
    return {user.id: dict(user.skills) for user in await uow.users.list(None)}


def required_skills(settings: Mapping[str, Any]) -> frozenset[str]:
    """Skills an operator needs for a channel's conversations (``settings.skills``, e.g. ["en"])."""
    skills = settings.get("skills") or []
    return frozenset(s for s in skills if isinstance(s, str)) if isinstance(skills, list) else frozenset()


def capacity(operator: RoutableOperator) -> Capacity:
    return Capacity(per_media=dict(operator.capacity), total=operator.max_total)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    engine: RoutingEngine
    lines: list[LineConfig]  # the configurations it was built with (the router renders messages from them)
    unadmitted: list[int]  # conversations still new, oldest first: the router admits them


async def rebuild(uow: UnitOfWork, now: datetime, settings: EngineSettings | None = None) -> Rebuilt:
    """The engine as the database has it; conversations not admitted yet are left out and listed."""
    lines = await uow.lines.list()
    operators = await uow.routing.operators()
    lines_config = configs(lines, await operator_skills(uow))
    engine = RoutingEngine(lines_config, [OperatorProfile(str(o.id), capacity(o)) for o in operators], settings)
    routing_by_line = {line.id: line.routing for line in lines}
    timers = dict(await uow.routing.timers())
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    handled = await uow.routing.handled_since(day_start)
    offers: dict[int, list[int]] = {}
    for offer in await uow.routing.open_offers():
        offers.setdefault(offer.conversation_id, []).append(offer.operator_id)
    skills = {channel.id: required_skills(channel.settings) for channel in await uow.channels.list()}
    active = await uow.routing.active_conversations()
    conversations = [
        _conversation(
            c,
            seq,
            offers.get(c.id, []),
            timers,
            routing_by_line.get(c.line_id, {}),
            skills.get(c.channel_id, frozenset()),
        )
        for seq, c in enumerate(active, start=1)
    ]
    snapshot = EngineSnapshot(
        operators=tuple(_operator(o, handled.get(o.id, 0), timers, now) for o in operators),
        conversations=tuple(c for c in conversations if c is not None),
        lines=(),
        seq=len(conversations),
    )
    engine.restore(snapshot)
    return Rebuilt(engine, lines_config, [c.id for c in active if c.status is S.NEW])


def _operator(o: RoutableOperator, handled: int, timers: dict[str, datetime], now: datetime) -> OperatorSnapshot:
    since = (o.since or now).timestamp()
    wrap = timers.get(f"wrapup:{o.id}")
    return OperatorSnapshot(
        operator_id=str(o.id),
        capacity=capacity(o),
        logged_in=o.logged_in,
        status=o.status,
        reason=o.reason,
        since=since,
        missed=o.missed,
        last_idle_at=since,
        handled_today=handled,
        talk_time_s=0.0,
        wrap_until=wrap.timestamp() if wrap else None,
    )


def _conversation(
    c: ActiveConversation,
    seq: int,
    offered_to: list[int],
    timers: dict[str, datetime],
    routing: dict[str, object],
    skills: frozenset[str],
) -> ConversationSnapshot | None:
    state = _state(c, offered_to)
    if state is None:
        return None
    queued = (c.queued_at or c.opened_at).timestamp()
    keys = tuple(sorted(k for k in timers if k.split(":")[1:2] == [str(c.id)]))
    offer_keys = [k for k in keys if k.startswith("offer:")]
    offer_no = max((int(k.rsplit(":", 1)[1]) for k in offer_keys), default=0)
    return ConversationSnapshot(
        conversation_id=str(c.id),
        line_id=str(c.line_id),
        media=media_of(ChannelKind(c.channel_kind)).value,
        state=state,
        queued_at=queued,
        line_entered_at=queued,
        seq=seq,
        contact_id=str(c.contact_id),
        contact_name=c.contact_name,
        vip=c.vip,
        dnis_priority=dnis_priority(routing, c.dialled_number),
        skills=skills,
        operator_id=str(c.assignee_id) if c.assignee_id else None,
        assigned_at=(c.assigned_at or c.opened_at).timestamp(),
        offered_to=tuple(str(o) for o in offered_to),
        offer_no=offer_no,
        timers=keys,
        replied=c.status is S.WAITING,
    )


def _state(c: ActiveConversation, offered_to: list[int]) -> str | None:
    if c.status in (S.ASSIGNED, S.WAITING) and c.assignee_id is not None:
        return "assigned"
    if c.status is S.OFFERED and offered_to:
        return "offered"
    if c.status in (S.QUEUED, S.OFFERED):
        return "waiting"
    return None
