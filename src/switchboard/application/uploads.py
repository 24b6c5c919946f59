"""An operator's uploads turned into a reply's attachments, checked against who uploaded them and where.

An upload belongs to its operator and to the conversation it was made for, and goes out once:
anything else (an unknown id, a colleague's file, a file for another conversation, one already
sent) is refused naming ``upload_ids`` before anything is stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.application.access import Principal
from switchboard.application.errors import InvalidInput
from switchboard.application.ports.storage import UnitOfWork
from switchboard.application.ports.uploads import Upload
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.conversation import Attachment
from switchboard.domain.webchat import MAX_ATTACHMENTS

FIELD = "upload_ids"


async def checked_uploads(
    uow: UnitOfWork, principal: Principal, conversation_id: int, upload_ids: Sequence[int]
) -> list[Upload]:
    """The uploads in the order given (a repeated id counts once), or InvalidInput naming ``upload_ids``."""
    wanted = list(dict.fromkeys(upload_ids))
    if len(wanted) > MAX_ATTACHMENTS:
        raise InvalidInput(f"at most {MAX_ATTACHMENTS} files a reply", field=FIELD)
    found = await uow.uploads.get_many(wanted)
    uploads = []
    for upload_id in wanted:
        upload = found.get(upload_id)
        if upload is None:
            raise InvalidInput(f"upload {upload_id} does not exist", field=FIELD)
        if upload.owner_id != principal.user_id:
            raise InvalidInput(f"upload {upload_id} was made by someone else", field=FIELD)
        if upload.conversation_id != conversation_id:
            raise InvalidInput(f"upload {upload_id} was made for another conversation", field=FIELD)
        if upload.message_id is not None:
            raise InvalidInput(f"upload {upload_id} was already sent", field=FIELD)
        uploads.append(upload)
    return uploads


def file_url(channel: Channel | None, conversation_id: int, sha256: str) -> str:
    """Where the file is fetched: the visitor's route for a web chat, the staff route otherwise.

    Both end with the SHA-256, which is how connectors find the bytes in the file store.
    """
    if channel is not None and channel.kind is ChannelKind.WEBCHAT:
        return f"/webchat/{channel.id}/files/{sha256}"
    return f"/api/v1/conversations/{conversation_id}/files/{sha256}"


def attachments_of(uploads: Sequence[Upload], channel: Channel | None, conversation_id: int) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(u.name, u.content_type, u.size, file_url(channel, conversation_id, u.sha256)) for u in uploads
    )
