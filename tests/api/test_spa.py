"""The web UI is served at / for client routes; the server's own paths keep priority and their 404s."""

from __future__ import annotations

import gzip
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


# --- precompressed assets ---------------------------------------------------------------------------------------

BUNDLE = "export const desk = 1;\n" * 400
SHELL = "<!doctype html><title>Switchboard</title>" + "<!-- padding -->" * 100
# brotli is not among our Python packages: these are node's zlib.brotliCompressSync of the two texts
BROTLI = {
    BUNDLE: bytes.fromhex(
        "1bef23f82d0e7873f09451c39d12ef65a542cc4ef68c9135c8da1cdd729babb2b72ae4c132c1244ff8e40680da6d6800"
    ),
    SHELL: bytes.fromhex("1b680670a4425ac021070e2fc1c85b24106cc04122f33af2bebd64d71b44a8411097e0d71b"),
}


@pytest.fixture
async def built(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A build as ``npm run build`` leaves it: text files with .br and .gz beside them (an image without)."""
    root = tmp_path / "app"
    (root / "assets").mkdir(parents=True)
    for path, text in ((root / "index.html", SHELL), (root / "assets" / "index-abc123.js", BUNDLE)):
        path.write_text(text)
        path.with_name(path.name + ".br").write_bytes(BROTLI[text])
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    (root / "assets" / "logo-abc123.png").write_bytes(b"\x89PNG not compressible")
    app = FastAPI(docs_url=None, openapi_url=None, redoc_url=None)
    problems.install(app)
    spa.install(app, root)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def _raw(client: httpx.AsyncClient, path: str, accept_encoding: str) -> tuple[httpx.Response, bytes]:
    """The answer and its body as sent (httpx would otherwise decode it)."""
    async with client.stream("GET", path, headers={"accept-encoding": accept_encoding}) as answer:
        body = b"".join([chunk async for chunk in answer.aiter_raw()])
    return answer, body


async def test_the_smallest_coding_the_browser_takes_is_sent_with_the_originals_type_and_caching(
    built: httpx.AsyncClient,
) -> None:
    expected = {
        # Accept-Encoding -> Content-Encoding sent (None: the file as it is)
        "gzip, deflate, br, zstd": "br",
        "gzip, deflate": "gzip",
        "br;q=0, gzip;q=0.5": "gzip",
        "*": "br",
        "*, br;q=0": "gzip",
        "identity": None,
        "": None,
        "gzip;q=0, br;q=0": None,
    }
    for accept_encoding, coding in expected.items():
        # when the bundle is asked for with that header
        answer, body = await _raw(built, "/assets/index-abc123.js", accept_encoding)
        # then the precompressed file of that coding is sent, labelled as JavaScript, cached for good, varying
        assert answer.status_code == 200, accept_encoding
        assert answer.headers.get("content-encoding") == coding, accept_encoding
        assert answer.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert answer.headers["vary"] == "Accept-Encoding"
        assert int(answer.headers["content-length"]) == len(body)
        sent = {"br": BROTLI[BUNDLE], "gzip": gzip.compress(BUNDLE.encode(), mtime=0), None: BUNDLE.encode()}
        assert body == sent[coding], accept_encoding
    # and brotli is much the smaller of the three
    sizes = {c: len((await _raw(built, "/assets/index-abc123.js", c or "identity"))[1]) for c in ("br", "gzip", None)}
    assert sizes["br"] < sizes["gzip"] < sizes[None] / 10


async def test_the_app_shell_is_compressed_too_and_never_cached(built: httpx.AsyncClient) -> None:
    for path in ("/", "/desk/12"):
        answer, body = await _raw(built, path, "gzip, br")
        assert (answer.status_code, answer.headers["content-encoding"]) == (200, "br"), path
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert answer.headers["cache-control"] == "no-cache"
        assert body == BROTLI[SHELL]


async def test_a_file_built_without_siblings_goes_as_it_is(built: httpx.AsyncClient) -> None:
    answer, body = await _raw(built, "/assets/logo-abc123.png", "gzip, br")
    assert (answer.status_code, answer.headers["content-type"], body) == (200, "image/png", b"\x89PNG not compressible")
    assert "content-encoding" not in answer.headers
