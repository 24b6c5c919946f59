"""The web UI in Debian's Chromium against the real server: load, offer, switch, big timeline.

    .venv/bin/python bench/ui.py [--quick]

A ``switchboard serve`` subprocess on a fresh SQLite database (routing on) with the built UI
(``make ui``); Playwright drives ``/usr/bin/chromium`` (headless). Figures, each next to a ceiling
measured in the same run:

- first load of the operator window (navigation to the desk shown, live, conversations listed),
  against a blank page from the same server (``/healthz``);
- the JavaScript and CSS of that first load: bytes over the wire (compressed) and unpacked;
- an offer on screen after the customer's message is posted, against the POST's own answer time,
  and after its websocket frame reached the page (what the page itself adds);
- switching between 50 open conversations, against one bare animation frame: first visit (each
  conversation shown for the first time, the clicks starting the moment the list is shown, while
  the desk may still be fetching; how many had their messages in the desk at the click is
  reported, and the very first click on its own) and again;
- a 5,000-message timeline: rows in the DOM (virtualized) and frame times while scrolling it from
  top to bottom and while typing, against the same frame loop on a blank page.

Prints one JSON object per figure on stdout and a table on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (
    VENV_BIN,
    Server,
    emit,
    free_port,
    fresh_database,
    log,
    migrate,
    percentile,
    process_tree_cpu,
    switchboard_env,
    table,
)

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password-1"
STATIC = Path(__file__).resolve().parent.parent / "src" / "switchboard" / "web" / "static" / "app" / "index.html"
FRAMES = """async ([steps, by]) => {
  const el = document.querySelector('[data-test=timeline]')
  const frames = []
  let last = performance.now()
  for (let i = 0; i <= steps; i++) {
    if (el) el.scrollTop = by ? el.scrollTop - by : (el.scrollHeight - el.clientHeight) * (i / steps)
    await new Promise((r) => requestAnimationFrame(r))
    const t = performance.now(); frames.push(t - last); last = t
  }
  return frames.slice(1)
}"""
SWITCH = """async (id) => {
  const fetched = Boolean(window.__switchboardDesk.messages[id])  // the desk had its messages before the click
  const t0 = performance.now()
  document.querySelector(`[data-test=conversation-item][data-conversation="${id}"]`).click()
  await new Promise((resolve) => {
    const check = () => {
      const c = document.querySelector('[data-test=conversation]')
      if (c && c.dataset.conversation === String(id) && c.querySelector('[data-test=message]')) resolve()
      else requestAnimationFrame(check)
    }
    check()
  })
  return [performance.now() - t0, fetched]
}"""
TYPING = """async (n) => {
  const box = document.querySelector('[data-test=composer-input]')
  box.focus()
  const lags = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    box.value += 'x'
    box.dispatchEvent(new Event('input', { bubbles: true }))
    await new Promise((r) => requestAnimationFrame(() => r()))
    lags.push(performance.now() - t0)
  }
  box.value = ''
  box.dispatchEvent(new Event('input', { bubbles: true }))
  return lags
}"""
STUCK = """(id) => {
  const el = document.querySelector('[data-test=timeline]')
  const d = window.__switchboardDesk
  return {
    busy: el.getAttribute('aria-busy'), complete: d.complete[id], first: d.messages[id]?.[0]?.id,
    scrollTop: el.scrollTop, scrollHeight: el.scrollHeight, clientHeight: el.clientHeight,
  }
}"""
# before the page's scripts: when each OfferMade frame arrives, before the desk handles it
FRAME_CLOCK = """(() => {
  window.__frames = {}
  const Native = window.WebSocket
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args)
      this.addEventListener('message', (m) => {
        const frame = JSON.parse(m.data)
        if (frame.event === 'OfferMade') window.__frames[frame.data.conversation_id] ??= Date.now()
      })
    }
  }
})()"""
WATCH_OFFERS = """() => {
  window.__offers = {}
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('[data-test=offer]')) {
      const id = el.dataset.conversation
      if (!(id in window.__offers)) window.__offers[id] = Date.now()
    }
  }).observe(document.body, { childList: true, subtree: true })
}"""


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(percentile(ordered, 95), 1),
        "max_ms": round(ordered[-1], 1),
        "n": len(ordered),
    }


async def given_desk(database_url: str) -> dict[str, Any]:
    """An admin, one operator with room for 60 chats on an evenly line, an API channel, an integration token."""
    from switchboard.application.access import Principal
    from switchboard.application.auth import create_api_token
    from switchboard.application.catalog import NewUser, create_line, create_user
    from switchboard.application.channels import create_channel
    from switchboard.bootstrap import build
    from switchboard.config import load_settings
    from switchboard.domain.channels import ChannelKind
    from switchboard.domain.lines import Line
    from switchboard.domain.operators import Role

    container = build(load_settings(database_url=database_url), fast_hashing=True)
    try:
        services = container.services
        admin = await create_user(services, None, NewUser("bench-admin", "Bench Admin", Role.ADMIN, PASSWORD))
        operator = await create_user(
            services,
            None,
            NewUser("bench-op", "Bench Operator", Role.OPERATOR, PASSWORD, None, {}, {"chat": 60}, 60),
        )
        principal = Principal(Role.ADMIN, admin.id)
        line = await create_line(services, principal, Line(0, "Bench", operator_ids=[operator.id]))
        channel = await create_channel(services, principal, ChannelKind.API, "Bench API", line.id, {})
        _, token = await create_api_token(services, None, "bench", Role.INTEGRATION)
    finally:
        await container.database.dispose()
    return {"operator_id": operator.id, "channel_id": channel.id, "token": token}


class Api:
    def __init__(self, base: str, desk: dict[str, Any]) -> None:
        self.client = httpx.AsyncClient(base_url=base + "/api/v1", timeout=30)
        self.desk = desk
        self.integration = {"authorization": f"Bearer {desk['token']}"}
        self.admin: dict[str, str] = {}

    async def sign_in(self) -> None:
        answer = await self.client.post("/auth/login", json={"login": "bench-admin", "password": PASSWORD})
        self.admin = {"authorization": f"Bearer {answer.json()['token']}"}
        self.client.cookies.clear()

    async def post(self, phone: str, text: str) -> dict[str, Any]:
        body = {
            "channel_id": self.desk["channel_id"],
            "text": text,
            "sender": {"phone": phone, "name": f"Customer {phone[-4:]}"},
        }
        answer = await self.client.post("/inbound", headers=self.integration, json=body)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    async def call(self, method: str, path: str, body: Any = None) -> None:
        answer = await self.client.request(method, path, headers=self.admin, json=body)
        answer.raise_for_status()


async def operator_context(browser: Any, base: str) -> Any:
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = await context.new_page()
    await page.goto(base + "/login")
    await page.fill("input[name=login]", "bench-op")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("[data-test=sign-in]")
    await page.wait_for_selector("[data-test=live].on")
    await page.close()
    return context


BUNDLE_BYTES = """() => performance.getEntriesByType('resource')
  .filter((e) => /[.](js|css)$/.test(new URL(e.name).pathname))
  .reduce((sum, e) => [sum[0] + e.encodedBodySize, sum[1] + e.decodedBodySize], [0, 0])"""


async def first_load(browser: Any, base: str, runs: int) -> tuple[list[float], list[float], list[int]]:
    """Fresh context each time (cold cache, signed in): desk shown, websocket live, conversations listed."""
    desk_ms, blank_ms, bundle = [], [], [0, 0]
    for _ in range(runs):
        context = await operator_context(browser, base)
        page = await context.new_page()
        t0 = time.perf_counter()
        await page.goto(base + "/healthz")
        blank_ms.append((time.perf_counter() - t0) * 1000)
        await page.close()
        page = await context.new_page()
        t0 = time.perf_counter()
        await page.goto(base + "/desk", wait_until="commit")
        await page.wait_for_selector("[data-test=live].on")
        await page.wait_for_selector("[data-test=conversations]")
        desk_ms.append((time.perf_counter() - t0) * 1000)
        bundle = await page.evaluate(BUNDLE_BYTES)
        await context.close()
    return desk_ms, blank_ms, bundle


async def offers(browser: Any, base: str, api: Api, runs: int) -> tuple[list[float], list[float], list[float]]:
    """The offer on screen after the POST; also after its websocket frame arrived (what the page itself adds)."""
    context = await operator_context(browser, base)
    await context.add_init_script(FRAME_CLOCK)
    page = await context.new_page()
    await page.goto(base + "/desk")
    await page.wait_for_selector("[data-test=live].on")
    await page.keyboard.press("Alt+V")
    await page.wait_for_selector("[data-test=waiting-for-offers]")
    await page.evaluate(WATCH_OFFERS)
    shown, posted, after_frame = [], [], []
    for i in range(runs):
        t0 = time.time()
        made = await api.post(f"+7926{i:07d}", "Offer me")
        posted.append((time.time() - t0) * 1000)
        conversation = made["conversation_id"]
        await page.wait_for_selector(f"[data-test=offer][data-conversation='{conversation}']")
        seen = await page.evaluate(f"window.__offers['{conversation}']")
        shown.append(seen - t0 * 1000)
        after_frame.append(seen - await page.evaluate(f"window.__frames['{conversation}']"))
        await api.call("POST", f"/conversations/{conversation}/close")
        await page.wait_for_selector(f"[data-test=offer][data-conversation='{conversation}']", state="detached")
    await api.call("PUT", f"/operators/{api.desk['operator_id']}/status", {"status": "offline"})
    await context.close()
    return shown, posted, after_frame


async def fill_desk(api: Api, database_url: str, conversations: int, big: int) -> list[int]:
    """``conversations`` assigned to the operator through the API; the first then gets ``big`` messages in all.

    The bulk of the big timeline is written straight into the messages table in one transaction: the
    figure is the page's, and posting thousands of messages one by one on a shared machine takes minutes.
    """
    from sqlalchemy import insert, select

    from switchboard.adapters.storage import tables
    from switchboard.adapters.storage.database import Database

    ids = []
    for i in range(conversations):
        made = await api.post(f"+7927{i:07d}", f"Question number {i}")
        assign = {"operator_id": api.desk["operator_id"]}
        await api.call("POST", f"/conversations/{made['conversation_id']}/assign", assign)
        ids.append(made["conversation_id"])
    database = Database(database_url.replace("sqlite://", "sqlite+aiosqlite://"))
    try:
        async with database.engine.begin() as connection:
            first = (
                await connection.execute(select(tables.messages).where(tables.messages.c.conversation_id == ids[0]))
            ).first()
            assert first is not None
            rows = [
                {
                    "conversation_id": ids[0],
                    "channel_id": first.channel_id,
                    "direction": "in" if n % 3 else "out",
                    "author_kind": "contact" if n % 3 else "operator",
                    "author_id": None if n % 3 else api.desk["operator_id"],
                    "body": f"Message {n}: " + "lorem ipsum dolor sit amet " * (1 + n % 6),
                    "attachments": [],
                    "delivery_status": "received" if n % 3 else "delivered",
                    "created_at": first.created_at + timedelta(milliseconds=n + 1),
                }
                for n in range(big - 1)
            ]
            await connection.execute(insert(tables.messages), rows)
    finally:
        await database.dispose()
    return ids


async def working_desk(browser: Any, base: str, ids: list[int], big: int, server_pid: int) -> dict[str, Any]:
    """Also the server's CPU: opening the desk and the first visits (what warming costs it), then the second."""
    context = await operator_context(browser, base)
    page = await context.new_page()
    failed: list[str] = []  # requests the page made that failed: a figure measured over them would flatter
    page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.url} {r.status}"))
    cpu0 = process_tree_cpu(server_pid)
    t0 = time.perf_counter()
    await page.goto(base + "/desk", wait_until="commit")
    await page.wait_for_function(f"document.querySelectorAll('[data-test=conversation-item]').length === {len(ids)}")
    load_ms = (time.perf_counter() - t0) * 1000
    log(f"desk with {len(ids)} conversations shown in {load_ms:.0f} ms; switching…")
    others = ids[1:]
    # first visits start at once: the desk may still be fetching what the first clicks open
    cold = [await page.evaluate(SWITCH, i) for i in others]
    await page.wait_for_timeout(1000)  # what the last visits started settles, on the first pass's account
    cpu1 = process_tree_cpu(server_pid)
    warm = [(await page.evaluate(SWITCH, i))[0] for i in others]
    await page.wait_for_timeout(1000)
    cpu2 = process_tree_cpu(server_pid)
    big_switch = (await page.evaluate(SWITCH, ids[0]))[0]
    log("loading the big timeline by scrolling up…")
    loaded, t0 = 0, time.perf_counter()
    while loaded < big:
        if time.perf_counter() - t0 > 120:
            state = await page.evaluate(STUCK, ids[0])
            raise RuntimeError(f"only {loaded} of {big} messages loaded by scrolling up: {state}; failed: {failed}")
        await page.evaluate("document.querySelector('[data-test=timeline]').scrollTop = 0")
        await page.wait_for_timeout(150)
        loaded = await page.evaluate(f"(window.__switchboardDesk.messages[{ids[0]}] || []).length")
    log(f"{loaded} messages loaded by scrolling up in {time.perf_counter() - t0:.1f} s")
    rows = await page.evaluate("document.querySelectorAll('[data-test=timeline] .tl-row').length")
    frames = await page.evaluate(FRAMES, [120, 0])  # top to bottom in 120 frames: a scrollbar drag
    await page.evaluate("document.querySelector('[data-test=timeline]').scrollTop = 1e9")
    wheel = await page.evaluate(FRAMES, [240, 150])  # 150 px a frame upwards: a fast mouse wheel
    typing = await page.evaluate(TYPING, 60)
    blank = await context.new_page()
    await blank.goto(base + "/healthz")
    blank_frames = await blank.evaluate(FRAMES, [120, 0])
    await context.close()
    if failed:
        log(f"{len(failed)} requests of the page failed: {failed[:10]}")
    return {
        "load_ms": load_ms,
        "cold": [ms for ms, _ in cold],
        "cold_fetched": sum(1 for _, fetched in cold if fetched),
        "server_cpu_first_ms": (cpu1 - cpu0) * 1000 / len(others),
        "server_cpu_again_ms": (cpu2 - cpu1) * 1000 / len(others),
        "warm": warm,
        "big_switch_ms": big_switch,
        "rows": rows,
        "frames": frames,
        "wheel": wheel,
        "typing": typing,
        "blank_frames": blank_frames,
    }


async def main(quick: bool) -> None:
    from playwright.async_api import async_playwright

    if not STATIC.is_file():
        raise SystemExit("the web UI is not built: make ui")
    conversations, big, runs = (10, 500, 3) if quick else (50, 5000, 10)
    async with fresh_database("sqlite", "sbui") as url:
        migrate(url)
        desk = await given_desk(url)
        port = free_port()
        env = switchboard_env(url) | {"SWITCHBOARD_ROUTING": "true", "SWITCHBOARD_DISCONNECT_GRACE_SECONDS": "0"}
        server = Server([str(VENV_BIN / "switchboard"), "serve", "--port", str(port)], env, port)
        server.start()
        base = f"http://127.0.0.1:{port}"
        try:
            await server.wait_ready("/readyz")
            api = Api(base, desk)
            await api.sign_in()
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                desk_ms, blank_ms, bundle = await first_load(browser, base, runs)
                log("first loads measured; offers…")
                shown, posted, after_frame = await offers(browser, base, api, runs)
                log(f"filling the desk: {conversations} conversations, one with {big} messages…")
                ids = await fill_desk(api, url, conversations, big)
                work = await working_desk(browser, base, ids, big, server.pid)
                await browser.close()
        finally:
            server.stop()
    records = [
        {"figure": "first_load_desk", **summary(desk_ms), "target_ms": 1500},
        {"figure": "first_load_blank_ceiling", **summary(blank_ms)},
        {"figure": "first_load_js_css_bytes", "wire": bundle[0], "unpacked": bundle[1]},
        {"figure": "offer_on_screen_after_post", **summary(shown), "target_ms": 300},
        {"figure": "post_answer_ceiling", **summary(posted)},
        {"figure": "offer_on_screen_after_its_frame", **summary(after_frame)},
        {"figure": f"desk_load_with_{conversations}_conversations", **summary([work["load_ms"]])},
        {"figure": "switch_first_visit", **summary(work["cold"]), "target_ms": 100},
        {"figure": "switch_first_visit_first_click", **summary(work["cold"][:1])},
        {"figure": "switch_first_visit_fetched_before_click", "count": work["cold_fetched"], "n": len(work["cold"])},
        {"figure": "switch_again", **summary(work["warm"]), "target_ms": 100},
        {"figure": "server_cpu_per_conversation_desk_open_and_first_visit", "cpu_ms": work["server_cpu_first_ms"]},
        {"figure": "server_cpu_per_switch_again", "cpu_ms": work["server_cpu_again_ms"]},
        {"figure": f"switch_to_{big}_message_timeline", **summary([work["big_switch_ms"]])},
        {"figure": f"timeline_{big}_rows_in_dom", "rows": work["rows"]},
        {"figure": f"timeline_{big}_drag_frame", **summary(work["frames"])},
        {"figure": f"timeline_{big}_wheel_frame", **summary(work["wheel"])},
        {"figure": f"timeline_{big}_typing_to_frame", **summary(work["typing"])},
        {"figure": "blank_page_frame_ceiling", **summary(work["blank_frames"])},
    ]
    for record in records:
        emit(record)
    log(
        table(
            records,
            [
                ("figure", "figure"),
                ("median_ms", "median ms"),
                ("p95_ms", "p95 ms"),
                ("max_ms", "max ms"),
                ("n", "n"),
                ("target_ms", "target"),
                ("rows", "rows"),
                ("count", "count"),
                ("cpu_ms", "CPU ms"),
                ("wire", "wire B"),
                ("unpacked", "unpacked B"),
            ],
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 conversations, 500 messages, 3 runs")
    asyncio.run(main(parser.parse_args().quick))
