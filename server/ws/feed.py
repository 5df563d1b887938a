"""A live subscription of a socket, kept without a task or generator while it is idle.

The operation's task opens the subscription's stream (schema/live.py), delivers what comes
first (a replay, the current state) and what arrived meanwhile, then ends. From then on
the broker subscription's listener wakes the feed: the connection's pump, one task per
socket that runs only while envelopes wait, takes them one after another (so that each
conversation keeps its order), executes each event through the shared per-selection
execution (schema/fanout.py) and hands the frames to the socket's writer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from resolvers.subscriptions import SlowConsumer, taken
from schema.execution import Source, failure
from schema.live import Live
from server.graphql_http import result_payload
from server.ws import closecodes

if TYPE_CHECKING:
    from server.ws.connection import Answers, Connection


class Feed:
    __slots__ = (
        "_closed",
        "answers",
        "connection",
        "live",
        "operation_id",
        "queued",
        "source",
        "stopped",
    )

    def __init__(
        self,
        connection: Connection,
        operation_id: str,
        source: Source,
        live: Live[Any, Any],
        answers: Answers,
    ) -> None:
        self.connection = connection
        self.operation_id = operation_id
        self.source = source
        self.live = live
        self.answers = answers
        self.queued = False
        self.stopped = False
        self._closed = False

    async def start(self) -> bool:
        """Open the stream and deliver what it has so far; whether the feed goes on live
        (from then on, arriving envelopes wake it)."""
        try:
            for record in await self.live.open():
                if not await self._deliver(record):
                    break
            else:
                await self.drain()
        except BaseException as error:
            if isinstance(error, Exception):
                self._failed(error)
            await self.close()
            if not isinstance(error, Exception):
                raise
            return False
        if self.stopped:
            await self.close()
            return False
        stream = self.live.stream
        assert stream is not None and stream.subscription is not None
        # Nothing is waiting (drained above, and no await since): from here the listener
        # tells of every arrival.
        stream.subscription.listener = self.wake
        return True

    def wake(self) -> None:
        if not self.queued:
            self.queued = True
            self.connection.wake(self)

    def stop(self) -> None:
        """End the subscription; its channels are left by the pump."""
        if self.stopped:
            return
        self.stopped = True
        stream = self.live.stream
        if stream is not None and stream.subscription is not None:
            stream.subscription.listener = None
        self.connection.forget_feed(self)
        self.queued = True
        self.connection.wake(self)

    async def drain(self) -> None:
        """Deliver every envelope that has arrived."""
        stream = self.live.stream
        assert stream is not None
        try:
            while not self.stopped and (envelope := stream.pending()) is not None:
                for record in await taken(self.live.take(envelope)):
                    if not await self._deliver(record):
                        return
                if stream.ended:
                    self.answers.finish(self.operation_id)
                    self.stop()
        except Exception as error:
            self._failed(error)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self.live.close()

    async def _deliver(self, record: Any) -> bool:
        result = await self.source.result(self.live.convert(record))
        if self.stopped:
            return False
        if result.errors and result.data is None:
            self.answers.fail(self.operation_id, result_payload(result)["errors"])
            self.stop()
            return False
        self.answers.emit(self.operation_id, result_payload(result))
        return True

    def _failed(self, error: Exception) -> None:
        if isinstance(error, SlowConsumer):
            self.connection.close_soon(
                closecodes.TRY_AGAIN_LATER, "Subscriber fell behind", drop_unsent=True
            )
        else:
            self.answers.fail(self.operation_id, result_payload(failure(error))["errors"])
        self.stop()
