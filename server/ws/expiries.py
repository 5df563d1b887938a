"""When each socket's token expires: one heap and one timer for the whole process.

A timer per socket costs ~0.7 KiB (its handle, context and callback) for as long as the
socket lives, however idle it is; an entry here is a tuple in a heap and one in a dict.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from typing import Protocol


class Expiring(Protocol):
    def token_expired(self) -> None: ...


class TokenExpiries:
    def __init__(self) -> None:
        # By the id of each watched socket: when, and the socket. The heap holds (when, id)
        # and may hold entries of sockets no longer watched, skipped when they come up.
        self._due: dict[int, tuple[float, Expiring]] = {}
        self._heap: list[tuple[float, int]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    def watch(self, socket: Expiring, at: float) -> None:
        """Call `socket.token_expired()` at `at` (a `time.time()`), unless forgotten first."""
        self._due[id(socket)] = (at, socket)
        heapq.heappush(self._heap, (at, id(socket)))
        self._schedule()

    def forget(self, socket: Expiring) -> None:
        if (
            self._due.pop(id(socket), None) is not None
            and len(self._heap) > 2 * len(self._due) + 64
        ):
            # Mostly entries of sockets gone: rebuild from those still watched.
            self._heap = [(at, key) for key, (at, _) in self._due.items()]
            heapq.heapify(self._heap)

    def _schedule(self) -> None:
        if not self._heap or self._heap[0][0] >= self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = self._heap[0][0]
        delay = max(0.0, self._timer_at - time.time())
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer, self._timer_at = None, math.inf
        now = time.time()
        while self._heap and self._heap[0][0] <= now:
            at, key = heapq.heappop(self._heap)
            entry = self._due.get(key)
            # The socket of an id forgotten may be gone, and the id another's: the time
            # tells them apart.
            if entry is not None and entry[0] == at:
                del self._due[key]
                entry[1].token_expired()
        self._schedule()
