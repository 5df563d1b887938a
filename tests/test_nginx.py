"""Two instances (one with two workers) behind Debian's nginx, configured with the README's
block, and every client on nginx's port: no sticky sessions, one server."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.clients import Http, connect
from tests.conftest import REDIS_URL, needs_postgres, needs_redis
from tests.operations import NEW_MESSAGE, PRESENCE, SEND
from tests.servers import Server, free_port, start_instances

pytestmark = [needs_postgres, needs_redis]

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_block(backends: list[Server], port: int) -> str:
    """The README's nginx block, pointed at these backends and this port."""
    match = re.search(r"```nginx\n(.*?)```", README.read_text(), re.DOTALL)
    assert match, "the README has no nginx block"
    block = match.group(1)
    servers = "".join(f"    server 127.0.0.1:{backend.port};\n" for backend in backends)
    block, count = re.subn(r"(?:    server [\d.:]+;\n)+", servers, block)
    assert count == 1, "the README's upstream has changed shape"
    block, count = re.subn(r"listen \d+;", f"listen 127.0.0.1:{port};", block)
    assert count == 1
    return block


@pytest.fixture(scope="module")
def nginx(database_factory: object) -> Iterator[tuple[str, Server]]:
    """nginx in the foreground on a free port in front of two instances, the second with
    two workers; its base URL, and a backend to mint tokens with."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("nginx is needed (Debian package nginx; .ci/run installs it)")
    make = database_factory
    assert callable(make)
    assert REDIS_URL is not None
    backends = start_instances(make("postgres"), REDIS_URL, {}, {"workers": "2"})
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="chat-nginx-") as directory:
        config = Path(directory) / "nginx.conf"
        kinds = ("body", "proxy", "fastcgi", "uwsgi", "scgi")
        temp = {kind: f"{directory}/{kind}" for kind in kinds}
        config.write_text(
            f"daemon off;\nworker_processes 1;\npid {directory}/nginx.pid;\n"
            f"error_log {directory}/error.log warn;\nevents {{ worker_connections 256; }}\n"
            f"http {{\n  access_log off;\n"
            f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
            f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
            f"  scgi_temp_path {temp['scgi']};\n"
            f"{readme_block(backends, port)}}}\n"
        )
        process = subprocess.Popen(
            [binary, "-c", str(config), "-p", directory], stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 20
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, (Path(directory) / "error.log").read_text()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
            yield url, backends[0]
        finally:
            process.terminate()
            process.wait(10)
            for backend in backends:
                backend.stop()


async def test_clients_on_nginx_port_see_one_server(nginx: tuple[str, Server], uid) -> None:
    url, issuer = nginx
    ws_url = url.replace("http://", "ws://") + "/graphql"
    alice, bob, carol, dave = uid("alice"), uid("bob"), uid("carol"), uid("dave")
    for user in (alice, bob, carol, dave):
        await Http(url, issuer.token(user)).data("{ me { id } }")
    # Three devices of bob, spread over the processes by round robin.
    devices = [await connect(ws_url, issuer.token(bob)) for _ in range(3)]
    streams = [await device.subscribe(NEW_MESSAGE) for device in devices]
    watcher = await connect(ws_url, issuer.token(carol))
    presence = await watcher.subscribe(PRESENCE, {"ids": [dave]})
    assert (await watcher.next_data(presence))["presence"]["online"] is False
    await asyncio.sleep(0.3)

    http = Http(url, issuer.token(alice))
    sent = [(await http.data(SEND, {"to": bob, "content": c}))["sendMessage"] for c in "abcdefgh"]
    for device, stream in zip(devices, streams, strict=True):
        got = [(await device.next_data(stream))["newMessage"] for _ in sent]
        assert [m["id"] for m in got] == [m["id"] for m in sent]
        assert [m["seq"] for m in got] == list(range(1, 9))

    dave_socket = await connect(ws_url, issuer.token(dave))
    assert (await watcher.next_data(presence))["presence"]["online"] is True
    await dave_socket.close()
    assert (await watcher.next_data(presence))["presence"]["online"] is False
    for device in (*devices, watcher):
        await device.close()
