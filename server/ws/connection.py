"""What both subprotocols share: the socket's outbound buffer, auth, and running operations.

Outbound frames go straight onto the transport while it takes them (`FrameWriter` in
server/ws/transport.py). Once it pushes back, they go through a bounded buffer drained by
a writer task that runs only while the buffer holds frames. uvicorn's `websocket.send`
waits while the transport's buffer is above its high-water mark, so a client that stops
reading stalls the writer, the buffer here fills, and at `outbound_buffer_bytes` the
socket is closed with 1013 and its frames dropped: a stalled reader costs at most that
much (plus the transport's high-water mark) of server memory.

An idle connection is mostly what it keeps between frames, so it keeps little: frames are
read by the task that serves the socket, and nothing waits for frames to write.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any, Protocol

import orjson
from graphql import GraphQLError, GraphQLSyntaxError, OperationType, get_operation_ast, parse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.types import ExecutionResult

from resolvers.cursors import decode_cursor
from resolvers.errors import BadUserInput, ChatError, LimitExceeded
from resolvers.records import UserRecord
from resolvers.subscriptions import SlowConsumer
from schema import ChatSchema
from schema.context import ChatContext
from schema.errors import format_error
from schema.execution import Runner, Source
from schema.live import Live
from server import logs
from server.auth import token_from_init
from server.graphql_http import result_payload
from server.state import AppState
from server.ws import closecodes
from server.ws.feed import Feed
from server.ws.transport import Abortable, FrameWriter, frame_writer, transport_of

log = logging.getLogger("chat.ws")


class Answers(Protocol):
    """How a subprotocol answers an operation."""

    def emit(self, operation_id: str, payload: dict[str, Any]) -> None:
        """One result."""

    def fail(self, operation_id: str, errors: list[dict[str, Any]]) -> None:
        """A terminal error; the operation ends."""

    def finish(self, operation_id: str) -> None:
        """The end of a successful stream."""


class ProtocolError(Exception):
    """A fault that closes the socket with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class InvalidMessage(ProtocolError):
    """A frame that is not a protocol message: not text, not JSON, or without a type."""

    def __init__(self, reason: str) -> None:
        super().__init__(closecodes.BAD_REQUEST, reason)


def payload_fault(payload: object) -> str | None:
    """What is wrong with a subscribe/start payload, or None when it is well formed."""
    if not isinstance(payload, dict):
        return "The payload must be an object"
    if not isinstance(payload.get("query"), str):
        return "The payload needs a query string"
    if not isinstance(payload.get("variables"), dict | None):
        return "variables must be an object"
    if not isinstance(payload.get("operationName"), str | None):
        return "operationName must be a string"
    if not isinstance(payload.get("extensions"), dict | None):
        return "extensions must be an object"
    return None


def encode(message: Mapping[str, Any]) -> str:
    return orjson.dumps(message).decode()


def encodable(message: Mapping[str, Any]) -> bool:
    """Whether a message echoing client data can be encoded: a client's JSON may nest
    deeper than the encoder goes."""
    try:
        orjson.dumps(message)
    except orjson.JSONEncodeError:
        return False
    return True


class Connection:
    def __init__(self, websocket: WebSocket, state: AppState) -> None:
        self.websocket = websocket
        self.state = state
        self.settings = state.settings
        self.viewer: UserRecord | None = None
        self.context: ChatContext | None = None
        # An operation runs in a task; a live subscription, once started, is a Feed.
        self.operations: dict[str, asyncio.Task[None] | Feed] = {}
        self._documents: dict[str, tuple[str, str | None]] = {}
        # Made on demand: an empty deque costs ~0.7 KiB, most sockets are idle.
        self._outbound: deque[str] | None = None
        self._outbound_bytes = 0
        self._frames: FrameWriter | None = frame_writer(websocket)
        self._closed = False
        self._closing: asyncio.Task[None] | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._writer: asyncio.Task[None] | None = None
        self._receiver: asyncio.Task[Any] | None = None
        self._receiving = False
        self._present = False
        # Feeds with envelopes waiting, and the task that serves them while there are any.
        self._waking: deque[Feed] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._log_context: contextvars.Context | None = None

    # -- sending ---------------------------------------------------------------------------

    def send(self, message: Mapping[str, Any]) -> None:
        self.send_text(encode(message))

    def send_text(self, text: str) -> None:
        if self._closed:
            return
        # Straight to the socket when nothing waits ahead of this frame.
        if self._outbound is None and self._frames is not None and self._frames.write(text):
            return
        if self._outbound is None:
            self._outbound = deque()
        self._outbound.append(text)
        self._outbound_bytes += len(text)
        if self._outbound_bytes > self.settings.outbound_buffer_bytes:
            self.close_soon(closecodes.TRY_AGAIN_LATER, "Outbound buffer full", drop_unsent=True)
            return
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        """Send what is buffered, then end: the next frame starts a new writer."""
        try:
            while self._outbound:
                text = self._outbound.popleft()
                self._outbound_bytes -= len(text)
                # Blocks while the peer is not reading (the transport paused writing).
                await self.websocket.send_text(text)
            self._outbound = None
        except (WebSocketDisconnect, OSError, RuntimeError):  # the peer is gone
            self.close_soon(closecodes.GOING_AWAY, "Connection lost", drop_unsent=True)
        except Exception:
            log.exception("websocket failed")
            self.close_soon(1011, "Internal server error")
        finally:
            self._writer = None

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self, receive_loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Serve the socket until either side closes it; frames are read in this task."""
        self._receiver = asyncio.current_task()
        self._receiving = True
        self._log_context = contextvars.copy_context()
        try:
            await receive_loop()
        except asyncio.CancelledError:
            # Closing stops the reading by cancelling this task (`_stop_reading`): that
            # cancellation ends the loop, any other goes on up.
            task = asyncio.current_task()
            if self._receiving or task is None or task.uncancel() > 0:
                raise
        except ProtocolError as error:
            self.close_soon(error.code, error.reason)
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        except Exception:
            log.exception("websocket failed")
            self.close_soon(1011, "Internal server error")
        finally:
            self._receiving = False
            await self._cleanup()
            if self._closing is not None:
                await self._closing

    def _stop_reading(self) -> None:
        if self._receiving and self._receiver is not None:
            self._receiving = False
            self._receiver.cancel()

    def close_soon(self, code: int, reason: str, *, drop_unsent: bool = False) -> None:
        """Close from synchronous code: what is buffered goes first (bounded by the close
        timeout) unless `drop_unsent`, for a peer that is not reading."""
        if self._closed:
            return
        self._closed = True
        if drop_unsent:
            self._outbound = None
            self._outbound_bytes = 0
        self._closing = asyncio.get_running_loop().create_task(self._finish(code, reason))

    async def close(self, code: int, reason: str, *, drop_unsent: bool = False) -> None:
        self.close_soon(code, reason, drop_unsent=drop_unsent)
        if self._closing is not None:
            # Shielded: the closing task cancels the receiver, which may be the caller.
            await asyncio.shield(self._closing)

    async def go_away(self) -> None:
        """Server shutdown: let queries and mutations in flight answer, then close with 1001
        so that the client reconnects elsewhere and resumes."""
        requests = [
            task
            for operation_id, task in self.operations.items()
            if isinstance(task, asyncio.Task) and not self._is_subscription(operation_id)
        ]
        if requests:
            await asyncio.wait(requests, timeout=self.settings.ws_close_timeout)
        await self.close(closecodes.GOING_AWAY, "Server shutting down")

    def _is_subscription(self, operation_id: str) -> bool:
        query, operation_name = self._documents.get(operation_id, ("", None))
        try:
            operation = get_operation_ast(parse(query), operation_name)
        except GraphQLSyntaxError:
            return False
        return operation is not None and operation.operation is OperationType.SUBSCRIPTION

    async def _finish(self, code: int, reason: str) -> None:
        timeout = self.settings.ws_close_timeout
        if self._writer is not None:
            await asyncio.wait({self._writer}, timeout=timeout)
        if self._writer is not None:
            self._writer.cancel()
        self._stop_reading()
        # The close frame waits until the peer has read what the transport holds; a peer
        # that has not read that far within the close timeout never will: cut it off, so
        # that its socket and buffers are freed.
        transport = transport_of(self.websocket)
        try:
            if self.websocket.application_state is WebSocketState.CONNECTED:
                async with asyncio.timeout(timeout):
                    await self.websocket.close(code, reason)
        except TimeoutError:
            if transport is not None:
                transport.abort()
            return
        except Exception:  # the peer is gone already
            return
        if transport is not None:
            asyncio.get_running_loop().call_later(timeout, _abort_if_unread, transport)

    async def _cleanup(self) -> None:
        self._closed = True
        self.state.token_expiries.forget(self)
        for timer in self._timers:
            timer.cancel()
        # A closing socket's writer is the closing task's to flush (or cut off).
        writer = self._writer if self._closing is None else None
        feeds = [op for op in self.operations.values() if isinstance(op, Feed)]
        feeds += self._waking or ()
        tasks = [op for op in self.operations.values() if isinstance(op, asyncio.Task)]
        for task in [*tasks, self._pump, writer]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        for feed in feeds:
            with contextlib.suppress(Exception):
                await feed.close()
        if self._present and self.viewer is not None:
            registry = self.state.connections
            registry.remove(self.viewer.id, self)
            await self.state.services.presence.disconnected(self.viewer.id)

    def token_expired(self) -> None:
        self.close_soon(closecodes.FORBIDDEN, "Token expired")

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """A timer cancelled when the socket closes."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        # Forget the timers that fired or were cancelled, so that a repeating one (legacy
        # keep-alive) does not pile up.
        self._timers = [t for t in self._timers if t.when() > now and not t.cancelled()]
        timer = loop.call_later(delay, callback)
        self._timers.append(timer)
        return timer

    async def receive_json(self) -> dict[str, Any]:
        """The next frame as a JSON object with a string `type`; InvalidMessage otherwise."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            raise InvalidMessage("Binary frames are not accepted")
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise InvalidMessage("Invalid message received: not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            raise InvalidMessage("Invalid message received: no type")
        return data

    # -- connection_init -------------------------------------------------------------------

    async def initialise(self, payload: object) -> None:
        """Authenticate the init payload; raise ProtocolError with the code to close with."""
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            raise ProtocolError(closecodes.BAD_REQUEST, "Invalid connection_init payload")
        resume_after = payload.get("resumeAfter")
        if resume_after is not None:
            try:
                if not isinstance(resume_after, str):
                    raise BadUserInput("resumeAfter must be a cursor")
                decode_cursor(resume_after)
            except BadUserInput:
                raise ProtocolError(closecodes.BAD_REQUEST, "Malformed resumeAfter") from None
        try:
            viewer, claims = await self.state.authenticate(token_from_init(payload))
        except ChatError as error:
            raise ProtocolError(closecodes.FORBIDDEN, f"Forbidden: {error.message}") from None
        registry = self.state.connections
        if registry.count(viewer.id) >= self.settings.max_connections_per_user:
            raise ProtocolError(closecodes.TOO_MANY_CONNECTIONS, "Too many connections")
        registry.add(viewer.id, self)
        self.viewer = viewer
        logs.user_id.set(viewer.id)
        log.info("connection authenticated")
        # Of the init payload, operations read only the resume cursor: the rest (the token
        # above all) is not kept for the socket's lifetime.
        params = {"resumeAfter": resume_after} if resume_after is not None else {}
        self.context = ChatContext(
            self.state.services, viewer, connection_params=params, shared_results=True
        )
        if claims.expires_at is not None:
            self.state.token_expiries.watch(self, claims.expires_at)
        self._present = True
        await self.state.services.presence.connected(viewer.id)

    # -- operations ------------------------------------------------------------------------

    def start_operation(
        self,
        operation_id: str,
        payload: dict[str, Any],
        answers: Answers,
    ) -> None:
        """Run an operation in its own task, answered through `answers`."""
        if len(self.operations) >= self.settings.max_operations_per_connection:
            error = LimitExceeded(
                f"At most {self.settings.max_operations_per_connection} operations per connection"
            )
            answers.fail(operation_id, [{"message": error.message, "extensions": error.extensions}])
            return
        task = asyncio.create_task(
            self._run_operation(operation_id, payload, answers), name=operation_id
        )
        self.operations[operation_id] = task
        query, operation_name = payload.get("query"), payload.get("operationName")
        if isinstance(query, str) and isinstance(operation_name, str | None):
            self._documents[operation_id] = (query, operation_name)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        operation_id = task.get_name()  # a bound method and the name, not a closure apiece
        if self.operations.get(operation_id) is task:
            del self.operations[operation_id]
            self._documents.pop(operation_id, None)

    def stop_operation(self, operation_id: str) -> bool:
        operation = self.operations.pop(operation_id, None)
        self._documents.pop(operation_id, None)
        if operation is None:
            return False
        if isinstance(operation, Feed):
            operation.stop()
        else:
            operation.cancel()
        return True

    def forget_feed(self, feed: Feed) -> None:
        if self.operations.get(feed.operation_id) is feed:
            del self.operations[feed.operation_id]

    def wake(self, feed: Feed) -> None:
        """Have the pump serve a feed whose envelopes arrived (or that was stopped)."""
        if self._closed and not feed.stopped:
            return
        if self._waking is None:
            self._waking = deque()
        self._waking.append(feed)
        if self._pump is None:
            loop = asyncio.get_running_loop()
            self._pump = loop.create_task(self._serve_feeds(), context=self._log_context)

    async def _serve_feeds(self) -> None:
        """Serve the feeds woken, then end: the next arrival starts a new pump."""
        try:
            while self._waking:
                feed = self._waking.popleft()
                feed.queued = False
                try:
                    if not feed.stopped:
                        await feed.drain()
                    if feed.stopped:
                        await feed.close()
                except Exception:  # one feed's fault must not strand the others queued here
                    log.exception("subscription %s failed", feed.operation_id)
        finally:
            self._waking = None
            self._pump = None

    async def _run_operation(
        self,
        operation_id: str,
        payload: dict[str, Any],
        answers: Answers,
    ) -> None:
        assert self.context is not None and payload_fault(payload) is None
        logs.operation_id.set(operation_id)
        log.info("operation %s started", payload.get("operationName") or "(anonymous)")
        try:
            opened = await self._runner.open(
                payload["query"],
                payload.get("variables"),
                self.context.for_operation(),
                None,
                payload.get("operationName"),
                None,
                None,
            )
            if isinstance(opened, Source) and isinstance(opened.events, Live):
                feed = Feed(self, operation_id, opened, opened.events, answers)
                if await feed.start():
                    # Live from here on without this task.
                    self.operations[operation_id] = feed
                    self._documents.pop(operation_id, None)
                return
            stream = self._results(opened)
            async for result in stream:
                slow = _slow_consumer(result)
                if slow:
                    self.close_soon(
                        closecodes.TRY_AGAIN_LATER, "Subscriber fell behind", drop_unsent=True
                    )
                    return
                if result.errors and result.data is None:
                    answers.fail(operation_id, result_payload(result)["errors"])
                    return
                answers.emit(operation_id, result_payload(result))
        except asyncio.CancelledError:
            raise
        except GraphQLError as error:  # a refusal before execution (limits, parse errors)
            answers.fail(operation_id, [format_error(error)])
            return
        except Exception as error:  # an unexpected fault ends this operation only
            log.exception("operation %s failed", operation_id)
            unexpected = GraphQLError(str(error), original_error=error)
            answers.fail(operation_id, [format_error(unexpected)])
            return
        log.info("operation finished")
        answers.finish(operation_id)

    @property
    def _runner(self) -> Runner:
        schema = self.state.schema
        assert isinstance(schema, ChatSchema)
        return schema.runner

    async def _results(self, opened: Source | ExecutionResult) -> AsyncIterator[ExecutionResult]:
        if isinstance(opened, ExecutionResult):
            yield opened
            return
        async with contextlib.aclosing(self._runner.follow(opened)) as results:
            async for result in results:
                yield result


def _abort_if_unread(transport: Abortable) -> None:
    if transport.get_write_buffer_size() > 0:
        transport.abort()


def _slow_consumer(result: ExecutionResult) -> bool:
    return any(isinstance(error.original_error, SlowConsumer) for error in result.errors or ())
