"""A stored file as an HTTP answer: the same safe headers wherever a file is served (visitor or staff)."""

from __future__ import annotations

import asyncio

from fastapi.responses import Response

from switchboard.application.errors import NotFound
from switchboard.application.ports.files import FileStore, StoredFileNotFound


async def stored_file(store: FileStore, sha256: str, content_type: str, name: str) -> Response:
    """Pictures inline, the rest as a download; never sniffed or run (nosniff, a sandboxing CSP)."""
    try:
        data = await asyncio.to_thread(_read, store, sha256)
    except StoredFileNotFound as error:
        raise NotFound(f"file {sha256} does not exist", field="sha256") from error
    disposition = "inline" if content_type.startswith("image/") else "attachment"
    safe_name = name.encode("ascii", "replace").decode().replace('"', "'")
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{safe_name}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=86400, immutable",
        },
    )


def _read(store: FileStore, sha256: str) -> bytes:
    with store.open(sha256) as handle:
        return handle.read()
