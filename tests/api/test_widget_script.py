"""The widget script as a site embeds it: one plain file, small, served by Switchboard."""

from __future__ import annotations

import gzip
import re

import httpx

from switchboard.web.routes.webchat import WIDGET_JS

LIMIT = 30 * 1024


async def test_the_widget_is_served_as_javascript_and_is_under_30_kb_gzipped(app_client: httpx.AsyncClient) -> None:
    answer = await app_client.get("/webchat/widget.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert answer.content == WIDGET_JS.read_bytes()
    size = len(gzip.compress(answer.content, compresslevel=9))
    assert size <= LIMIT, f"widget.js is {size} bytes gzipped, over {LIMIT}"


def test_the_widget_needs_no_build_step_and_loads_nothing_else() -> None:
    source = WIDGET_JS.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|export)\s", source, re.MULTILINE)  # no modules: one classic script tag
    assert "eval(" not in source and "new Function" not in source
    assert not re.search(r"https?://(?!desk\.example)", source)  # every request goes to the script's own origin
    assert "attachShadow" in source  # its styles never leak into the page, nor the page's into it
