"""What each load worker process does, scenario by scenario (run by bench.crew).

Send times travel in the message content (time.monotonic() is one clock for every process
on the machine), so a receiver computes send-to-receive latency without coordination.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

from bench.client import Client, OperationFailed, open_all
from bench.crew import Phases
from bench.proc import usage

SEND = "mutation($to: ID!, $c: String!) { sendMessage(input: {to: $to, content: $c}) { id seq } }"
SEND_ROOM = (
    "mutation($r: ID!, $c: String!) { sendRoomMessage(input: {roomId: $r, content: $c}) { seq } }"
)
NEW_MESSAGE = "subscription { newMessage { id seq senderId content timestamp } }"
PRESENCE = "subscription { presence { userId online } }"
HISTORY = """query($with: ID!, $before: String) {
  messages(withUser: $with, last: 50, before: $before) {
    edges { cursor node { id seq senderId content timestamp } }
    pageInfo { hasPreviousPage startCursor }
  }
}"""

# Latency samples sent back per worker and phase, at most (a uniform subsample beyond).
MAX_SAMPLES = 50_000
DRAIN_SECONDS = 15.0


def _sample(values: list[float]) -> list[float]:
    return values if len(values) <= MAX_SAMPLES else random.sample(values, MAX_SAMPLES)


@dataclass
class Inbox:
    """What one user's newMessage subscription saw: order, count and latency."""

    user_id: str
    last_seq: dict[str, int] = field(default_factory=dict)
    from_others: int = 0
    out_of_order: int = 0
    latencies: list[float] = field(default_factory=list)
    last_at: float = 0.0

    def on_next(self, payload: dict[str, Any]) -> None:
        now = time.monotonic()
        data = payload.get("data")
        if not data:
            return
        message = data["newMessage"]
        # Every participant sees one conversation here, so its seq must rise by exactly one.
        seq = message["seq"]
        last = self.last_seq.get("c", 0)
        if seq <= last:
            self.out_of_order += 1
        self.last_seq["c"] = max(seq, last)
        self.last_at = now
        if message["senderId"] != self.user_id:
            self.from_others += 1
            self.latencies.append(now - float(message["content"]))


async def _settle(inboxes: list[Inbox], expected: list[int], deadline: float) -> None:
    while time.monotonic() < deadline:
        if all(box.from_others >= want for box, want in zip(inboxes, expected, strict=True)):
            return
        await asyncio.sleep(0.05)


async def direct_pairs(spec: dict[str, Any], phases: Phases) -> None:
    """S1/S5: each user sends to its peer as fast as sendMessage returns (phase 0), then at
    a given total rate (phase 1); both ends of a pair live in this worker."""
    users: list[dict[str, str]] = spec["users"]
    clients: list[Client] = []
    for url in sorted({user["url"] for user in users}):
        mine = [user for user in users if user["url"] == url]
        opened, failures = await open_all(url, [(u["id"], u["token"]) for u in mine])
        if failures:
            raise RuntimeError(f"{failures} connections failed")
        clients += opened
    by_id = {client.user_id: client for client in clients}
    inboxes = {user["id"]: Inbox(user["id"]) for user in users}
    for client in clients:
        await client.subscribe(NEW_MESSAGE, inboxes[client.user_id].on_next)
    # One message per pair first: a conversation's first message creates it, which is not
    # what the measured phases are about.
    await asyncio.gather(
        *(
            by_id[user["id"]].request(SEND, {"to": user["peer"], "c": f"{time.monotonic():.6f}"})
            for user in users
            if user["id"] < user["peer"]
        )
    )
    phases.report("ready", {})
    for phase in (0, 1):
        total_rate = await phases.wait(phase)
        for box in inboxes.values():
            box.latencies.clear()
        base = {user_id: box.from_others for user_id, box in inboxes.items()}
        tally = Tally(dict.fromkeys(by_id, 0))
        cpu_before = usage(os.getpid()).cpu
        lag = LoopLag()
        start = time.monotonic()
        end = start + spec["duration"]
        if total_rate:
            rate = total_rate * len(users) / spec["all_users"]
            await _paced(users, by_id, tally, rate, start + spec["offset"] / rate, end)
        else:
            await asyncio.gather(
                *(_flat_out(user, by_id, tally, end, spec["max_per_user"]) for user in users)
            )
        elapsed = time.monotonic() - start
        cpu = usage(os.getpid()).cpu - cpu_before
        lags = lag.stop()
        expected = [base[u["id"]] + tally.acked[u["peer"]] for u in users]
        boxes = [inboxes[u["id"]] for u in users]
        await _settle(boxes, expected, time.monotonic() + DRAIN_SECONDS)
        received = [box.from_others - base[box.user_id] for box in boxes]
        phases.report(
            f"done{phase}",
            {
                "acked": sum(tally.acked.values()),
                "errors": tally.errors,
                "elapsed": elapsed,
                "cpu": cpu,
                "loop_lags": _sample(lags),
                "received": sum(received),
                "lost": sum(
                    max(0, want - box.from_others)
                    for box, want in zip(boxes, expected, strict=True)
                ),
                "out_of_order": sum(box.out_of_order for box in boxes),
                "latencies": _sample([x for box in boxes for x in box.latencies]),
                "closed": sum(client.closed for client in clients),
            },
        )
    await asyncio.gather(*(client.close() for client in clients))


class LoopLag:
    """How late this worker's event loop runs a timer, sampled through a phase: the most
    the client itself adds to a latency it measures (a frame that arrives waits as long)."""

    PERIOD = 0.005

    def __init__(self) -> None:
        self._lags: list[float] = []
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            due = time.monotonic() + self.PERIOD
            await asyncio.sleep(self.PERIOD)
            self._lags.append(max(0.0, time.monotonic() - due))

    def stop(self) -> list[float]:
        self._task.cancel()
        return self._lags


@dataclass
class Tally:
    """Acknowledged sends per user, and failed ones."""

    acked: dict[str, int]
    errors: int = 0

    async def send(self, client: Client, user: dict[str, str]) -> None:
        try:
            await client.request(SEND, {"to": user["peer"], "c": f"{time.monotonic():.6f}"})
            self.acked[user["id"]] += 1
        except OperationFailed:
            self.errors += 1


async def _flat_out(
    user: dict[str, str], by_id: dict[str, Client], tally: Tally, end: float, most: int
) -> None:
    """Closed loop: the next send as soon as the last one is acknowledged."""
    client = by_id[user["id"]]
    for _ in range(most):
        if time.monotonic() >= end:
            return
        await tally.send(client, user)


async def _paced(
    users: list[dict[str, str]],
    by_id: dict[str, Client],
    tally: Tally,
    rate: float,
    first: float,
    end: float,
) -> None:
    """Open loop: sends leave on a fixed schedule whether or not earlier ones were answered.
    The users take turns, so each sends at rate / len(users) and the sends are evenly
    spread: no user's schedule bunches with another's."""
    in_flight: set[asyncio.Task[None]] = set()
    sent = 0
    while (due := first + sent / rate) < end:
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        user = users[sent % len(users)]
        task = asyncio.create_task(tally.send(by_id[user["id"]], user))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        sent += 1
    await asyncio.gather(*in_flight)


async def room_flood(spec: dict[str, Any], phases: Phases) -> None:
    """S2: every member sends `count` room messages at once; each member must receive all
    of them (its own included), in seq order."""
    users: list[dict[str, str]] = spec["users"]
    clients, failures = await open_all(spec["url"], [(u["id"], u["token"]) for u in users])
    if failures:
        raise RuntimeError(f"{failures} connections failed")
    inboxes = [Inbox(client.user_id) for client in clients]
    for client, box in zip(clients, inboxes, strict=True):
        await client.subscribe(NEW_MESSAGE, box.on_next)
    phases.report("ready", {})
    await phases.wait(0)
    errors = 0
    received_own = [0] * len(clients)

    async def send(client: Client) -> None:
        nonlocal errors
        for outcome in await asyncio.gather(
            *(
                client.request(SEND_ROOM, {"r": spec["room"], "c": f"{time.monotonic():.6f}"})
                for _ in range(spec["count"])
            ),
            return_exceptions=True,
        ):
            if isinstance(outcome, BaseException):
                errors += 1

    start = time.monotonic()
    await asyncio.gather(*(send(client) for client in clients))
    sent_at = time.monotonic()
    expected = spec["members"] * spec["count"]
    others = expected - spec["count"]
    deadline = time.monotonic() + spec["drain_timeout"]
    # Polled: the counters move in many sockets' callbacks; the deadline bounds the wait.
    while time.monotonic() < deadline and any(box.from_others < others for box in inboxes):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    for index, box in enumerate(inboxes):
        received_own[index] = box.last_seq.get("c", 0)
    phases.report(
        "done0",
        {
            "start": start,
            "sent_at": sent_at,
            "last_at": max(box.last_at for box in inboxes),
            "deliveries": sum(box.from_others for box in inboxes),
            "expected_from_others": others * len(inboxes),
            "errors": errors,
            "out_of_order": sum(box.out_of_order for box in inboxes),
            "latencies": _sample([x for box in inboxes for x in box.latencies]),
            "closed": sum(client.closed for client in clients),
        },
    )
    await asyncio.gather(*(client.close() for client in clients))


async def idle_scale(spec: dict[str, Any], phases: Phases) -> None:
    """S3: hold connections with newMessage and presence subscribed; then count who got
    the one message sent to each."""
    users: list[dict[str, str]] = spec["users"]
    clients, failures = await open_all(spec["url"], [(u["id"], u["token"]) for u in users])
    inboxes = [Inbox(client.user_id) for client in clients]
    for client, box in zip(clients, inboxes, strict=True):
        await client.subscribe(NEW_MESSAGE, box.on_next)
        await client.subscribe(PRESENCE, lambda _payload: None)
    phases.report("ready", {"connected": [c.user_id for c in clients], "failed": failures})
    await phases.wait(0)
    deadline = time.monotonic() + spec["drain_timeout"]
    while time.monotonic() < deadline and any(box.from_others < 1 for box in inboxes):  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    phases.report(
        "done0",
        {
            "reached": sum(box.from_others >= 1 for box in inboxes),
            "latencies": _sample([x for box in inboxes for x in box.latencies]),
            "closed": sum(client.closed for client in clients),
        },
    )
    await phases.wait(1)
    await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)


async def send_to_each(spec: dict[str, Any], phases: Phases) -> None:
    """S3's sender: one direct message to each listed user, a bounded number in flight."""
    client = await Client.open(spec["url"], spec["id"], spec["token"])
    phases.report("ready", {})
    await phases.wait(0)
    gate = asyncio.Semaphore(200)
    errors = 0

    async def one(user_id: str) -> None:
        nonlocal errors
        async with gate:
            try:
                await client.request(SEND, {"to": user_id, "c": f"{time.monotonic():.6f}"})
            except OperationFailed:
                errors += 1

    start = time.monotonic()
    await asyncio.gather(*(one(user_id) for user_id in spec["targets"]))
    phases.report("done0", {"errors": errors, "elapsed": time.monotonic() - start})
    await client.close()


async def history_pages(spec: dict[str, Any], phases: Phases) -> None:
    """S4: one client asks for 50-message pages before random cursors, one at a time,
    after untimed warm-up pages (the server's first pages of a document plan it, and its
    first reads of a conversation fill the database's cache)."""
    client = await Client.open(spec["url"], spec["id"], spec["token"])
    rng = random.Random(7)

    def any_page() -> dict[str, Any]:
        return {"with": rng.choice(spec["peers"]), "before": rng.choice(spec["cursors"])}

    for _ in range(spec["warmup"]):
        await client.request(HISTORY, any_page())
    phases.report("ready", {})
    await phases.wait(0)
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + spec["duration"]
    for _ in range(spec["requests"]):
        if time.monotonic() >= deadline:
            break
        page = any_page()
        start = time.monotonic()
        try:
            data = await client.request(HISTORY, page)
            if len(data["messages"]["edges"]) != 50:
                errors += 1
        except OperationFailed:
            errors += 1
        latencies.append(time.monotonic() - start)
    phases.report("done0", {"latencies": latencies, "errors": errors})
    await client.close()
