"""The operator's files and channels for a reply: upload, read back, and where the customer can be answered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from switchboard.application import conversations as uc
from switchboard.application.access import Principal
from switchboard.application.attachments import find_upload, upload_file
from switchboard.application.ports.uploads import Upload
from switchboard.application.uploads import file_url
from switchboard.application.webchat import FileTooLarge
from switchboard.web.access import STAFF, allow, container, current_principal
from switchboard.web.routes.webchat import Sha256, files_of, server_limit
from switchboard.web.schemas import PathId
from switchboard.web.stored_files import stored_file

router = APIRouter(tags=["conversations"])


class UploadOut(BaseModel):
    id: int
    conversation_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    url: str

    @classmethod
    def of(cls, u: Upload) -> UploadOut:
        return cls(
            id=u.id,
            conversation_id=u.conversation_id,
            name=u.name,
            content_type=u.content_type,
            size=u.size,
            sha256=u.sha256,
            url=file_url(None, u.conversation_id, u.sha256),
        )


class ReplyChannelOut(BaseModel):
    id: int
    kind: str
    name: str
    current: bool


@router.post(
    "/conversations/{conversation_id}/uploads",
    response_model=UploadOut,
    status_code=201,
    responses={
        413: {"description": "larger than replies take"},
        415: {"description": "a type replies do not take, or content that is not what it says"},
    },
    **allow(*STAFF),
)
async def upload(
    conversation_id: PathId,
    request: Request,
    file: Annotated[UploadFile, File(description="one file (multipart/form-data, field 'file')")],
    principal: Principal = Depends(current_principal),
) -> UploadOut:
    """Upload a file for a reply, then send its id in the reply's ``upload_ids``."""
    runtime = container(request)
    limit = server_limit(runtime)
    if file.size is not None and file.size > limit:
        raise FileTooLarge(f"the file is {file.size} bytes; replies take files up to {limit} bytes", field="file")
    data = await file.read()
    made = await upload_file(
        runtime.services,
        files_of(runtime, request.app.state),
        principal,
        conversation_id,
        data,
        file.content_type or "",
        file.filename,
        limit,
    )
    return UploadOut.of(made)


@router.get("/conversations/{conversation_id}/files/{sha256}", response_class=Response, **allow(*STAFF))
async def download(
    conversation_id: PathId, sha256: Sha256, request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    """A file uploaded for, or sent in, this conversation; pictures inline, the rest as a download."""
    runtime = container(request)
    found = await find_upload(runtime.services, principal, conversation_id, sha256)
    store = files_of(runtime, request.app.state)
    return await stored_file(store, found.sha256, found.content_type, found.name)


@router.get("/conversations/{conversation_id}/reply-channels", response_model=list[ReplyChannelOut], **allow(*STAFF))
async def reply_channels(
    conversation_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> list[ReplyChannelOut]:
    """The conversation's channel first, then the customer's other channels that can write to them."""
    found = await uc.reply_channels(container(request).services, principal, conversation_id)
    return [ReplyChannelOut(id=c.id, kind=c.kind.value, name=c.name, current=i == 0) for i, c in enumerate(found)]
