"""Places for sends in flight, each with a deadline, and one timer for all of them.

A send holds a place from its first check to its commit. Past `timeout` it is cancelled
and fails with UNAVAILABLE, as `asyncio.timeout` would fail it; but `asyncio.timeout`
schedules and cancels a timer per send, and that with a generator-based context manager
cost ~6% of the server's CPU per message. Every place has the same timeout, so deadlines
come in the order places are taken: one timer, set for the oldest place still held, does.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

from resolvers.errors import Unavailable


class Place:
    """One send's place; `async with` holds it."""

    __slots__ = ("_admission", "_cancelling", "deadline", "expired", "held", "task")

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self._cancelling = 0
        self.deadline = 0.0
        self.expired = False
        self.held = False
        self.task: asyncio.Task[object] | None = None

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        assert task is not None, "a place is held by a task"
        self.task = task
        self._cancelling = task.cancelling()
        self._admission.take(self)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        task, self.task = self.task, None  # a finished task is not kept until the sweep
        self._admission.give_back(self)
        # As asyncio.timeout does: only a cancellation of ours becomes the timeout.
        if (
            self.expired
            and task is not None
            and task.uncancel() <= self._cancelling
            and exc_type is asyncio.CancelledError
        ):
            raise Unavailable(
                "The message store is slow; retry with the same clientMessageId"
            ) from None

    def expire(self) -> None:
        if self.task is not None:
            self.expired = True
            self.task.cancel()


class Admission:
    """At most `places` sends in flight, each cancelled `timeout` seconds after it came in."""

    def __init__(self, places: int, timeout: float) -> None:
        self._places = places
        self._timeout = timeout
        self._held = 0
        self._accepting = True
        self._none_held = asyncio.Event()
        self._none_held.set()
        self._by_age: deque[Place] = deque()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def held(self) -> int:
        return self._held

    def place(self) -> Place:
        return Place(self)

    def take(self, place: Place) -> None:
        if not self._accepting:
            raise Unavailable("The server is shutting down; retry with the same clientMessageId")
        if self._held >= self._places:
            raise Unavailable("The message store is overloaded; retry shortly")
        self._held += 1
        self._none_held.clear()
        loop = asyncio.get_running_loop()
        place.held = True
        place.deadline = loop.time() + self._timeout
        self._by_age.append(place)
        if self._timer is None:
            self._timer = loop.call_at(place.deadline, self._expire_due)

    def give_back(self, place: Place) -> None:
        place.held = False
        self._held -= 1
        if self._held == 0:
            self._none_held.set()
        by_age = self._by_age
        while by_age and not by_age[0].held:
            by_age.popleft()

    async def close(self) -> None:
        """Refuse new places; return once every place is given back."""
        self._accepting = False
        await self._none_held.wait()

    def _expire_due(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        by_age = self._by_age
        while by_age and (not by_age[0].held or by_age[0].deadline <= now):
            place = by_age.popleft()
            if place.held:
                place.expire()
        if by_age:
            self._timer = loop.call_at(by_age[0].deadline, self._expire_due)
