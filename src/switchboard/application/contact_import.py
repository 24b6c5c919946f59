"""Importing contacts from a CSV file, row by row: good rows kept, bad rows reported with their line.

Each row is its own unit of work, so a bad row leaves nothing behind and never undoes a good one.
The file itself must be usable first (encoding, header, mapping): otherwise nothing is imported.

The matching rule: a row whose phone or email already belongs to a contact is that contact — the row
fills the contact's empty fields and adds its other phones and emails, and is reported as
``matched``. A row whose identities belong to two different contacts, or whose external id already
belongs to a contact, or repeats one of an earlier line, is refused.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput
from switchboard.application.ports.storage import Conflict, UnitOfWork
from switchboard.domain.contact_import import (
    ColumnMap,
    ImportRow,
    RowInvalid,
    RowProblem,
    RowRules,
    column_positions,
    csv_rows,
    parse_mapping,
    read_row,
)
from switchboard.domain.contacts import Contact, ContactTier
from switchboard.domain.errors import DomainError
from switchboard.domain.events import ContactCreated, ContactUpdated, IdentityAdded
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.merge import empty
from switchboard.domain.operators import Role

PROGRESS_EVERY = 1_000
BATCH = 200  # rows per unit of work
CONCURRENT = "changed concurrently; import it again"
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ImportOptions:
    mapping: tuple[str, ...]
    date_format: str | None = None
    delimiter: str = ","


@dataclass(frozen=True, slots=True)
class RowOutcome:
    line: int
    status: str  # matched | failed (created rows are counted, not listed)
    contact_id: int | None = None
    fields: tuple[str, ...] = ()  # matched: the fields and identities the row filled in
    problems: tuple[RowProblem, ...] = ()


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    matched: int = 0
    failed: int = 0
    outcomes: list[RowOutcome] = field(default_factory=list)


def encoding_of(name: str) -> str:
    """The codec for ``name``; UTF-8 also drops a byte order mark."""
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise InvalidInput(f"unknown encoding {name!r}", field="encoding") from None
    return "utf-8-sig" if codec == "utf-8" else codec


def check_encoding(chunks: Iterable[bytes], encoding: str) -> None:
    """Read the whole file once: a byte the encoding cannot decode makes the file unusable, with its line."""
    decoder = codecs.getincrementaldecoder(encoding_of(encoding))()
    lines = 1
    for chunk in chunks:
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as error:
            line = lines + decoder.decode(chunk[: error.start], final=False).count("\n") if error.start else lines
            raise InvalidInput(
                f"the file is not {encoding} (line {line}: byte {chunk[error.start]:#04x}); "
                "give its encoding, e.g. cp1251",
                field="encoding",
            ) from None
        lines += text.count("\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InvalidInput(f"the file is not {encoding}: it ends inside a character", field="encoding") from None


def decode(data: bytes, encoding: str) -> str:
    check_encoding([data], encoding)
    return data.decode(encoding_of(encoding))


def check_options(options: ImportOptions) -> ColumnMap:
    if len(options.delimiter) != 1 or options.delimiter in '\r\n"':
        raise InvalidInput("the delimiter is one character (\\t for a tab)", field="delimiter")
    if options.date_format is not None and "%" not in options.date_format:
        raise InvalidInput("date format uses strptime codes, e.g. %d.%m.%Y", field="date_format")
    try:
        return parse_mapping(options.mapping)
    except DomainError as error:
        raise InvalidInput(error.detail, field=error.field) from error


async def import_contacts(
    services: Services,
    principal: Principal,
    lines: Iterable[str],
    options: ImportOptions,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the CSV text ``lines`` (header first). InvalidInput when the file is unusable, before any write."""
    require_role(principal, Role.ADMIN)
    mapping = check_options(options)
    rows = csv_rows(lines, options.delimiter)
    try:
        header = next(rows, None)
        if header is None:
            raise InvalidInput("the file is empty: no header line", field="file")
        positions = column_positions(mapping, header[1])
    except DomainError as error:
        raise InvalidInput(error.detail, field=error.field) from error
    report = ImportReport()
    reader = _Reader(mapping, positions, len(header[1]), options, services)
    batch: list[ImportRow] = []
    try:
        for line, cells in rows:
            if not any(cell.strip() for cell in cells):
                continue
            report.rows += 1
            row = reader.read(line, cells, report)
            if row is not None:
                batch.append(row)
            if len(batch) >= BATCH:
                _count(report, await _store_batch(services, batch))
                batch = []
            if progress is not None and report.rows % PROGRESS_EVERY == 0:
                progress(report.rows)
    except DomainError as error:  # a malformed CSV record: the rows before it are kept and reported
        _count(report, [RowOutcome(0, "failed", problems=(RowProblem("file", error.detail),))])
    _count(report, await _store_batch(services, batch))
    report.outcomes.sort(key=lambda outcome: outcome.line or report.rows + 2)
    await _audit(services, principal, report)
    return report


def _count(report: ImportReport, outcomes: Iterable[RowOutcome]) -> None:
    for outcome in outcomes:
        if outcome.status == "created":
            report.created += 1
            continue
        report.outcomes.append(outcome)
        report.matched += outcome.status == "matched"
        report.failed += outcome.status == "failed"


class _Reader:
    """Rows of the file checked on their own: cells, values, an external id repeated in the file."""

    def __init__(
        self, mapping: ColumnMap, positions: dict[str, int], width: int, options: ImportOptions, services: Services
    ) -> None:
        self.mapping, self.positions, self.width = mapping, positions, width
        now = services.clock.now()
        self.rules = RowRules(services.default_region, now.date(), now, options.date_format)
        self.seen: dict[str, int] = {}  # external id -> the line that had it first

    def read(self, line: int, cells: Sequence[str], report: ImportReport) -> ImportRow | None:
        try:
            if len(cells) != self.width:
                raise RowInvalid(line, [RowProblem("file", f"the row has {len(cells)} cells, the header {self.width}")])
            row = read_row(line, cells, self.mapping, self.positions, self.rules)
            external = row.fields.get("external_id")
            if isinstance(external, str):
                first = self.seen.setdefault(external, line)
                if first != line:
                    raise RowInvalid(line, [RowProblem("external_id", f"external id {external} repeats line {first}")])
        except RowInvalid as invalid:
            _count(report, [RowOutcome(line, "failed", problems=tuple(invalid.problems))])
            return None
        return row


@dataclass
class _Known:
    """Who owns the batch's phones, emails and external ids: read once per batch, kept up to date by its rows."""

    owners: dict[Identity, int]
    external: dict[str, int]


def _identities_of(row: ImportRow) -> list[Identity]:
    return [Identity(IdentityKind.PHONE, p) for p in row.phones] + [Identity(IdentityKind.EMAIL, e) for e in row.emails]


def _external_of(row: ImportRow) -> str | None:
    external = row.fields.get("external_id")
    return external if isinstance(external, str) else None


async def _store_batch(services: Services, batch: Sequence[ImportRow]) -> list[RowOutcome]:
    """Rows in one unit of work; a row refused by the stored data is refused before it writes anything.

    Should the batch fail as a whole (a concurrent write collided with one row), it is rolled back
    and each row is stored again in its own unit of work, so only the colliding row is lost.
    """
    if not batch:
        return []
    try:
        async with services.uow() as uow:
            externals = [e for e in map(_external_of, batch) if e is not None]
            known = _Known(
                await uow.contacts.owners([i for row in batch for i in _identities_of(row)]),
                await uow.contacts.external_id_holders(externals),
            )
            outcomes = [await _store_or_refuse(uow, row, services.clock.now(), known) for row in batch]
            await uow.commit()
        return outcomes
    except Conflict:
        if len(batch) == 1:
            return [RowOutcome(batch[0].line, "failed", problems=(RowProblem("file", CONCURRENT),))]
        return [outcome for row in batch for outcome in await _store_batch(services, [row])]


async def _store_or_refuse(uow: UnitOfWork, row: ImportRow, now: datetime, known: _Known) -> RowOutcome:
    try:
        return await _store(uow, row, now, known)
    except RowInvalid as invalid:
        return RowOutcome(row.line, "failed", problems=tuple(invalid.problems))


async def _store(uow: UnitOfWork, row: ImportRow, now: datetime, known: _Known) -> RowOutcome:
    """Every check first (RowInvalid), then the writes: a refused row writes nothing."""
    identities = _identities_of(row)
    owners = {identity: known.owners[identity] for identity in identities if identity in known.owners}
    external = _external_of(row)
    if external is not None and external in known.external:
        problem = f"external id {external} already belongs to contact {known.external[external]}"
        raise RowInvalid(row.line, [RowProblem("external_id", problem)])
    contacts = sorted(set(owners.values()))
    if len(contacts) > 1:
        listed = " and ".join(str(c) for c in contacts)
        raise RowInvalid(row.line, [RowProblem("phone", f"the row's phones and emails belong to contacts {listed}")])
    new = [identity for identity in identities if identity not in owners]
    if contacts:
        outcome = await _fill(uow, row, contacts[0], new, now)
    else:
        outcome = await _create(uow, row, new, now)
    assert outcome.contact_id is not None
    known.owners.update(dict.fromkeys(new, outcome.contact_id))
    if external is not None and (not contacts or "external_id" in outcome.fields):
        known.external[external] = outcome.contact_id
    return outcome


async def _create(uow: UnitOfWork, row: ImportRow, identities: list[Identity], now: datetime) -> RowOutcome:
    fields = dict(row.fields)
    tier = fields.pop("tier", ContactTier.REGULAR)
    assert isinstance(tier, ContactTier) and row.name is not None
    contact = await uow.contacts.add(row.name, tier, now, fields)
    for identity in identities:
        await uow.contacts.add_identity(contact.id, identity, now)
    uow.emit(ContactCreated(contact.id, None), now)
    return RowOutcome(row.line, "created", contact.id)


async def _fill(
    uow: UnitOfWork, row: ImportRow, contact_id: int, identities: list[Identity], now: datetime
) -> RowOutcome:
    """The row is this contact: fill what the contact lacks, add the row's other phones and emails."""
    contact = await uow.contacts.get(contact_id)
    assert contact is not None
    filled = _missing(contact, row)
    if filled:
        await uow.contacts.update(contact_id, filled, now)
        uow.emit(ContactUpdated(contact_id, tuple(sorted(filled))), now)
    for identity in identities:
        await uow.contacts.add_identity(contact_id, identity, now)
        uow.emit(IdentityAdded(contact_id, identity.kind.value), now)
    added = tuple(f"{identity.kind.value}:{identity.value}" for identity in identities)
    return RowOutcome(row.line, "matched", contact_id, (*sorted(filled), *added))


def _missing(contact: Contact, row: ImportRow) -> dict[str, object]:
    filled: dict[str, object] = {}
    for name, value in row.fields.items():
        current = getattr(contact, name)
        if name == "custom_fields" and isinstance(value, dict):
            extra = {key: item for key, item in value.items() if key not in current}
            if extra:
                filled[name] = {**current, **extra}
        elif name == "tier":
            continue
        elif empty(current):
            filled[name] = value
    placeholder = any(contact.name == identity.value for identity in contact.identities)
    if placeholder and row.name and row.name not in (row.phones + row.emails):
        filled["name"] = row.name
    return filled


async def _audit(services: Services, principal: Principal, report: ImportReport) -> None:
    now = services.clock.now()
    detail = {"rows": report.rows, "created": report.created, "matched": report.matched, "failed": report.failed}
    async with services.uow() as uow:
        await uow.audit.add(
            now, "contact.import", "contact", None, detail, principal.user_id, principal.token_id, principal.request_id
        )
        await uow.commit()
