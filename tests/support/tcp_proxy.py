"""A TCP proxy on 127.0.0.1 whose connections a test can cut and restore.

Point a client (RabbitMQ, PostgreSQL, …) at ``127.0.0.1:<port>`` instead of the
real service; ``cut()`` then behaves like the service going away: every open
connection is reset and new connections are refused, until ``restore()``.

    proxy = TcpProxy("127.0.0.1", 5672)
    port = await proxy.start()
    ...
    await proxy.cut()
    await proxy.restore()
    await proxy.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import socket


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, listen_port: int = 0) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = listen_port
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.accepted = 0

    @property
    def is_cut(self) -> bool:
        return self._server is None

    async def start(self) -> int:
        """Listen (on a free port unless one was given); returns the port."""
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, "127.0.0.1", self.port, reuse_address=True, family=socket.AF_INET
            )
            self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def cut(self) -> None:
        """Stop accepting (connections are refused) and reset every open connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in tuple(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for pipe in tuple(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def restore(self) -> None:
        """Accept again, on the same port."""
        await self.start()

    async def close(self) -> None:
        await self.cut()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.add(client_writer)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            client_writer.transport.abort()
            self._writers.discard(client_writer)
            return
        self._writers.add(upstream_writer)
        pipes = (
            asyncio.create_task(self._pipe(client_reader, upstream_writer)),
            asyncio.create_task(self._pipe(upstream_reader, client_writer)),
        )
        self._pipes.update(pipes)
        try:
            # When one direction ends, end the other: the connection is over.
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._pipes.difference_update(pipes)
            for writer in (client_writer, upstream_writer):
                self._writers.discard(writer)
                writer.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
