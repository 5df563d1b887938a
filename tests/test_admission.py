"""Places for sends (resolvers/admission.py): bounded, each one failed with UNAVAILABLE
once its timeout passes, with one timer for all of them, and other cancellations left as
they are."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.admission import Admission
from resolvers.errors import Unavailable

TIMEOUT = 0.05


async def _hold(admission: Admission, seconds: float) -> str:
    async with admission.place():
        await asyncio.sleep(seconds)
    return "done"


async def test_a_send_past_its_timeout_is_unavailable_and_the_others_finish() -> None:
    admission = Admission(places=10, timeout=TIMEOUT)
    slow = asyncio.create_task(_hold(admission, 10))
    await asyncio.sleep(TIMEOUT / 2)
    quick = [asyncio.create_task(_hold(admission, 0)) for _ in range(3)]
    late = asyncio.create_task(_hold(admission, TIMEOUT * 0.6))
    assert await asyncio.gather(*quick, late) == ["done"] * 4
    with pytest.raises(Unavailable, match="slow"):
        await slow
    assert admission.held == 0


async def test_each_place_gets_its_own_deadline() -> None:
    admission = Admission(places=10, timeout=TIMEOUT)
    first = asyncio.create_task(_hold(admission, 10))
    await asyncio.sleep(TIMEOUT * 0.8)
    second = asyncio.create_task(_hold(admission, 10))
    with pytest.raises(Unavailable):
        await first
    # The first deadline passed; the second's has not yet.
    assert not second.done()
    with pytest.raises(Unavailable):
        await second


async def test_a_task_that_outlives_its_place_is_not_cancelled_later() -> None:
    admission = Admission(places=10, timeout=TIMEOUT)
    async with admission.place():
        pass
    await asyncio.sleep(TIMEOUT * 3)  # past the deadline the place had
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    admission = Admission(places=10, timeout=10)
    held = asyncio.create_task(_hold(admission, 10))
    await asyncio.sleep(0)
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held
    assert admission.held == 0


async def test_places_are_bounded_and_closing_waits_for_them() -> None:
    admission = Admission(places=2, timeout=10)
    holders = [asyncio.create_task(_hold(admission, TIMEOUT)) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(Unavailable, match="overloaded"):
        await _hold(admission, 0)
    await admission.close()
    assert all(holder.done() for holder in holders)
    with pytest.raises(Unavailable, match="shutting down"):
        await _hold(admission, 0)
