"""Graceful shutdown: drain before uvicorn closes the sockets.

On SIGTERM uvicorn closes every WebSocket with 1012 before the application's lifespan
hears of it. So the lifespan takes SIGTERM and SIGINT first: it stops accepting, lets the
writer finish the sends in flight (their mutations answer), closes every socket with 1001
so that clients reconnect elsewhere and resume, and only then passes the signal on to
uvicorn, which shuts down as usual. This works the same in each of several workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from types import FrameType

import uvicorn

from server.state import AppState
from server.ws.connection import Connection

log = logging.getLogger("chat.shutdown")

_SIGNALS = (signal.SIGTERM, signal.SIGINT)

Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


async def drain(state: AppState) -> None:
    """Finish the sends in flight, then close every WebSocket with 1001."""
    grace = state.settings.shutdown_grace
    state.draining = True
    try:
        await asyncio.wait_for(state.services.writer.drain(), grace)
    except TimeoutError:
        log.error("sends still queued after %.0f s of shutdown", grace)
    connections = [c for c in state.connections.all() if isinstance(c, Connection)]
    await asyncio.gather(*(connection.go_away() for connection in connections))


@contextlib.contextmanager
def drain_on_signals(run_drain: Callable[[], Awaitable[None]]) -> Iterator[None]:
    """Run `run_drain` on the first SIGTERM or SIGINT, then hand the signal to the server."""
    loop = asyncio.get_running_loop()
    previous: dict[int, Handler] = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    tasks: list[asyncio.Task[None]] = []

    def hand_over(sig: int) -> None:
        handler = previous[sig]
        if callable(handler):
            handler(sig, None)
        else:
            signal.signal(sig, handler)
            signal.raise_signal(sig)

    async def drain_then_hand_over(sig: int) -> None:
        _stop_accepting(previous[sig])
        try:
            await run_drain()
        except Exception:
            log.exception("graceful drain failed")
        finally:
            hand_over(sig)

    def on_signal(sig: int) -> None:
        if tasks:  # a second signal: no more waiting
            hand_over(sig)
            return
        log.info("draining before shutdown")
        tasks.append(loop.create_task(drain_then_hand_over(sig)))

    for sig in _SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        yield
    finally:
        for sig in _SIGNALS:
            loop.remove_signal_handler(sig)
            signal.signal(sig, previous[sig])


def _stop_accepting(handler: Handler) -> None:
    # uvicorn's handler is a method of its Server, whose listeners it would close only
    # after our drain; close them now so that new clients go to other instances.
    server = getattr(handler, "__self__", None)
    if isinstance(server, uvicorn.Server):
        for listener in server.servers:
            listener.close()
