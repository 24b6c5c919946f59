"""The applied routing path: an event in, the engine's decisions written and committed.

    .venv/bin/python -m bench.routing_applied [--quick] [--backends sqlite,postgresql]

Per backend, on a fresh database: O operators available on one line, then N conversations
arrive one after another; each arrival is one router input (read its context, decide, write
the offer and its timer, emit events, commit). Then each offer is accepted and the router
applies the accept. Prints decisions/s and p50/p99 per input, and, as the ceiling measured in
the same run, the rate of a bare one-row write transaction (INSERT + COMMIT) on the same engine.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import emit, fresh_database, log, percentile, table
from switchboard.application.access import Principal
from switchboard.application.catalog import NewUser, create_line, create_user
from switchboard.application.channels import create_channel
from switchboard.application.intake import InboundMessage, Sender, receive_message
from switchboard.application.ports.bus import Envelope
from switchboard.application.routing import commands
from switchboard.bootstrap import Container, build
from switchboard.config import load_settings
from switchboard.domain.channels import ChannelKind
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role


async def _setup(url: str, operators: int) -> tuple[Container, int, list[int]]:
    from switchboard.adapters.storage.migrate import upgrade

    container = build(load_settings(database_url=url, routing=False), fast_hashing=True)
    await upgrade(container.database)
    await container.start()
    admin = Principal(Role.ADMIN)
    ids = []
    for i in range(operators):
        user = await create_user(
            container.services,
            None,
            NewUser(f"op{i}", f"Op {i}", Role.OPERATOR, None, capacity={"chat": 50}, max_total=50),
        )
        ids.append(user.id)
    line = await create_line(container.services, admin, Line(0, "Bench", operator_ids=ids, routing={"mode": "evenly"}))
    channel = await create_channel(container.services, admin, ChannelKind.API, "bench", line.id, {})
    for user_id in ids:
        await commands.set_status(container.services, Principal(Role.OPERATOR, user_id), user_id, "available")
    return container, channel.id, ids


async def _timed(router_call: Any, envelopes: list[Envelope]) -> list[float]:
    latencies = []
    for envelope in envelopes:
        started = time.perf_counter()
        await router_call(envelope)
        latencies.append(time.perf_counter() - started)
    return latencies


def _figure(backend: str, what: str, latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    total = sum(latencies)
    return {
        "bench": "routing_applied",
        "backend": backend,
        "what": what,
        "n": len(latencies),
        "per_s": round(len(latencies) / total, 1),
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
    }


async def _ceiling(container: Container, n: int) -> list[float]:
    latencies = []
    for i in range(n):
        started = time.perf_counter()
        async with container.services.uow() as uow:
            await uow.audit.add(datetime.now(UTC), "bench", "bench", i, {}, None, None, None)
            await uow.commit()
        latencies.append(time.perf_counter() - started)
    return latencies


async def run_backend(backend: str, n: int, operators: int) -> list[dict[str, Any]]:
    async with fresh_database(backend, prefix="sbroute") as url:
        container, channel_id, _ = await _setup(url, operators)
        router = container.routing.router
        await router.start()
        captured: list[Envelope] = []
        # arrivals, written by the intake use case (not timed), fed to the router one by one (timed)
        for i in range(n):
            await receive_message(
                container.services,
                Principal(Role.INTEGRATION),
                InboundMessage(channel_id, Sender("Bench", phone=f"+7916{3000000 + i}"), "hi"),
            )
        for envelope in await container.outbox.after(0, 100_000):
            if envelope.name == "ConversationOpened":
                captured.append(envelope)
        arrivals = await _timed(router.handle, captured)
        # accepts: committed by the command, then applied by the router (timed)
        async with container.services.uow(read_only=True) as uow:
            offers = await uow.routing.open_offers()
        last = await container.outbox.last_id()
        for offer in offers:
            await commands.accept_offer(
                container.services, Principal(Role.OPERATOR, offer.operator_id), offer.conversation_id
            )
        accepted = [e for e in await container.outbox.after(last, 100_000) if e.name == "OfferAccepted"]
        accepts = await _timed(router.handle, accepted)
        ceiling = await _ceiling(container, n)
        await container.stop(drain_seconds=1)
    return [
        _figure(backend, "arrival → offer + commit", arrivals),
        _figure(backend, "accept → assign + commit", accepts),
        _figure(backend, "ceiling: bare write + commit", ceiling),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--operators", type=int, default=50)
    args = parser.parse_args()
    n = 100 if args.quick else args.n
    rows = []
    for backend in args.backends.split(","):
        log(f"{backend}: {n} arrivals, {args.operators} operators …")
        for figure in asyncio.run(run_backend(backend, n, args.operators)):
            emit(figure)
            rows.append(figure)
    log(
        table(
            rows,
            [
                ("backend", "backend"),
                ("what", "what"),
                ("n", "n"),
                ("per_s", "per s"),
                ("p50_ms", "p50 ms"),
                ("p99_ms", "p99 ms"),
            ],
        )
    )


if __name__ == "__main__":
    main()
