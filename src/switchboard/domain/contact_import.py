"""Importing contacts from a CSV file: the column mapping, and one row read into checked fields.

``--map column=field`` names, for a column of the file's header, the contact field it fills:

* ``name``, ``first_name``, ``middle_name``, ``last_name`` — several columns mapped to ``name`` are
  joined with spaces; without a ``name`` the display name is made of the parts, else of the first
  phone or email;
* ``birth_date`` — ISO ``YYYY-MM-DD``, ``DD.MM.YYYY`` or ``DD/MM/YYYY``, or the ``date_format`` given;
* ``address`` (several columns are joined with ", "), ``city``, ``region``, ``postal_code``, ``country``;
* ``phone``, ``email`` — any number of columns, each cell may hold several values split by ``;`` or ``,``;
* ``company_name``, ``time_zone``, ``preferred_channel``, ``tier``, ``external_id``;
* ``tags`` — split by ``;`` or ``,``; ``marketing_consent``, ``processing_consent`` — yes/no, true/false, 1/0, да/нет;
* ``custom.<name>`` — a custom field.

Everything here is pure: the caller gives ``today`` and the phone region.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from switchboard.domain.contacts import TEXT_LIMITS, Consent, check_custom_fields, check_fields, composed_name
from switchboard.domain.errors import DomainError
from switchboard.domain.identity import normalize_email, normalize_phone

JOINED: Final = {"name": " ", "address": ", "}
LISTS: Final = frozenset({"phone", "email", "tags"})
SCALARS: Final = frozenset(
    {*TEXT_LIMITS, "birth_date", "time_zone", "preferred_channel", "tier", "marketing_consent", "processing_consent"}
)
TARGETS: Final = frozenset({*JOINED, *LISTS, *SCALARS})
CUSTOM: Final = "custom."
DATE_FORMATS: Final = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")
SPLIT: Final = re.compile(r"[;,]")
YES: Final = frozenset({"yes", "y", "true", "1", "да", "д"})
NO: Final = frozenset({"no", "n", "false", "0", "нет", "н"})


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """(column, field) pairs in the order given."""

    pairs: tuple[tuple[str, str], ...]

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(column for column, _ in self.pairs))


def parse_mapping(specs: Sequence[str]) -> ColumnMap:
    """``column=field`` specs (the column may contain '='; the field is after the last one)."""
    if not specs:
        raise DomainError("map at least one column: column=field", field="map")
    pairs: list[tuple[str, str]] = []
    fields_seen: set[str] = set()
    for spec in specs:
        column, sep, target = spec.rpartition("=")
        column, target = column.strip(), target.strip()
        if not sep or not column or not target:
            raise DomainError(f"{spec!r} is not column=field", field="map")
        if target.startswith(CUSTOM):
            check_custom_fields({target.removeprefix(CUSTOM): ""})
        elif target not in TARGETS:
            raise DomainError(f"{target!r} is not a contact field (see the import's fields)", field="map")
        if target in fields_seen and target not in JOINED and target not in LISTS:
            raise DomainError(f"{target} is mapped from two columns", field="map")
        fields_seen.add(target)
        pairs.append((column, target))
    return ColumnMap(tuple(pairs))


def column_positions(mapping: ColumnMap, header: Sequence[str]) -> dict[str, int]:
    """Where each mapped column is in the header; DomainError naming every missing or repeated one."""
    names = [name.strip() for name in header]
    missing = [column for column in mapping.columns if column not in names]
    if missing:
        raise DomainError(
            f"the file has no column {', '.join(repr(m) for m in missing)} (its columns: {', '.join(names)})",
            field="map",
        )
    repeated = [column for column in mapping.columns if names.count(column) > 1]
    if repeated:
        raise DomainError(f"the header names column {repeated[0]!r} twice", field="map")
    return {column: names.index(column) for column in mapping.columns}


def csv_rows(lines: Iterable[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record starts, cells) for every record, the header first."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    last = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise DomainError(f"line {reader.line_num}: the CSV is malformed: {error}", field="file") from error
        yield last + 1, cells
        last = reader.line_num


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One row, checked: the display name, profile fields (domain types), normalized phones and emails."""

    line: int
    name: str | None
    fields: dict[str, object]
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RowProblem:
    field: str
    message: str


@dataclass
class RowInvalid(Exception):
    line: int
    problems: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RowRules:
    region: str
    today: date
    now: datetime
    date_format: str | None = None


def read_row(
    line: int, cells: Sequence[str], mapping: ColumnMap, positions: Mapping[str, int], rules: RowRules
) -> ImportRow:
    """The row's values checked; RowInvalid listing every problem of the row."""
    values: dict[str, list[str]] = {}
    for column, target in mapping.pairs:
        cell = cells[positions[column]].strip()
        if cell:
            values.setdefault(target, []).append(cell)
    problems: list[RowProblem] = []
    raw: dict[str, object] = {}
    custom: dict[str, object] = {}
    for target, cells_of in values.items():
        try:
            if target.startswith(CUSTOM):
                custom[target.removeprefix(CUSTOM)] = cells_of[0]
            elif target not in LISTS:
                raw[target] = _scalar(target, cells_of, rules)
        except DomainError as error:
            problems.append(RowProblem(error.field or target, error.detail))
    if custom:
        raw["custom_fields"] = custom
    if "tags" in values:
        raw["tags"] = [tag.strip() for cell in values["tags"] for tag in SPLIT.split(cell) if tag.strip()]
    phones = _identities("phone", values, lambda v: normalize_phone(v, rules.region), problems)
    emails = _identities("email", values, normalize_email, problems)
    fields = _checked(raw, rules.today, problems)
    if problems:
        raise RowInvalid(line, problems)
    name = fields.pop("name", None)
    if name is None:
        parts = composed_name(*(_text(fields.get(p)) for p in ("first_name", "middle_name", "last_name")))
        name = parts or (phones[0] if phones else emails[0] if emails else None)
    if name is None:
        raise RowInvalid(line, [RowProblem("name", "no name, phone or email to know the contact by")])
    return ImportRow(line, str(name), fields, phones, emails)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _scalar(target: str, cells: list[str], rules: RowRules) -> object:
    if target in JOINED:
        return JOINED[target].join(cells)
    value = cells[0]
    if target == "birth_date":
        return parse_date(value, rules.date_format)
    if target in ("marketing_consent", "processing_consent"):
        return Consent(parse_yes_no(target, value), rules.now)
    return value


def _identities(
    target: str, values: Mapping[str, list[str]], normalize: Callable[[str], str], problems: list[RowProblem]
) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for cell in values.get(target, []):
        for item in SPLIT.split(cell):
            if not item.strip():
                continue
            try:
                found[normalize(item.strip())] = None
            except DomainError as error:
                problems.append(RowProblem(target, error.detail))
    return tuple(found)


def _checked(raw: dict[str, object], today: date, problems: list[RowProblem]) -> dict[str, object]:
    checked: dict[str, object] = {}
    for name, value in raw.items():
        try:
            checked.update(check_fields({name: value}, today))
        except DomainError as error:
            problems.append(RowProblem(error.field or name, error.detail))
    return checked


def parse_date(text: str, date_format: str | None = None) -> date:
    """A birth date written ISO, DD.MM.YYYY or DD/MM/YYYY (or in ``date_format``, strptime's codes)."""
    for form in (date_format,) if date_format else DATE_FORMATS:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    expected = date_format or "YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY"
    raise DomainError(f"{text!r} is not a date ({expected})", field="birth_date")


def parse_yes_no(target: str, text: str) -> bool:
    folded = text.strip().casefold()
    if folded in YES:
        return True
    if folded in NO:
        return False
    raise DomainError(f"{text!r} is not yes or no", field=target)
