"""The in-process broker of the embedded setup: one process, nothing to install."""

from __future__ import annotations

from typing import Any

from broker.base import Broker


class MemoryBroker(Broker):
    async def publish(self, channel: str, data: dict[str, Any]) -> None:
        self.deliver_local(channel, data)
