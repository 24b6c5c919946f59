"""The operator's files: uploaded for a conversation, sent in a reply, read back by staff.

Uploads take the same size and type limits as the web chat's visitors (a web chat conversation
takes its channel's; any other the web chat defaults: pictures, PDF, plain text), because the file
may be shown in a browser on either side. The bytes go to the content-addressed file store.
"""

from __future__ import annotations

import asyncio

from switchboard.application.access import Principal, require_handles, require_role
from switchboard.application.context import Services
from switchboard.application.conversations import check_reads
from switchboard.application.errors import Forbidden, NotFound
from switchboard.application.ports.files import FileStore
from switchboard.application.ports.uploads import Upload
from switchboard.application.webchat import FileTooLarge, UnsupportedFile
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.operators import Role
from switchboard.domain.webchat import (
    FileRefused,
    InvalidWidgetSettings,
    WidgetSettings,
    check_file,
    safe_file_name,
    widget_settings,
)


def file_rules(channel: Channel | None) -> WidgetSettings:
    """A web chat's own limits (the visitor must be able to open the file), the defaults elsewhere."""
    if channel is not None and channel.kind is ChannelKind.WEBCHAT:
        try:
            return widget_settings(channel.settings)
        except InvalidWidgetSettings:
            pass
    return WidgetSettings()


async def upload_file(
    services: Services,
    files: FileStore,
    principal: Principal,
    conversation_id: int,
    data: bytes,
    content_type: str,
    name: str | None,
    server_limit: int,
) -> Upload:
    """Keep one file for a reply the operator is writing; 413/415 naming ``file`` when it cannot go."""
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    if principal.user_id is None:
        raise Forbidden("files are uploaded by a signed-in person, not an API token")
    async with services.uow(read_only=True) as uow:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        await check_reads(uow, principal, conversation)
        require_handles(principal, conversation)
        rules = file_rules(await uow.channels.get(conversation.channel_id))
    try:
        media = check_file(rules, content_type, len(data), data[:16], min(rules.max_file_bytes, server_limit))
    except FileRefused as error:
        kind = FileTooLarge if error.status == 413 else UnsupportedFile
        raise kind(error.detail.replace("this chat takes", "replies take"), field="file") from error
    stored = await asyncio.to_thread(files.put, data, media, safe_file_name(name))
    draft = Upload(
        0, conversation_id, principal.user_id, stored.sha256, stored.name, media, stored.size, services.clock.now()
    )
    async with services.uow() as uow:
        upload = await uow.uploads.add(draft)
        await uow.commit()
    return upload


async def find_upload(services: Services, principal: Principal, conversation_id: int, sha256: str) -> Upload:
    """A file uploaded for, or sent in, a conversation the principal may read."""
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    async with services.uow(read_only=True) as uow:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        await check_reads(uow, principal, conversation)
        upload = await uow.uploads.for_conversation(conversation_id, sha256.lower())
    if upload is None:
        raise NotFound(f"file {sha256} does not exist", field="sha256")
    return upload
