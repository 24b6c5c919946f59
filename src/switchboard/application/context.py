"""What every use case receives: the storage, the clock and the settings it needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from switchboard.application.catalog_cache import CatalogCache
from switchboard.application.group_commit import GroupCommit
from switchboard.application.ports.clock import Clock
from switchboard.application.ports.connectors import ConnectorRegistry
from switchboard.application.ports.security import PasswordHasher, SecretBox, SessionSigner
from switchboard.application.ports.storage import UnitOfWorkFactory

if TYPE_CHECKING:
    from switchboard.application.inbound import Inbound, IntakeResult


@dataclass(frozen=True, slots=True)
class Services:
    uow: UnitOfWorkFactory
    clock: Clock
    hasher: PasswordHasher
    signer: SessionSigner
    default_region: str = "RU"
    catalog: CatalogCache = field(default_factory=CatalogCache)
    custom_statuses: tuple[tuple[str, str], ...] = ()  # (name, effect: "out" | "last")
    secret_box: SecretBox | None = None  # seals channel credentials; None only in tests that need none
    connectors: ConnectorRegistry = field(default_factory=ConnectorRegistry)
    intake_queue: GroupCommit[Inbound, IntakeResult] = field(default_factory=GroupCommit)  # group commit
