"""The fake's clock: real time plus what advance() skipped, with timers that honour both."""

from __future__ import annotations

import asyncio
import time

import pytest

from telnyx_messaging.testing._clock import Clock


async def test_advance_runs_due_timers_in_order_and_keeps_the_rest() -> None:
    """Timers due by the new time run in due order; later ones wait; a cancelled one never runs."""
    clock = Clock()
    ran: list[str] = []
    clock.call_later(20, lambda: ran.append("20"))
    clock.call_later(10, lambda: ran.append("10"))
    doomed = clock.call_later(15, lambda: ran.append("15"))
    clock.call_later(12, doomed.cancel)  # a timer may cancel a later one that is also due
    clock.call_later(99, lambda: ran.append("99"))
    clock.advance(30)
    assert ran == ["10", "20"]
    clock.cancel_all()
    clock.advance(100)
    assert ran == ["10", "20"]


async def test_time_moves_with_advance() -> None:
    """time(), now() and monotonic() all include what advance() added."""
    clock = Clock()
    before = clock.time()
    clock.advance(3600)
    assert clock.time() - before >= 3600
    assert abs(clock.now().timestamp() - clock.time()) < 5
    assert clock.monotonic() - time.monotonic() == pytest.approx(3600)


async def test_sleep_ends_on_real_time_or_advance() -> None:
    """sleep() of 0 returns at once; a long one ends when advance() passes it."""
    clock = Clock()
    await clock.sleep(0)
    await clock.sleep(0.01)
    sleeper = asyncio.ensure_future(clock.sleep(3600))
    await asyncio.sleep(0)
    assert not sleeper.done()
    clock.advance(3600)
    await asyncio.wait_for(sleeper, 5)


async def test_cancelled_sleep_leaves_no_timer() -> None:
    """Cancelling a sleeping task removes its timer."""
    clock = Clock()
    sleeper = asyncio.ensure_future(clock.sleep(3600))
    await asyncio.sleep(0)
    sleeper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeper
    assert clock._timers == set()
