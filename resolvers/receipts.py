"""Delivered points: moved when a frame reaches a live subscription of the receiver."""

from __future__ import annotations

import asyncio
import logging

from broker import Broker
from broker.background import cancel_and_wait
from broker.channels import user_channel
from models.db import fetch_rows, is_postgres, rows_parameters, rows_table
from resolvers.events import receipt_event
from resolvers.records import ReceiptRecord

log = logging.getLogger(__name__)


class DeliveryTracker:
    """Coalesces deliveries into one UPDATE per flush, for every (conversation, receiver).

    A DELIVERED receipt goes to the sender only when the point really moved.
    """

    def __init__(self, broker: Broker, interval: float = 0.02) -> None:
        self._broker = broker
        self._interval = interval
        self._pending: dict[tuple[int, str], tuple[int, str]] = {}
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delivery-tracker")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        await self.flush()

    def delivered(self, conversation_id: int, receiver_id: str, sender_id: str, seq: int) -> None:
        key = (conversation_id, receiver_id)
        current = self._pending.get(key)
        if current is None or current[0] < seq:
            self._pending[key] = (seq, sender_id)
            self._wakeup.set()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            moved = await _advance_delivered(
                [(key[0], key[1], seq) for key, (seq, _) in pending.items()]
            )
        except Exception:
            # Kept for the next flush, unless a later delivery has superseded it.
            for key, value in pending.items():
                current = self._pending.get(key)
                if current is None or current[0] < value[0]:
                    self._pending[key] = value
            raise
        for conversation_id, receiver_id, seq in moved:
            receipt = ReceiptRecord(
                conversation_id=str(conversation_id),
                user_id=receiver_id,
                status="DELIVERED",
                up_to_seq=seq,
            )
            sender_id = pending[(conversation_id, receiver_id)][1]
            await self._broker.publish(user_channel(sender_id), receipt_event(receipt))

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:  # a failed flush must not stop later ones
                log.exception("delivery flush failed")


_POINT_TYPES = ("bigint", "text", "int")


async def _advance_delivered(points: list[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
    """Move each (conversation, receiver) delivered point forward to its seq, in one
    statement; returns the points that moved. Rows are named in key order, so that two
    instances flushing the same rows take their locks in the same order."""
    points = sorted(points)
    postgres = is_postgres()
    table = rows_table(len(points), _POINT_TYPES, postgres)
    rows = await fetch_rows(
        f"WITH v (conversation_id, user_id, seq) AS ({table})"
        " UPDATE participant SET delivered_seq = v.seq FROM v"
        " WHERE participant.conversation_id = v.conversation_id"
        " AND participant.user_id = v.user_id AND participant.delivered_seq < v.seq"
        " RETURNING participant.conversation_id, participant.user_id, participant.delivered_seq",
        rows_parameters(points, len(_POINT_TYPES), postgres),
    )
    return [(int(row["conversation_id"]), row["user_id"], row["delivered_seq"]) for row in rows]
