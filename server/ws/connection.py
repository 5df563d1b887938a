"""What both subprotocols share: the socket's outbound buffer, auth, and running operations.

Outbound frames go through a bounded buffer drained by one writer task. uvicorn's
`websocket.send` waits while the transport's buffer is above its high-water mark, so a
client that stops reading stalls the writer, the buffer here fills, and at
`outbound_buffer_bytes` the socket is closed with 1013 and its frames dropped: a stalled
reader costs at most that much (plus the transport's high-water mark) of server memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any

import orjson
from graphql import GraphQLError, GraphQLSyntaxError, OperationType, get_operation_ast, parse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.types import ExecutionResult

from resolvers.cursors import decode_cursor
from resolvers.errors import BadUserInput, ChatError, LimitExceeded
from resolvers.records import UserRecord
from resolvers.subscriptions import SlowConsumer
from schema.context import ChatContext
from schema.errors import format_error
from server import logs
from server.auth import token_from_init
from server.graphql_http import result_payload
from server.state import AppState
from server.ws import closecodes
from server.ws.transport import Abortable, transport_of

log = logging.getLogger("chat.ws")


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
        self.operations: dict[str, asyncio.Task[None]] = {}
        self._documents: dict[str, tuple[str, str | None]] = {}
        self._outbound: deque[str] = deque()
        self._outbound_bytes = 0
        self._wakeup = asyncio.Event()
        self._flushed = asyncio.Event()
        self._flushed.set()
        self._closed = False
        self._closing: asyncio.Task[None] | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._writer: asyncio.Task[None] | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._present = False

    # -- sending ---------------------------------------------------------------------------

    def send(self, message: Mapping[str, Any]) -> None:
        self.send_text(encode(message))

    def send_text(self, text: str) -> None:
        if self._closed:
            return
        self._outbound.append(text)
        self._outbound_bytes += len(text)
        if self._outbound_bytes > self.settings.outbound_buffer_bytes:
            self.close_soon(closecodes.TRY_AGAIN_LATER, "Outbound buffer full", drop_unsent=True)
            return
        self._flushed.clear()
        self._wakeup.set()

    async def _write_loop(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._outbound:
                text = self._outbound.popleft()
                self._outbound_bytes -= len(text)
                # Blocks while the peer is not reading (the transport paused writing).
                await self.websocket.send_text(text)
            self._flushed.set()

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self, receive_loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Serve the socket until either side closes it."""
        self._writer = asyncio.create_task(self._write_loop())
        self._receiver = asyncio.create_task(receive_loop())
        try:
            done, _ = await asyncio.wait(
                {self._writer, self._receiver}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                error = None if task.cancelled() else task.exception()
                if isinstance(error, ProtocolError):
                    self.close_soon(error.code, error.reason)
                elif error is not None and not isinstance(
                    error, WebSocketDisconnect | OSError | RuntimeError
                ):
                    log.error("websocket failed", exc_info=error)
                    self.close_soon(1011, "Internal server error")
        finally:
            await self._cleanup()
            if self._closing is not None:
                await self._closing

    def close_soon(self, code: int, reason: str, *, drop_unsent: bool = False) -> None:
        """Close from synchronous code: what is buffered goes first (bounded by the close
        timeout) unless `drop_unsent`, for a peer that is not reading."""
        if self._closed:
            return
        self._closed = True
        if drop_unsent:
            self._outbound.clear()
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
            if not self._is_subscription(operation_id)
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
        if self._outbound and self._writer is not None and not self._writer.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._flushed.wait()
        for task in (self._writer, self._receiver):
            if task is not None:
                task.cancel()
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
        for timer in self._timers:
            timer.cancel()
        tasks = [*self.operations.values(), self._writer, self._receiver]
        for task in tasks:
            if task is not None and task is not asyncio.current_task():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if self._present and self.viewer is not None:
            registry = self.state.connections
            registry.remove(self.viewer.id, self)
            await self.state.services.presence.disconnected(self.viewer.id)

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        self._timers.append(asyncio.get_running_loop().call_later(delay, callback))

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
        self.context = ChatContext(
            self.state.services, viewer, connection_params=payload, shared_results=True
        )
        if claims.expires_at is not None:
            delay = max(0.0, claims.expires_at - time.time())
            self.call_later(delay, lambda: self.close_soon(closecodes.FORBIDDEN, "Token expired"))
        self._present = True
        await self.state.services.presence.connected(viewer.id)

    # -- operations ------------------------------------------------------------------------

    def start_operation(
        self,
        operation_id: str,
        payload: dict[str, Any],
        emit: Callable[[str, dict[str, Any]], None],
        fail: Callable[[str, list[dict[str, Any]]], None],
        finish: Callable[[str], None],
    ) -> None:
        """Run an operation in its own task: `emit` each result, `fail` on a terminal error,
        `finish` at the end of a successful stream."""
        if len(self.operations) >= self.settings.max_operations_per_connection:
            error = LimitExceeded(
                f"At most {self.settings.max_operations_per_connection} operations per connection"
            )
            fail(operation_id, [{"message": error.message, "extensions": error.extensions}])
            return
        task = asyncio.create_task(self._run_operation(operation_id, payload, emit, fail, finish))
        self.operations[operation_id] = task
        query, operation_name = payload.get("query"), payload.get("operationName")
        if isinstance(query, str) and isinstance(operation_name, str | None):
            self._documents[operation_id] = (query, operation_name)
        task.add_done_callback(lambda _: self._forget(operation_id, task))

    def _forget(self, operation_id: str, task: asyncio.Task[None]) -> None:
        if self.operations.get(operation_id) is task:
            del self.operations[operation_id]
            self._documents.pop(operation_id, None)

    def stop_operation(self, operation_id: str) -> bool:
        task = self.operations.pop(operation_id, None)
        self._documents.pop(operation_id, None)
        if task is None:
            return False
        task.cancel()
        return True

    async def _run_operation(
        self,
        operation_id: str,
        payload: dict[str, Any],
        emit: Callable[[str, dict[str, Any]], None],
        fail: Callable[[str, list[dict[str, Any]]], None],
        finish: Callable[[str], None],
    ) -> None:
        assert self.context is not None and payload_fault(payload) is None
        logs.operation_id.set(operation_id)
        log.info("operation %s started", payload.get("operationName") or "(anonymous)")
        try:
            stream = self._stream(
                payload["query"], payload.get("variables"), payload.get("operationName")
            )
            async for result in stream:
                slow = _slow_consumer(result)
                if slow:
                    self.close_soon(
                        closecodes.TRY_AGAIN_LATER, "Subscriber fell behind", drop_unsent=True
                    )
                    return
                if result.errors and result.data is None:
                    fail(operation_id, result_payload(result)["errors"])
                    return
                emit(operation_id, result_payload(result))
        except asyncio.CancelledError:
            raise
        except GraphQLError as error:  # a refusal before execution (limits, parse errors)
            fail(operation_id, [format_error(error)])
            return
        except Exception as error:  # an unexpected fault ends this operation only
            log.exception("operation %s failed", operation_id)
            fail(operation_id, [format_error(GraphQLError(str(error), original_error=error))])
            return
        log.info("operation finished")
        finish(operation_id)

    async def _stream(
        self, query: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> AsyncIterator[ExecutionResult]:
        assert self.context is not None
        results = await self.state.schema.stream(
            query,
            variable_values=variables,
            context_value=self.context.for_operation(),
            operation_name=operation_name,
        )
        async for result in results:
            assert isinstance(result, ExecutionResult)
            yield result


def _abort_if_unread(transport: Abortable) -> None:
    if transport.get_write_buffer_size() > 0:
        transport.abort()


def _slow_consumer(result: ExecutionResult) -> bool:
    return any(isinstance(error.original_error, SlowConsumer) for error in result.errors or ())
