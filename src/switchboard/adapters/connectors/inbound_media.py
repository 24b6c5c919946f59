"""A customer's file, fetched from the provider into the file store under the channel's size limit.

Three outcomes, because they call for three answers to the provider:
- stored: an ``Attachment`` with the store's URL;
- ``Refused``: the file can never be taken (over the limit, gone, refused by the provider with a
  4xx): the message is still taken, with a note saying which file was refused and why;
- ``MediaUnavailable``: the provider or the network failed for now (5xx, 429, timeout): the
  webhook is answered 503 so the provider delivers the update again, and nothing is stored.

A file is read at most ``limit + 1`` bytes into memory: a provider that lies about the size
(or does not say it) cannot make us hold more than the channel allows.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from switchboard.application.ports.files import FileStore, FileTooLarge
from switchboard.domain.conversation import Attachment

OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Refused:
    """A file we did not take, and why (shown in the message, so the operator knows to ask again)."""

    name: str
    reason: str

    def note(self) -> str:
        return f"attachment {self.name!r} refused: {self.reason}"


class MediaUnavailable(Exception):
    """The provider could not hand the file over now; the whole update is to be delivered again."""


def refusal_notes(refusals: list[Refused]) -> str:
    """The line appended to a message's body, in the email connector's form."""
    return f"[{'; '.join(refused.note() for refused in refusals)}]" if refusals else ""


def content_type_of(name: str, declared: str | None = None) -> str:
    if declared and declared != OCTET_STREAM:
        return declared.split(";")[0].strip().lower()
    guessed, _ = mimetypes.guess_type(name)
    return guessed or declared or OCTET_STREAM


def too_large(name: str, size: int | None, limit: int) -> Refused | None:
    """Refuse before downloading when the provider already told the size."""
    if size is not None and size > limit:
        return Refused(name, f"{size} bytes exceeds the channel's limit of {limit} bytes")
    return None


async def fetch(
    client: httpx.AsyncClient,
    files: FileStore,
    url: str,
    *,
    name: str,
    content_type: str | None,
    limit: int,
    provider: str,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> Attachment | Refused:
    """Download ``url`` into the store; raise ``MediaUnavailable`` when trying again later may succeed."""
    if not url.startswith(("https://", "http://")):
        return Refused(name, "its address is not a web address")
    try:
        async with client.stream("GET", url, headers=headers, params=params) as response:
            if response.status_code == 429 or response.status_code >= 500:
                raise MediaUnavailable(f"{provider}: HTTP {response.status_code} for file {name!r}")
            if not response.is_success:
                return Refused(name, f"{provider} answered HTTP {response.status_code}")
            data = await _read_capped(response, limit)
            declared = content_type or response.headers.get("content-type")
    except httpx.HTTPError as error:  # the URL may carry a token (Telegram): never in the reason
        raise MediaUnavailable(f"{provider}: cannot fetch file {name!r} ({type(error).__name__})") from None
    if data is None:
        return Refused(name, f"larger than the channel's limit of {limit} bytes")
    kind = content_type_of(name, declared)
    try:
        stored = await asyncio.to_thread(files.put, data, kind, name)
    except FileTooLarge as error:
        return Refused(name, str(error))
    return Attachment(name, kind, stored.size, stored.url)


async def _read_capped(response: httpx.Response, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
