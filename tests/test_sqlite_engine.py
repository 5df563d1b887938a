"""SQLite statements run on the event loop's thread, and WAL checkpoints, taken elsewhere,
keep the database file current while the server runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from models.sqlite_engine import CHECKPOINT_INTERVAL, LoopSqliteClient
from tests.actions import eventually, register, send
from tests.servers import running_server


def file_size(path: Path) -> int:
    return path.stat().st_size


async def test_statements_run_on_the_event_loops_thread(tmp_path: Path) -> None:
    client = LoopSqliteClient(str(tmp_path / "engine.db"), connection_name="engine")
    await client.create_connection(with_db=True)
    try:
        callers: list[int] = []

        def caller() -> int:
            callers.append(threading.get_ident())
            return 1

        assert client._connection is not None
        client._connection._conn.create_function("caller", 0, caller)
        await client.execute_script("CREATE TABLE t (x INTEGER)")
        await client.execute_many("INSERT INTO t (x) VALUES (caller())", [[], []])
        assert await client.execute_query_dict("SELECT caller() AS one, count(*) AS n FROM t") == [
            {"one": 1, "n": 2}
        ]
        assert callers == [threading.get_ident()] * 3
    finally:
        await client.close()


async def test_the_database_file_takes_what_is_sent_while_the_server_runs(
    database_factory: Callable[[str], str], uid: Callable[[str], str]
) -> None:
    # The serving connection never checkpoints; without the checkpoints taken beside it,
    # the file would stay as it was until the server stops (and SQLite's own, every
    # 1,000 pages, would not yet have come for this much).
    url = database_factory("sqlite")
    path = Path(url.removeprefix("sqlite://").split("?")[0])
    with running_server(url) as server:
        alice, bob = uid("alice"), uid("bob")
        await register(server, alice, bob)
        before = file_size(path)
        for index in range(200):
            await send(server, alice, bob, f"{index:04d}" + "x" * 3996)

        def holds_them() -> None:
            assert file_size(path) >= before + 200 * 4000

        await eventually(holds_them, timeout=5 + 3 * CHECKPOINT_INTERVAL)
