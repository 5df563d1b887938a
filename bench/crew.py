"""Load clients in separate processes, moved through numbered phases by the parent.

Each worker runs one scenario coroutine on uvloop, pinned to the client core. It reports
with `Phases.report(kind, data)` and waits for the parent's `release(n)` with
`Phases.wait(n)`; the parent collects one report per worker with `gather(kind)`.
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import importlib
import multiprocessing as mp
import queue
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from bench.proc import pin_self

PHASES = 4
Scenario = Callable[[dict[str, Any], "Phases"], Awaitable[None]]


class Phases:
    """A worker's side of the phase protocol."""

    def __init__(self, index: int, reports: Any, events: list[Any], params: Any) -> None:
        self.index = index
        self._reports = reports
        self._events = events
        self._params = params

    def report(self, kind: str, data: dict[str, Any]) -> None:
        self._reports.put((kind, self.index, data))

    async def wait(self, phase: int, timeout: float = 600) -> float:
        """Wait for the parent to release `phase`; the parameter it set with it."""
        released = await asyncio.get_running_loop().run_in_executor(
            None, self._events[phase].wait, timeout
        )
        if not released:
            raise TimeoutError(f"phase {phase} was not released within {timeout} s")
        return float(self._params[phase])


def _worker(target: str, spec: dict[str, Any], phases: Phases, core: int | None) -> None:
    if core is not None:
        pin_self(core)
    import uvloop

    module, name = target.rsplit(":", 1)
    scenario: Scenario = getattr(importlib.import_module(module), name)
    try:
        uvloop.run(scenario(spec, phases))
    except BaseException:
        phases.report("error", {"traceback": traceback.format_exc()})


class WorkerFailed(RuntimeError):
    pass


class Crew:
    """The parent's side: start one process per spec, release phases, gather reports."""

    def __init__(self, target: str, specs: list[dict[str, Any]], core: int | None) -> None:
        context = mp.get_context("spawn")
        self._reports = context.Queue()
        self._events = [context.Event() for _ in range(PHASES)]
        self._params = context.Array("d", PHASES)
        self._processes = [
            context.Process(
                target=_worker,
                args=(target, spec, Phases(i, self._reports, self._events, self._params), core),
                daemon=True,
            )
            for i, spec in enumerate(specs)
        ]
        for process in self._processes:
            process.start()

    def gather(self, kind: str, timeout: float) -> list[dict[str, Any]]:
        """One `kind` report from every worker, in worker order."""
        found: dict[int, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while len(found) < len(self._processes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerFailed(f"no {kind!r} from {len(self._processes) - len(found)} workers")
            try:
                got, index, data = self._reports.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in self._processes):
                    raise WorkerFailed("a load worker died") from None
                continue
            if got == "error":
                raise WorkerFailed(f"load worker {index} failed:\n{data['traceback']}")
            if got == kind:
                found[index] = data
        return [found[i] for i in range(len(self._processes))]

    def release(self, phase: int, param: float = 0.0) -> None:
        self._params[phase] = param
        self._events[phase].set()

    def close(self) -> None:
        for event in self._events:
            event.set()
        for process in self._processes:
            process.join(10)
            if process.is_alive():
                process.terminate()
                process.join(5)

    def __enter__(self) -> Crew:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
