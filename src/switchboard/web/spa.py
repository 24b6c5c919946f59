"""The desk's single-page app (built from ui/ into static/app) served at ``/``.

The server's own paths keep priority: the app is the router's *default*, reached only when no
route matched, so routes added later (by any branch) never get shadowed. A client route such as
``/desk/12`` gets index.html; built assets get long caching (their names carry a content hash).

The build writes each text asset precompressed next to it (``x.js.br``, ``x.js.gz``); the browser gets
the smallest its ``Accept-Encoding`` takes, so compression costs nothing per request.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

STATIC = Path(__file__).parent / "static" / "app"
RESERVED = ("/api/", "/api", "/docs", "/openapi.json", "/demo", "/healthz", "/readyz", "/metrics")
IMMUTABLE = "public, max-age=31536000, immutable"
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # by preference: brotli is the smaller


def accepted(header: str) -> set[str]:
    """The content codings an ``Accept-Encoding`` header takes (``q=0`` refuses one, ``*`` takes any)."""
    taken, refused = set(), set()
    for item in header.lower().split(","):
        name, _, params = item.partition(";")
        params = params.strip()
        try:
            weight = float(params[2:]) if params.startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        (taken if weight > 0 else refused).add(name.strip())
    if "*" in taken:
        taken |= {coding for coding, _ in ENCODINGS} - refused
    return taken - refused


def _file(path: Path, cache: str, accept_encoding: str) -> FileResponse:
    """``path`` or its precompressed sibling, labelled with the original's type."""
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding"}
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    taken = accepted(accept_encoding)
    for coding, suffix in ENCODINGS:
        sibling = path.with_name(path.name + suffix)
        if coding in taken and sibling.is_file():
            return FileResponse(sibling, media_type=media_type, headers=headers | {"Content-Encoding": coding})
    return FileResponse(path, media_type=media_type, headers=headers)


def _reserved(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in RESERVED)


def page(path: str, root: Path = STATIC, accept_encoding: str = "") -> Response | None:
    """The file or the app shell for ``path``; None when nothing of the app answers it."""
    index = root / "index.html"
    if _reserved(path) or not index.is_file():
        return None
    relative = path.lstrip("/")
    if relative:
        candidate = (root / relative).resolve()
        if candidate.is_file() and candidate.is_relative_to(root.resolve()):
            cache = IMMUTABLE if relative.startswith("assets/") else "no-cache"
            return _file(candidate, cache, accept_encoding)
        if relative.startswith("assets/") or "." in relative.rsplit("/", 1)[-1]:
            return None  # a missing file is a 404, not the app
    return _file(index, "no-cache", accept_encoding)


def install(app: FastAPI, root: Path = STATIC) -> None:
    """Serve the app for GET/HEAD requests no route answered; everything else falls through to the 404."""
    fallback: ASGIApp = app.router.default

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            response = page(scope["path"], root, Headers(scope=scope).get("accept-encoding", ""))
            if response is not None:
                await response(scope, receive, send)
                return
        await fallback(scope, receive, send)

    app.router.default = default
