"""The record duplicate detection reads: one contact as the import or the desk knows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Person:
    """One contact record. Everything but ``id`` may be missing.

    ``full_name`` is for records whose name parts are unknown (``"Иванов Иван Иванович"``); when
    ``first_name`` or ``last_name`` is given, ``full_name`` is ignored. ``phones`` are E.164
    (``identity.normalize_phone``), ``emails`` are normalized (``identity.normalize_email``).
    ``external_id`` is the id in the system the record was imported from.
    """

    id: str | int
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    full_name: str | None = None
    birth_date: date | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    city: str | None = None
    address: str | None = None
    company: str | None = None
    external_id: str | None = None
