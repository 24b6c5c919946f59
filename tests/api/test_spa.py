"""The web UI is served at / for client routes; the server's own paths keep priority and their 404s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from switchboard.web import problems, spa

INDEX = "<!doctype html><div id=app></div>"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    root = tmp_path / "app"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not for the web")
    app = FastAPI(docs_url=None, openapi_url=None, redoc_url=None)
    problems.install(app)

    @app.get("/api/v1/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    spa.install(app, root)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def test_client_routes_get_the_app_shell_and_assets_are_cached_for_good(client: httpx.AsyncClient) -> None:
    for path in ("/", "/desk", "/floor/conversations/12", "/admin/lines"):
        answer = await client.get(path)
        assert (answer.status_code, answer.text, answer.headers["cache-control"]) == (200, INDEX, "no-cache"), path
    asset = await client.get("/assets/index-abc123.js")
    assert (asset.status_code, asset.text) == (200, "console.log(1)")
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_the_servers_own_paths_and_missing_files_are_not_the_app(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/ping")).json() == {"pong": "yes"}
    for path in ("/api/v1/nothing", "/api", "/demo", "/demo/widget.js", "/docs", "/openapi.json", "/assets/gone.js"):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json", path
    assert (await client.post("/desk")).status_code in (404, 405)
    for escape in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        answer = await client.get(escape)
        assert "not for the web" not in answer.text, escape
