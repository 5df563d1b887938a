"""Group commit: concurrent sends are written in batched transactions.

Each batch locks each of its conversations once (one UPDATE of `last_seq` per
conversation), takes its stream positions from the counter row, inserts its rows and
commits; only then does each sender's future resolve and the batch get published, in
position order. The queue in front is bounded: past it, sends fail fast with UNAVAILABLE.
A send holds its place from its first check to its commit (`admitted`), so that a slow
database costs bounded memory and a refused send touches nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from broker.background import cancel_and_wait
from models.tables import ConversationKind
from resolvers.admission import Admission, Place
from resolvers.batch_sql import insert_messages, take_positions, take_seqs
from resolvers.errors import Unavailable
from resolvers.message_ids import new_message_id
from resolvers.records import MessageRecord

log = logging.getLogger(__name__)

OnCommit = Callable[[Sequence[MessageRecord]], Awaitable[None]]
# Stored messages by (sender id, clientMessageId).
Lookup = Callable[[Iterable[tuple[str, str]]], Awaitable[dict[tuple[str, str], MessageRecord]]]


@dataclass(slots=True)
class PendingSend:
    conversation_id: int
    kind: ConversationKind
    sender_id: str
    sender_name: str
    receiver_id: str | None
    content: str
    client_message_id: str | None
    future: asyncio.Future[MessageRecord] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class MessageWriter:
    """The single writer task of this process and the bounded queue in front of it."""

    def __init__(
        self,
        *,
        batch_size: int,
        batch_wait: float,
        queue_size: int,
        send_timeout: float,
        on_commit: OnCommit,
        lookup: Lookup,
    ) -> None:
        self._batch_size = batch_size
        self._batch_wait = batch_wait
        self._queue: asyncio.Queue[PendingSend] = asyncio.Queue(maxsize=queue_size)
        self._admission = Admission(places=queue_size, timeout=send_timeout)
        self._on_commit = on_commit
        self._lookup = lookup
        self._task: asyncio.Task[None] | None = None
        self.last_commit_seconds = 0.0

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="message-writer")

    def admitted(self) -> Place:
        """A place for one send while it is checked, queued and committed, to hold with
        `async with`.

        There are as many places as the queue holds. Without a free one, or once the send
        has waited `send_timeout`, the send is UNAVAILABLE; a send timed out after it was
        queued is still written, and a retry with its clientMessageId gets it back.
        """
        return self._admission.place()

    async def drain(self) -> None:
        """Refuse new sends; return once every send already taken in is committed (or has
        timed out) and the queue is empty."""
        await self._admission.close()
        await self._queue.join()

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        await cancel_and_wait(self._task)
        self._task = None

    async def submit(self, pending: PendingSend) -> MessageRecord:
        """Queue a send and wait until it is committed; inside `admitted`, which bounds the
        wait. A caller cancelled meanwhile does not cancel the write."""
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            raise Unavailable("The message store is overloaded; retry shortly") from None
        return await asyncio.shield(pending.future)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            self._take_queued(batch)
            if len(batch) < self._batch_size and self._batch_wait > 0:
                # One wait for the sends of the next moments: a timer, where waiting on
                # the queue with a timeout costs a task and a cancellation per batch.
                await asyncio.sleep(self._batch_wait)
                self._take_queued(batch)
            try:
                await self._write(batch)
            except Exception:  # the writer must outlive any one batch
                log.exception("message batch failed")
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(Unavailable("The message store failed"))
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _take_queued(self, batch: list[PendingSend]) -> None:
        """Add what is queued to the batch, up to its size."""
        while len(batch) < self._batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                return

    async def _write(self, batch: list[PendingSend]) -> None:
        # A clientMessageId repeated inside one batch is written once.
        unique: dict[tuple[str, str], PendingSend] = {}
        to_write: list[PendingSend] = []
        followers: list[tuple[PendingSend, PendingSend]] = []
        for pending in batch:
            if pending.client_message_id is None:
                to_write.append(pending)
                continue
            key = (pending.sender_id, pending.client_message_id)
            if key in unique:
                followers.append((pending, unique[key]))
            else:
                unique[key] = pending
                to_write.append(pending)
        # Retries of sends already stored (after UNAVAILABLE) get their message, in one query,
        # so that they do not fail the batch they share with new sends.
        stored = await self._lookup(unique)
        for key, existing in stored.items():
            if not unique[key].future.done():
                unique[key].future.set_result(existing)
        to_write = [
            pending
            for pending in to_write
            if pending.client_message_id is None
            or (pending.sender_id, pending.client_message_id) not in stored
        ]
        started = time.monotonic()
        try:
            written = list(zip(to_write, await self._insert(to_write), strict=True))
        except IntegrityError:
            # A clientMessageId raced with another batch or instance: write one at a time.
            written = []
            for pending in to_write:
                record = await self._write_one(pending)
                if record is not None:
                    written.append((pending, record))
        self.last_commit_seconds = time.monotonic() - started
        for follower, leader in followers:
            leader.future.add_done_callback(functools.partial(_copy_result, follower=follower))
        for pending, record in written:
            if not pending.future.done():
                pending.future.set_result(record)
        if written:
            await self._on_commit([record for _, record in written])

    async def _write_one(self, pending: PendingSend) -> MessageRecord | None:
        """Write one send; None when its clientMessageId was stored meanwhile (it gets that)."""
        try:
            [record] = await self._insert([pending])
            return record
        except IntegrityError:
            if pending.client_message_id is None:
                raise
            key = (pending.sender_id, pending.client_message_id)
            existing = (await self._lookup([key])).get(key)
            if existing is None:
                raise
            if not pending.future.done():
                pending.future.set_result(existing)
            return None

    async def _insert(self, batch: list[PendingSend]) -> list[MessageRecord]:
        if not batch:
            return []
        counts: dict[int, int] = defaultdict(int)
        for pending in batch:
            counts[pending.conversation_id] += 1
        now = datetime.now(UTC)
        records: list[MessageRecord] = []
        async with in_transaction() as connection:
            # Conversations first: SQLite takes its write lock there.
            next_seq = await take_seqs(connection, counts, now)
            position = await take_positions(connection, len(batch))
            for pending in batch:
                seq = next_seq[pending.conversation_id]
                next_seq[pending.conversation_id] = seq + 1
                records.append(
                    MessageRecord(
                        id=new_message_id(),
                        conversation_id=str(pending.conversation_id),
                        kind=pending.kind,
                        seq=seq,
                        position=position,
                        sender_id=pending.sender_id,
                        sender_name=pending.sender_name,
                        receiver_id=pending.receiver_id,
                        content=pending.content,
                        timestamp=now,
                        client_message_id=pending.client_message_id,
                    )
                )
                position += 1
            await insert_messages(
                connection,
                [
                    (
                        record.id,
                        pending.conversation_id,
                        record.seq,
                        record.position,
                        record.sender_id,
                        record.receiver_id,
                        record.content,
                        record.client_message_id,
                        now,
                    )
                    for pending, record in zip(batch, records, strict=True)
                ],
            )
        return records


def _copy_result(done: asyncio.Future[MessageRecord], follower: PendingSend) -> None:
    if follower.future.done():
        return
    if done.cancelled() or done.exception() is not None:
        follower.future.set_exception(done.exception() or Unavailable("The send was cancelled"))
    else:
        follower.future.set_result(done.result())
