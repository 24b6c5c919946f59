"""Channels: create and change them, keep their credentials sealed, show their health, connect them.

A channel's secrets (bot tokens, app secrets, SMTP passwords) are write-only through the API: they
are sealed with the secret key before they reach storage and only their names come back. The
channel's connector checks settings and secrets together before anything is written, so a channel
that cannot work is refused with the field named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from switchboard.application.access import Principal, require_role
from switchboard.application.catalog import STAFF, audit_args, existing_line
from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput, NotFound, StateConflict
from switchboard.application.ports.connectors import ChannelConfig, SendFailed
from switchboard.application.ports.security import SecretsUnreadable
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.events import ChannelChanged
from switchboard.domain.ivr.tree import line_ids as ivr_line_ids
from switchboard.domain.line_settings import split_rules
from switchboard.domain.operators import Role
from switchboard.domain.routing.config import InvalidConfig
from switchboard.domain.routing.split import SplitRule
from switchboard.domain.voice.settings import keep_secret, phone_settings
from switchboard.domain.webchat import InvalidWidgetSettings, widget_settings

MAX_SECRET = 8_000


@dataclass(frozen=True, slots=True)
class ChannelView:
    """A channel as the API shows it: its secrets by name only, and how many replies wait for it."""

    channel: Channel
    secret_names: tuple[str, ...] = ()
    waiting: int = 0


def check_channel_settings(
    settings: Mapping[str, Any], kind: ChannelKind | None = None, region: str = "RU"
) -> list[tuple[str, int]]:
    """Refuse bad settings naming the field; returns (field, line id) of every line they send work to."""
    if kind is ChannelKind.WEBCHAT:
        try:
            widget_settings(settings)
        except InvalidWidgetSettings as error:
            raise InvalidInput(f"{error.field}: {error.detail}", field=error.field) from error
    try:
        rules: tuple[SplitRule, ...] = split_rules(settings)
        lines = [("line_id", int(rule.line_id)) for rule in rules]
        if kind is ChannelKind.PHONE:
            voice = phone_settings(settings, region)
            if voice.ivr is not None:
                lines += [(f"settings.ivr.nodes.{node}.line_id", target) for node, target in ivr_line_ids(voice.ivr)]
    except InvalidConfig as error:
        field, message = error.errors[0]
        raise InvalidInput(f"{field}: {message}", field=field) from error
    return lines


def check_secrets(secrets: Mapping[str, Any]) -> dict[str, str | None]:
    """Names are plain identifiers; a value is a non-empty string, or null to remove that secret."""
    checked: dict[str, str | None] = {}
    for name, value in secrets.items():
        if not name.isidentifier() or len(name) > 64:
            raise InvalidInput(f"secret name {name!r} is not an identifier", field=f"secrets.{name}")
        if value is not None and (not isinstance(value, str) or not value or len(value) > MAX_SECRET):
            raise InvalidInput("a secret is a non-empty string (or null to remove it)", field=f"secrets.{name}")
        checked[name] = value
    return checked


def open_secrets(services: Services, sealed: str | None) -> dict[str, str]:
    if not sealed:
        return {}
    if services.secret_box is None:
        raise StateConflict("no secret box is configured to open channel secrets")
    try:
        return services.secret_box.open(sealed)
    except SecretsUnreadable as error:
        raise StateConflict(f"{error}; set the channel's secrets again", field="secrets") from error


def _seal(services: Services, secrets: Mapping[str, str]) -> str | None:
    if not secrets:
        return None
    if services.secret_box is None:
        raise StateConflict("no secret box is configured to seal channel secrets")
    return services.secret_box.seal(secrets)


def _check_with_connector(
    services: Services, kind: ChannelKind, settings: Mapping[str, Any], secrets: Mapping[str, str]
) -> None:
    connector = services.connectors.get(kind)
    if connector is not None:
        connector.check_settings(settings, secrets)


async def _check_lines(uow: UnitOfWork, line_id: int | None, targets: list[tuple[str, int]]) -> None:
    if line_id is not None:
        await existing_line(uow, line_id)
    for field_name, target in targets:
        await existing_line(uow, target, field_name)


async def create_channel(
    services: Services,
    principal: Principal,
    kind: ChannelKind,
    name: str,
    line_id: int,
    settings: Mapping[str, Any],
    secrets: Mapping[str, Any] | None = None,
) -> Channel:
    require_role(principal, Role.ADMIN)
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("name must be 1 to 200 characters", field="name")
    rules = check_channel_settings(settings, kind, services.default_region)
    plain = {k: v for k, v in check_secrets(secrets or {}).items() if v is not None}
    _check_with_connector(services, kind, settings, plain)
    sealed = _seal(services, plain)
    now = services.clock.now()
    async with services.uow() as uow:
        await _check_lines(uow, line_id, rules)
        channel = await uow.channels.add(kind, name, line_id, settings, now)
        if sealed is not None:
            await uow.channels.set_sealed_secrets(channel.id, sealed)
        detail = {"kind": kind.value, "secrets": sorted(plain)}
        await uow.audit.add(now, "channel.create", "channel", channel.id, detail, *audit_args(principal))
        uow.emit(ChannelChanged(channel.id), now)
        await uow.commit()
    services.catalog.forget()
    return channel


async def _view(services: Services, uow: UnitOfWork, channel: Channel) -> ChannelView:
    sealed = await uow.channels.sealed_secrets(channel.id)
    try:
        names = tuple(sorted(open_secrets(services, sealed)))
    except StateConflict:
        names = ("<unreadable: set the secrets again>",)
    return ChannelView(channel, names, await uow.deliveries.waiting(channel.id))


async def list_channels(services: Services, principal: Principal) -> list[ChannelView]:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        return [await _view(services, uow, channel) for channel in await uow.channels.list()]


async def get_channel(services: Services, principal: Principal, channel_id: int) -> ChannelView:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        channel = await uow.channels.get(channel_id)
        if channel is None:
            raise NotFound(f"channel {channel_id} does not exist")
        return await _view(services, uow, channel)


async def update_channel(
    services: Services,
    principal: Principal,
    channel_id: int,
    fields: Mapping[str, Any],
    secrets: Mapping[str, Any] | None = None,
) -> ChannelView:
    """Change fields; ``secrets`` merges into the stored ones (a null value removes that secret)."""
    require_role(principal, Role.ADMIN)
    changes = check_secrets(secrets or {})
    now = services.clock.now()
    async with services.uow() as uow:
        channel = await uow.channels.get(channel_id)
        if channel is None:
            raise NotFound(f"channel {channel_id} does not exist")
        if fields.get("settings") is not None:  # a masked call-control secret sent back keeps the stored one
            fields = {**fields, "settings": keep_secret(fields["settings"], channel.settings)}
        rules = check_channel_settings(fields.get("settings") or {}, channel.kind, services.default_region)
        await _check_lines(uow, int(fields["line_id"]) if "line_id" in fields else None, rules)
        stored = open_secrets(services, await uow.channels.sealed_secrets(channel_id))
        merged = {k: v for k, v in {**stored, **changes}.items() if v is not None}
        _check_with_connector(services, channel.kind, fields.get("settings", channel.settings), merged)
        await uow.channels.update(channel_id, fields)
        if changes:
            await uow.channels.set_sealed_secrets(channel_id, _seal(services, merged))
        detail = {"fields": sorted(fields), "secrets": sorted(changes)}
        await uow.audit.add(now, "channel.update", "channel", channel_id, detail, *audit_args(principal))
        uow.emit(ChannelChanged(channel_id), now)
        await uow.commit()
        services.catalog.forget()
        updated = await uow.channels.get(channel_id)
        assert updated is not None
        return await _view(services, uow, updated)


async def channel_config(services: Services, channel_id: int) -> ChannelConfig:
    """The channel with its secrets opened, for its connector only."""
    async with services.uow(read_only=True) as uow:
        channel = await uow.channels.get(channel_id)
        if channel is None:
            raise NotFound(f"channel {channel_id} does not exist")
        sealed = await uow.channels.sealed_secrets(channel_id)
    return ChannelConfig(channel, open_secrets(services, sealed))


async def record_health(services: Services, channel_id: int, error: str | None) -> None:
    async with services.uow() as uow:
        await uow.channels.record_health(channel_id, services.clock.now(), error)
        await uow.commit()


async def connect_channel(services: Services, principal: Principal, channel_id: int, public_url: str) -> str:
    """Ask the connector to set its provider up (register our webhook, check the credentials)."""
    require_role(principal, Role.ADMIN)
    config = await channel_config(services, channel_id)
    connector = services.connectors.get(config.channel.kind)
    if connector is None:
        raise StateConflict(f"{config.channel.kind.value} channels have nothing to connect", field="kind")
    webhook_url = f"{public_url.rstrip('/')}/api/v1/channels/{channel_id}/webhook"
    try:
        outcome = await connector.connect(config, webhook_url)
    except SendFailed as error:
        await record_health(services, channel_id, error.reason)
        raise StateConflict(f"the provider refused: {error.reason}") from error
    await record_health(services, channel_id, None)
    now = services.clock.now()
    async with services.uow() as uow:
        await uow.audit.add(
            now, "channel.connect", "channel", channel_id, {"outcome": outcome[:500]}, *audit_args(principal)
        )
        await uow.commit()
    return outcome
