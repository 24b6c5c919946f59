"""Importing contacts from a CSV upload (the API twin of ``switchboard contacts import``)."""

from __future__ import annotations

import io

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from switchboard.application import contact_import as uc
from switchboard.application.access import Principal
from switchboard.domain.operators import Role
from switchboard.web.access import allow, container, current_principal
from switchboard.web.schemas import ImportReportOut

router = APIRouter(tags=["contacts"])


@router.post("/contacts/imports", response_model=ImportReportOut, **allow(Role.ADMIN))
async def import_csv(
    request: Request,
    file: UploadFile = File(description="the CSV file, a header line first"),
    map: list[str] = Form(description="column=field, once per mapped column (see docs/contacts.md)"),
    date_format: str | None = Form(None, description="strptime codes, e.g. %m/%d/%Y"),
    delimiter: str = Form(",", description="one character; \\t for a tab"),
    encoding: str = Form("utf-8"),
    principal: Principal = Depends(current_principal),
) -> ImportReportOut:
    """Load contacts from a CSV file: good rows are kept, bad rows reported with their line numbers; a row whose
    phone or email belongs to a contact fills that contact's empty fields (``matched``). An unusable file (encoding,
    missing columns, bad mapping) is refused whole (422). Files up to the body limit; larger ones with the CLI."""
    options = uc.ImportOptions(tuple(map), date_format or None, "\t" if delimiter == "\\t" else delimiter)
    uc.check_options(options)
    text = uc.decode(await file.read(), encoding)
    report = await uc.import_contacts(container(request).services, principal, io.StringIO(text, newline=""), options)
    return ImportReportOut.of(report)
