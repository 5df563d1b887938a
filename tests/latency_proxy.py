"""A TCP proxy that delays everything it forwards: a slow database for the tests.

It runs its own event loop in a thread, because the server under test reaches the
database through it while the test itself blocks (starting the server) or awaits.
`latency` can be changed at any time; each chunk is delivered `latency` seconds after it
arrived, in order, so the link is slow but not narrow.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit


class LatencyProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.latency = 0.0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="latency-proxy", daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def url_for(self, database_url: str) -> str:
        """The same database URL, through this proxy."""
        parts = urlsplit(database_url)
        netloc = parts.netloc.rsplit("@", 1)
        address = f"127.0.0.1:{self.port}"
        return urlunsplit(
            parts._replace(netloc=f"{netloc[0]}@{address}" if len(netloc) == 2 else address)
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._server.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, upstream_writer),
            self._pipe(upstream_reader, writer),
            return_exceptions=True,
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await chunks.get()
                if not data:
                    return
                await asyncio.sleep(max(0.0, due - loop.time()))
                writer.write(data)
                await writer.drain()

        delivery = asyncio.create_task(deliver())
        try:
            while data := await reader.read(65536):
                chunks.put_nowait((loop.time() + self.latency, data))
        finally:
            chunks.put_nowait((0.0, b""))
            with contextlib.suppress(Exception):
                await delivery
            writer.close()


@contextlib.contextmanager
def latency_proxy(database_url: str) -> Iterator[LatencyProxy]:
    """A proxy in front of the database of `database_url`; use `proxy.url_for(url)`."""
    parts = urlsplit(database_url)
    proxy = LatencyProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
