"""Merging two contacts: which value of each field the survivor keeps, and how an undo restores it.

The rule for a field nobody chose is **newest non-empty wins**: the value of the contact edited
last (``updated_at``; the survivor on a tie) unless it is empty, then the other's. Some fields have
a rule that fits them better:

* ``tags`` — the union (survivor's first);
* ``custom_fields`` — key by key, newest non-empty wins;
* consents — the answer given last (by its own time) wins: consent is the customer's latest word;
* ``tier`` — VIP if either is VIP;
* ``name`` — a name that is only one of the contact's phones or emails (what a contact is called
  before anyone knows better) counts as empty.

A choice (``survivor`` or ``duplicate``) for a field takes that side's value as it is, even empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from switchboard.domain.contacts import FIELDS, Consent, Contact, ContactTier
from switchboard.domain.errors import DomainError

MERGED_FIELDS: Final = (*FIELDS, "company_id")


class Side(StrEnum):
    SURVIVOR = "survivor"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class MergePlan:
    """The survivor's fields after the merge (only those that change) and where each field came from."""

    changes: dict[str, object]
    taken: dict[str, Side]


def check_choices(choices: Mapping[str, str]) -> dict[str, Side]:
    checked: dict[str, Side] = {}
    for name, side in choices.items():
        if name not in MERGED_FIELDS:
            raise DomainError(f"{name} is not a field that can be chosen", field=f"fields.{name}")
        if side not in (Side.SURVIVOR.value, Side.DUPLICATE.value):
            raise DomainError(f"choose survivor or duplicate for {name}", field=f"fields.{name}")
        checked[name] = Side(side)
    return checked


def empty(value: object) -> bool:
    return value is None or value == "" or value == () or value == {}


def plan_merge(survivor: Contact, duplicate: Contact, choices: Mapping[str, Side]) -> MergePlan:
    duplicate_newer = duplicate.updated_at > survivor.updated_at
    changes: dict[str, object] = {}
    taken: dict[str, Side] = {}
    for name in MERGED_FIELDS:
        mine, theirs = getattr(survivor, name), getattr(duplicate, name)
        chosen = choices.get(name)
        if chosen is not None:
            value, side = (mine, Side.SURVIVOR) if chosen is Side.SURVIVOR else (theirs, Side.DUPLICATE)
        else:
            value, side = _resolve(name, survivor, duplicate, duplicate_newer)
        taken[name] = side
        if value != mine:
            changes[name] = value
    return MergePlan(changes, taken)


def _resolve(name: str, survivor: Contact, duplicate: Contact, duplicate_newer: bool) -> tuple[object, Side]:
    mine, theirs = getattr(survivor, name), getattr(duplicate, name)
    if name == "tags":
        known = {tag.casefold() for tag in mine}
        union = (*mine, *(tag for tag in theirs if tag.casefold() not in known))
        return union, Side.SURVIVOR if union == mine else Side.DUPLICATE
    if name == "custom_fields":
        return _custom(mine, theirs, duplicate_newer)
    if name in ("marketing_consent", "processing_consent"):
        return _consent(mine, theirs)
    if name == "tier":
        if theirs is ContactTier.VIP and mine is not ContactTier.VIP:
            return theirs, Side.DUPLICATE
        return mine, Side.SURVIVOR
    if name == "name":
        mine_empty, theirs_empty = _placeholder(survivor), _placeholder(duplicate)
        if theirs_empty or (not mine_empty and not duplicate_newer):
            return mine, Side.SURVIVOR
        return theirs, Side.DUPLICATE
    return _newest(mine, theirs, duplicate_newer)


def _newest(mine: object, theirs: object, duplicate_newer: bool) -> tuple[object, Side]:
    if empty(theirs) or (not empty(mine) and not duplicate_newer):
        return mine, Side.SURVIVOR
    return theirs, Side.DUPLICATE


def _custom(mine: dict[str, object], theirs: dict[str, object], duplicate_newer: bool) -> tuple[object, Side]:
    merged = dict(mine)
    for key, value in theirs.items():
        if key not in merged or duplicate_newer:
            merged[key] = value
    return merged, Side.SURVIVOR if merged == mine else Side.DUPLICATE


def _consent(mine: Consent | None, theirs: Consent | None) -> tuple[object, Side]:
    if theirs is None or (mine is not None and mine.at >= theirs.at):
        return mine, Side.SURVIVOR
    return theirs, Side.DUPLICATE


def _placeholder(contact: Contact) -> bool:
    """A name that is only one of the contact's identities says nothing about the person."""
    return any(contact.name == identity.value for identity in contact.identities)


def restore(
    current: Mapping[str, object], before: Mapping[str, object], after: Mapping[str, object]
) -> dict[str, object]:
    """The fields an undo sets back: those the merge changed and nobody has changed since.

    ``after`` is what the merge wrote, ``before`` what was there; a field edited after the merge
    keeps the later edit.
    """
    return {name: before[name] for name, value in after.items() if current.get(name) == value}


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """What a merge did, kept so it can be undone: field values in their JSON form (``field_to_json``)."""

    id: int
    survivor_id: int
    duplicate_id: int
    merged_at: datetime
    merged_by: int | None
    survivor_before: dict[str, object]
    survivor_after: dict[str, object]
    duplicate_before: dict[str, object]
    moved: dict[str, list[int]]  # identities, conversations, leads, timeline -> row ids
    taken: dict[str, str]
    undone_at: datetime | None = None
    undone_by: int | None = None
