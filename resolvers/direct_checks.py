"""The check before a direct send, for every send of one turn of the event loop at once.

Each direct send needs three facts: the receiver exists, no block stands between the two,
and their conversation's id if it has one. Under load many sends reach this check in the
same turn of the event loop; they are answered by one statement (one round trip) rather
than one each. No send waits for others: the statement runs at the end of the turn in
which the first of them asked.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass

from models.db import fetch_rows, is_postgres, rows_parameters, rows_table

# Sends answered by one statement, at most (four parameters each).
MAX_PER_STATEMENT = 500


@dataclass(frozen=True, slots=True)
class DirectState:
    receiver_known: bool
    blocked: bool
    conversation_id: int | None


_Request = tuple[str, str, str, "asyncio.Future[DirectState]"]  # sender, receiver, key


class DirectChecks:
    def __init__(self) -> None:
        self._waiting: list[_Request] | None = None
        self._running: set[asyncio.Task[None]] = set()

    def check(self, sender: str, receiver: str, direct_key: str) -> asyncio.Future[DirectState]:
        loop = asyncio.get_running_loop()
        if self._waiting is None:
            self._waiting = []
            loop.call_soon(self._start)
        future: asyncio.Future[DirectState] = loop.create_future()
        self._waiting.append((sender, receiver, direct_key, future))
        return future

    def _start(self) -> None:
        waiting, self._waiting = self._waiting or [], None
        loop = asyncio.get_running_loop()
        for start in range(0, len(waiting), MAX_PER_STATEMENT):
            task = loop.create_task(self._answer(waiting[start : start + MAX_PER_STATEMENT]))
            self._running.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self._running.discard)

    async def _answer(self, waiting: list[_Request]) -> None:
        try:
            postgres = is_postgres()
            requests = [
                (i, receiver, sender, key) for i, (sender, receiver, key, _) in enumerate(waiting)
            ]
            rows = await fetch_rows(
                _sql(len(waiting), postgres),
                rows_parameters(requests, len(_REQUEST_TYPES), postgres),
            )
        except Exception as error:  # every send asked here fails with it
            for *_, future in waiting:
                if not future.done():
                    future.set_exception(error)
            return
        for row in rows:
            future = waiting[row["i"]][3]
            if not future.done():
                conversation_id = row["conversation_id"]
                future.set_result(
                    DirectState(
                        receiver_known=bool(row["known"]),
                        blocked=bool(row["blocked"]),
                        conversation_id=None if conversation_id is None else int(conversation_id),
                    )
                )


_REQUEST_TYPES = ("int", "text", "text", "text")


@functools.lru_cache(maxsize=64)
def _sql(count: int, postgres: bool) -> str:
    return (
        f"WITH req (i, receiver, sender, direct_key) AS"
        f" ({rows_table(count, _REQUEST_TYPES, postgres)})"
        " SELECT req.i AS i,"
        " EXISTS (SELECT 1 FROM chat_user WHERE id = req.receiver) AS known,"
        " EXISTS (SELECT 1 FROM block"
        " WHERE (blocker_id = req.sender AND blocked_id = req.receiver)"
        " OR (blocker_id = req.receiver AND blocked_id = req.sender)) AS blocked,"
        " (SELECT id FROM conversation WHERE direct_key = req.direct_key) AS conversation_id"
        " FROM req"
    )
