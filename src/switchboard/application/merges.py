"""Merging two contacts into one, and undoing it.

A merge moves the duplicate's identities, conversations, leads and timeline entries to the survivor,
resolves the fields (``domain.merge``), keeps the duplicate as a tombstone pointing to the survivor
and records what it did. An undo uses that record to give every moved row back and to restore the
fields the merge changed (a field edited since keeps the edit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from switchboard.application.access import Principal, require_role
from switchboard.application.contacts import live
from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput, NotFound, StateConflict
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.contacts import Contact, field_from_json, field_to_json
from switchboard.domain.errors import DomainError
from switchboard.domain.events import ContactsMerged, MergeUndone
from switchboard.domain.merge import (
    MERGED_FIELDS,
    MergePlan,
    MergeRecord,
    Side,
    check_choices,
    plan_merge,
    restore,
)
from switchboard.domain.operators import Role

MERGERS = (Role.ADMIN, Role.SUPERVISOR)
MOVED = ("identities", "conversations", "leads", "timeline")
UPDATED_AT = "updated_at"  # kept in the record beside the fields: an untouched contact gets its old one back


@dataclass(frozen=True, slots=True)
class MergeResult:
    merge_id: int
    survivor: Contact
    duplicate_id: int
    taken: dict[str, Side]
    moved: dict[str, int]


@dataclass(frozen=True, slots=True)
class UndoResult:
    merge_id: int
    survivor: Contact
    duplicate: Contact


def _audit_args(principal: Principal) -> tuple[int | None, int | None, str | None]:
    return principal.user_id, principal.token_id, principal.request_id


async def merge_contacts(
    services: Services, principal: Principal, survivor_id: int, duplicate_id: int, choices: Mapping[str, str]
) -> MergeResult:
    """Merge ``duplicate_id`` into ``survivor_id``; ``choices`` picks a side per field (else the rule decides)."""
    require_role(principal, *MERGERS)
    if survivor_id == duplicate_id:
        raise InvalidInput("a contact cannot be merged into itself", field="duplicate_id")
    try:
        chosen = check_choices(choices)
    except DomainError as error:
        raise InvalidInput(error.detail, field=error.field) from error
    now = services.clock.now()
    async with services.uow() as uow:
        merge_id, plan, counts = await merge_within(uow, principal, survivor_id, duplicate_id, chosen, now)
        await uow.commit()
        merged = await uow.contacts.get(survivor_id)
    assert merged is not None
    return MergeResult(merge_id, merged, duplicate_id, plan.taken, counts)


async def merge_within(
    uow: UnitOfWork,
    principal: Principal,
    survivor_id: int,
    duplicate_id: int,
    chosen: Mapping[str, Side],
    now: datetime,
    reason: str | None = None,
) -> tuple[int, MergePlan, dict[str, int]]:
    """The merge inside the caller's unit of work (a supervisor's request, or a web chat visitor's link):
    moved, recorded for undo, audited with ``principal`` and ``reason``, announced. The caller checks rights."""
    await uow.contacts.lock([survivor_id, duplicate_id])
    survivor = live(await uow.contacts.get(survivor_id), survivor_id)
    duplicate = await _mergeable_duplicate(uow, duplicate_id)
    plan = plan_merge(survivor, duplicate, chosen)
    cleared = {"external_id": None} if duplicate.external_id and plan.changes.get("external_id") else {}
    moved = {table: await uow.merges.move(table, duplicate_id, survivor_id) for table in MOVED}
    if cleared:  # the survivor takes the duplicate's external id, which is unique: free it first
        await uow.contacts.update(duplicate_id, cleared, now)
    await uow.contacts.update(survivor_id, plan.changes, now)
    await uow.contacts.set_merged_into(duplicate_id, survivor_id, now)
    record = MergeRecord(
        id=0,
        survivor_id=survivor_id,
        duplicate_id=duplicate_id,
        merged_at=now,
        merged_by=principal.user_id,
        survivor_before=_json(survivor, plan.changes) | {UPDATED_AT: survivor.updated_at.isoformat()},
        survivor_after={name: field_to_json(name, value) for name, value in plan.changes.items()},
        duplicate_before=_json(duplicate, cleared) | {UPDATED_AT: duplicate.updated_at.isoformat()},
        moved=moved,
        taken={name: side.value for name, side in plan.taken.items()},
    )
    merge_id = await uow.merges.add(record)
    counts = {table: len(ids) for table, ids in moved.items()}
    detail: dict[str, object] = {
        "merge_id": merge_id,
        "duplicate_id": duplicate_id,
        "fields": sorted(plan.changes),
        "moved": counts,
    }
    if reason:
        detail["reason"] = reason
    await uow.audit.add(now, "contact.merge", "contact", survivor_id, detail, *_audit_args(principal))
    uow.emit(ContactsMerged(merge_id, survivor_id, duplicate_id), now)
    return merge_id, plan, counts


async def _mergeable_duplicate(uow: UnitOfWork, duplicate_id: int) -> Contact:
    duplicate = await uow.contacts.get(duplicate_id)
    if duplicate is None:
        raise NotFound(f"contact {duplicate_id} does not exist", field="duplicate_id")
    if duplicate.merged_into_id is not None:
        raise StateConflict(
            f"contact {duplicate_id} is already merged into contact {duplicate.merged_into_id}", field="duplicate_id"
        )
    return duplicate


def _json(contact: Contact, names: Mapping[str, object]) -> dict[str, object]:
    return {name: field_to_json(name, getattr(contact, name)) for name in names}


def _decoded(values: Mapping[str, object]) -> dict[str, object]:
    return {name: field_from_json(name, value) for name, value in values.items() if name != UPDATED_AT}


def _when(values: Mapping[str, object]) -> datetime:
    return datetime.fromisoformat(str(values[UPDATED_AT]))


async def undo_merge(services: Services, principal: Principal, merge_id: int) -> UndoResult:
    """Give the duplicate back everything the merge moved; restore the fields nobody has edited since."""
    require_role(principal, *MERGERS)
    now = services.clock.now()
    async with services.uow() as uow:
        record = await uow.merges.get(merge_id)
        if record is None:
            raise NotFound(f"merge {merge_id} does not exist", field="merge_id")
        await uow.contacts.lock([record.survivor_id, record.duplicate_id])
        record = await uow.merges.get(merge_id)  # read again under the locks: a concurrent undo is done by now
        assert record is not None
        survivor = await _undoable(uow, record)
        await _restore_fields(uow, record, survivor, now)
        conversations = record.moved.get("conversations", [])
        for table in MOVED:
            ids = record.moved.get(table, [])
            await uow.merges.move_back(table, ids, conversations, record.survivor_id, record.duplicate_id)
        await uow.merges.mark_undone(merge_id, now, principal.user_id)
        detail = {"merge_id": merge_id, "duplicate_id": record.duplicate_id}
        await uow.audit.add(now, "contact.merge_undo", "contact", record.survivor_id, detail, *_audit_args(principal))
        uow.emit(MergeUndone(merge_id, record.survivor_id, record.duplicate_id), now)
        await uow.commit()
        restored = await uow.contacts.get_many([record.survivor_id, record.duplicate_id])
    by_id = {contact.id: contact for contact in restored}
    return UndoResult(merge_id, by_id[record.survivor_id], by_id[record.duplicate_id])


async def _undoable(uow: UnitOfWork, record: MergeRecord) -> Contact:
    if record.undone_at is not None:
        raise StateConflict(f"merge {record.id} was already undone", field="merge_id")
    survivor = await uow.contacts.get(record.survivor_id)
    duplicate = await uow.contacts.get(record.duplicate_id)
    assert survivor is not None and duplicate is not None
    if survivor.merged_into_id is not None:
        later = next(
            (
                m.id
                for m in await uow.merges.of_contact(survivor.id)
                if m.duplicate_id == survivor.id and not m.undone_at
            ),
            None,
        )
        raise StateConflict(
            f"contact {survivor.id} was merged into contact {survivor.merged_into_id} since; undo merge {later} first",
            field="merge_id",
        )
    external = record.duplicate_before.get("external_id")
    if isinstance(external, str):
        holder = await uow.contacts.find_by_external_id(external)
        if holder not in (None, record.survivor_id, record.duplicate_id):
            raise StateConflict(f"external id {external} belongs to contact {holder} now", field="merge_id")
    return survivor


async def _restore_fields(uow: UnitOfWork, record: MergeRecord, survivor: Contact, now: datetime) -> None:
    current = {name: getattr(survivor, name) for name in MERGED_FIELDS}
    back = restore(current, _decoded(record.survivor_before), _decoded(record.survivor_after))
    untouched = survivor.updated_at == record.merged_at
    external = back.get("external_id")
    if isinstance(external, str):
        holder = await uow.contacts.find_by_external_id(external)
        if holder not in (None, survivor.id):
            raise StateConflict(f"external id {external} belongs to contact {holder} now", field="merge_id")
    await uow.contacts.update(survivor.id, back, _when(record.survivor_before) if untouched else now)
    await uow.contacts.update(record.duplicate_id, _decoded(record.duplicate_before), _when(record.duplicate_before))
    await uow.contacts.set_merged_into(record.duplicate_id, None, _when(record.duplicate_before))
