"""Contacts and companies: one person, however many channels they write from.

A contact's profile fields are validated here, once, for every way they arrive (the card, a merge,
an import), and converted to and from the JSON form a merge record keeps.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from switchboard.domain.calendar import valid_time_zone
from switchboard.domain.channels import ChannelKind
from switchboard.domain.errors import DomainError
from switchboard.domain.identity import Identity

CustomValue = str | int | float | bool


class ContactTier(StrEnum):
    REGULAR = "regular"
    VIP = "vip"


@dataclass(frozen=True, slots=True)
class Consent:
    """The customer's answer to one consent question and when it was given."""

    granted: bool
    at: datetime


@dataclass(slots=True)
class Contact:
    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    tier: ContactTier = ContactTier.REGULAR
    company_id: int | None = None
    time_zone: str | None = None
    responsible_operator_id: int | None = None
    identities: list[Identity] = field(default_factory=list)
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    company_name: str | None = None
    city: str | None = None
    address: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    preferred_channel: ChannelKind | None = None
    marketing_consent: Consent | None = None
    processing_consent: Consent | None = None
    tags: tuple[str, ...] = ()
    external_id: str | None = None
    custom_fields: dict[str, CustomValue] = field(default_factory=dict)
    merged_into_id: int | None = None  # set on a merged contact (a tombstone): where its history went

    def fields(self) -> dict[str, object]:
        """The values of every editable field, by name."""
        return {name: getattr(self, name) for name in FIELDS}


def display_name(given: str | None, identity: Identity) -> str:
    """A new contact is named by what they told us, else by the identity they wrote from."""
    name = (given or "").strip()
    return name[:200] if name else identity.value


def composed_name(first: str | None, middle: str | None, last: str | None) -> str:
    """The display name made of name parts: given, middle, family."""
    return " ".join(part for part in (first, middle, last) if part)[:200]


# --- the editable fields --------------------------------------------------------------------------

TEXT_LIMITS: Final[dict[str, int]] = {
    "first_name": 100,
    "middle_name": 100,
    "last_name": 100,
    "company_name": 300,
    "city": 100,
    "address": 300,
    "region": 100,
    "postal_code": 20,
    "country": 100,
    "external_id": 255,
}
FIELDS: Final = (
    "name",
    "tier",
    "time_zone",
    "responsible_operator_id",
    *TEXT_LIMITS,
    "birth_date",
    "preferred_channel",
    "marketing_consent",
    "processing_consent",
    "tags",
    "custom_fields",
)
MAX_TAGS: Final = 50
MAX_TAG: Final = 50
MAX_CUSTOM_FIELDS: Final = 100
MAX_CUSTOM_TEXT: Final = 1000
CUSTOM_KEY: Final = re.compile(r"^[^\W\d][\w.-]{0,63}$")
EARLIEST_BIRTH: Final = date(1900, 1, 1)


def check_fields(fields: Mapping[str, object], today: date) -> dict[str, object]:
    """The fields normalized (text trimmed, blank text as None), or DomainError naming the field.

    Types are the domain's (``date``, ``Consent``, ``ChannelKind``, ``ContactTier``); callers parse
    their input into them first. ``custom_fields`` is a patch: a None value removes that key.
    """
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise DomainError(f"fields cannot be edited: {', '.join(unknown)}", field=unknown[0])
    checked: dict[str, object] = {}
    for name, value in fields.items():
        checked[name] = _check(name, value, today)
    return checked


def _check(name: str, value: object, today: date) -> object:
    if name == "name":
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= 200:
            raise DomainError("name must be 1 to 200 characters", field="name")
        return value.strip()
    if name in TEXT_LIMITS:
        return _text(name, value, TEXT_LIMITS[name])
    if value is None:
        if name in ("tier", "tags", "custom_fields"):
            raise DomainError(f"{name} cannot be null", field=name)
        return None
    checker = _CHECKERS.get(name)
    return checker(value, today) if checker else value


def _text(name: str, value: object, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DomainError(f"{name} must be text", field=name)
    text = " ".join(value.split())
    if len(text) > limit:
        raise DomainError(f"{name} must be at most {limit} characters", field=name)
    return text or None


def _tier(value: object, _: date) -> ContactTier:
    if not isinstance(value, str) or value not in {tier.value for tier in ContactTier}:
        raise DomainError("tier must be regular or vip", field="tier")
    return ContactTier(value)


def _time_zone(value: object, _: date) -> str:
    if not (isinstance(value, str) and valid_time_zone(value)):
        raise DomainError(f"time zone {value!r} is not an IANA zone", field="time_zone")
    return value


def _owner(value: object, _: date) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise DomainError("responsible_operator_id must be a user id", field="responsible_operator_id")
    return value


def check_birth_date(value: object, today: date) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise DomainError("birth_date must be a date", field="birth_date")
    if value > today:
        raise DomainError(f"birth_date {value.isoformat()} is in the future", field="birth_date")
    if value < EARLIEST_BIRTH:
        raise DomainError(f"birth_date {value.isoformat()} is before 1900", field="birth_date")
    return value


def _channel(value: object, _: date) -> ChannelKind:
    if not isinstance(value, str) or value not in {kind.value for kind in ChannelKind}:
        raise DomainError(f"preferred_channel {value!r} is not a channel kind", field="preferred_channel")
    return ChannelKind(value)


def _consent(name: str) -> Callable[[object, date], Consent]:
    def check(value: object, today: date) -> Consent:
        if not isinstance(value, Consent):
            raise DomainError(f"{name} must be {{granted, at}}", field=name)
        if value.at.tzinfo is None:
            raise DomainError(f"{name}.at needs a time zone", field=f"{name}.at")
        if value.at.date() > today:
            raise DomainError(f"{name}.at is in the future", field=f"{name}.at")
        return value

    return check


def check_tags(value: object, _: date | None = None) -> tuple[str, ...]:
    """Trimmed, without repeats (the first spelling kept, compared case-insensitively), in the given order."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise DomainError("tags must be a list of text", field="tags")
    seen: dict[str, str] = {}
    for item in value:
        if not isinstance(item, str) or not 1 <= len(item.strip()) <= MAX_TAG:
            raise DomainError(f"each tag must be 1 to {MAX_TAG} characters", field="tags")
        seen.setdefault(item.strip().casefold(), " ".join(item.split()))
    if len(seen) > MAX_TAGS:
        raise DomainError(f"at most {MAX_TAGS} tags", field="tags")
    return tuple(seen.values())


def check_custom_fields(value: object, _: date | None = None) -> dict[str, CustomValue | None]:
    if not isinstance(value, dict):
        raise DomainError("custom_fields must be an object", field="custom_fields")
    checked: dict[str, CustomValue | None] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not CUSTOM_KEY.match(key):
            raise DomainError(
                f"custom field name {key!r} must start with a letter and hold up to 64 letters, digits, '_', '.', '-'",
                field="custom_fields",
            )
        if isinstance(item, str) and len(item) > MAX_CUSTOM_TEXT:
            raise DomainError(f"custom field {key} is longer than {MAX_CUSTOM_TEXT}", field=f"custom_fields.{key}")
        if item is not None and not isinstance(item, str | int | float | bool):
            raise DomainError(f"custom field {key} must be text, a number or true/false", field=f"custom_fields.{key}")
        checked[key] = item.strip() if isinstance(item, str) else item
    return checked


def patch_custom_fields(
    current: Mapping[str, CustomValue], patch: Mapping[str, CustomValue | None]
) -> dict[str, CustomValue]:
    """A JSON merge patch: keys with None are removed, others set; at most ``MAX_CUSTOM_FIELDS`` remain."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_CUSTOM_FIELDS:
        raise DomainError(f"at most {MAX_CUSTOM_FIELDS} custom fields", field="custom_fields")
    return merged


_CHECKERS: Final[dict[str, Callable[[object, date], object]]] = {
    "tier": _tier,
    "time_zone": _time_zone,
    "responsible_operator_id": _owner,
    "birth_date": check_birth_date,
    "preferred_channel": _channel,
    "marketing_consent": _consent("marketing_consent"),
    "processing_consent": _consent("processing_consent"),
    "tags": check_tags,
    "custom_fields": check_custom_fields,
}


# --- the JSON form of field values (merge records) ------------------------------------------------


def field_to_json(name: str, value: object) -> object:
    if value is None:
        return None
    if isinstance(value, Consent):
        return {"granted": value.granted, "at": value.at.isoformat()}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def field_from_json(name: str, value: object) -> object:
    if value is None:
        return {} if name == "custom_fields" else () if name == "tags" else None
    if name in ("marketing_consent", "processing_consent") and isinstance(value, dict):
        return Consent(bool(value["granted"]), datetime.fromisoformat(str(value["at"])))
    if name == "birth_date":
        return date.fromisoformat(str(value))
    if name == "tags" and isinstance(value, list):
        return tuple(str(tag) for tag in value)
    if name == "tier":
        return ContactTier(str(value))
    if name == "preferred_channel":
        return ChannelKind(str(value))
    return value
