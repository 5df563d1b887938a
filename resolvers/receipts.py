"""Delivered points: moved when a frame reaches a live subscription of the receiver."""

from __future__ import annotations

import asyncio
import logging

from broker import Broker
from broker.background import cancel_and_wait
from broker.channels import user_channel
from models.tables import Participant
from resolvers.events import receipt_event
from resolvers.records import ReceiptRecord

log = logging.getLogger(__name__)


class DeliveryTracker:
    """Coalesces deliveries into one UPDATE per (conversation, receiver) per flush.

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
        for (conversation_id, receiver_id), (seq, sender_id) in pending.items():
            moved = await Participant.filter(
                conversation_id=conversation_id, user_id=receiver_id, delivered_seq__lt=seq
            ).update(delivered_seq=seq)
            if moved:
                receipt = ReceiptRecord(
                    conversation_id=str(conversation_id),
                    user_id=receiver_id,
                    status="DELIVERED",
                    up_to_seq=seq,
                )
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
