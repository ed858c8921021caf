"""The fake's own clock: real time, plus whatever a test skipped with `Clock.advance`.

Everything the fake does later (a scheduled send, the next webhook attempt, the end of a rate
limit window) is a timer on this clock, so ``fake.advance(3600)`` makes an hour's worth of it
happen at once, and a test never sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Collection
from datetime import datetime, timezone

from telnyx_messaging._errors import InvalidArgumentError

__all__ = ["Clock", "Timer"]


class Timer:
    """A callback due at a moment of the clock; `cancel` stops it if it has not run."""

    def __init__(self, clock: Clock, due: float, seq: int, callback: Callable[[], object]) -> None:
        self.due = due
        self.seq = seq
        self._clock = clock
        self._callback = callback
        self._handle: asyncio.TimerHandle | None = None
        self.cancelled = False

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._handle is not None:
            self._handle.cancel()
        delay = max(0.0, self.due - self._clock.monotonic())
        self._handle = loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        if self.cancelled:
            return
        self.cancel()
        self._callback()

    def cancel(self) -> None:
        """Stop the timer; nothing happens if it already ran."""
        self.cancelled = True
        self._clock._timers.discard(self)
        if self._handle is not None:
            self._handle.cancel()


class Clock:
    """Real time shifted by the seconds `advance` added; timers run on it.

    ``time()`` is Unix seconds, ``now()`` an aware UTC datetime, ``monotonic()`` the
    monotonic seconds timers are set in. Timers need a running event loop.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._timers: set[Timer] = set()
        self._order = itertools.count()
        # Tasks parked in `sleep`, with their timers; `parked` tells waiters one just parked.
        # (A None key, for a sleep outside any task, is never looked up and does no harm.)
        self._sleepers: dict[asyncio.Task[object] | None, Timer] = {}
        self.parked = asyncio.Event()

    def time(self) -> float:
        return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        """Run ``callback`` after ``delay`` seconds of this clock."""
        timer = Timer(self, self.monotonic() + max(0.0, delay), next(self._order), callback)
        self._timers.add(timer)
        timer._arm(asyncio.get_running_loop())
        return timer

    async def sleep(self, delay: float) -> None:
        """Sleep ``delay`` seconds of this clock (cut short by `advance`)."""
        if delay <= 0:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not done.done():
                done.set_result(None)

        timer = self.call_later(delay, wake)
        task = asyncio.current_task()
        self._sleepers[task] = timer
        self.parked.set()
        try:
            await done
        finally:
            timer.cancel()
            self._sleepers.pop(task, None)

    def busy(self, tasks: Collection[asyncio.Task[object]]) -> list[asyncio.Task[object]]:
        """The ``tasks`` not asleep until a moment still ahead of this clock."""
        now = self.monotonic()
        return [
            task
            for task in tasks
            if (timer := self._sleepers.get(task)) is None or timer.cancelled or timer.due <= now
        ]

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward; timers due by then run now, in due order."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise InvalidArgumentError(f"advance() takes a number of seconds >= 0, not {seconds!r}")
        self._offset += seconds
        now = self.monotonic()
        timers = sorted(self._timers, key=lambda t: (t.due, t.seq))
        for timer in timers:
            if timer.due <= now:
                timer._fire()
            else:
                timer._arm(asyncio.get_running_loop())

    def cancel_all(self) -> None:
        """Drop every pending timer (the fake is closing)."""
        for timer in list(self._timers):
            timer.cancel()
