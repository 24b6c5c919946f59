"""The desk's single-page app (built from ui/ into static/app) served at ``/``.

The server's own paths keep priority: the app is the router's *default*, reached only when no
route matched, so routes added later (by any branch) never get shadowed. A client route such as
``/desk/12`` gets index.html; built assets get long caching (their names carry a content hash).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

STATIC = Path(__file__).parent / "static" / "app"
RESERVED = ("/api/", "/api", "/docs", "/openapi.json", "/demo", "/healthz", "/readyz", "/metrics")
IMMUTABLE = "public, max-age=31536000, immutable"


def _reserved(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix.rstrip("/") + "/") for prefix in RESERVED)


def page(path: str, root: Path = STATIC) -> Response | None:
    """The file or the app shell for ``path``; None when nothing of the app answers it."""
    index = root / "index.html"
    if _reserved(path) or not index.is_file():
        return None
    relative = path.lstrip("/")
    if relative:
        candidate = (root / relative).resolve()
        if candidate.is_file() and candidate.is_relative_to(root.resolve()):
            cache = IMMUTABLE if relative.startswith("assets/") else "no-cache"
            return FileResponse(candidate, headers={"Cache-Control": cache})
        if relative.startswith("assets/") or "." in relative.rsplit("/", 1)[-1]:
            return None  # a missing file is a 404, not the app
    return FileResponse(index, headers={"Cache-Control": "no-cache"})


def install(app: FastAPI, root: Path = STATIC) -> None:
    """Serve the app for GET/HEAD requests no route answered; everything else falls through to the 404."""
    fallback: ASGIApp = app.router.default

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            response = page(scope["path"], root)
            if response is not None:
                await response(scope, receive, send)
                return
        await fallback(scope, receive, send)

    app.router.default = default
