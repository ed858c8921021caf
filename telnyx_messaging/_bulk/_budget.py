"""The pacing seam: where a run books its sends, so several processes can share one budget.

A run decides *how fast* each budget may go (its profile, then what Telnyx answered); a
:class:`PacingBudget` only keeps *when* the next send on each budget may leave. The in-process
:class:`MemoryBudget` is the default; a budget kept in Redis (or any shared store) implements
the same two coroutines, so processes sending from one account stay under its limits together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["MAX_BUDGET_KEYS", "MemoryBudget", "PacingBudget"]

#: Keys the in-process budget keeps before dropping idle ones, so input with a million
#: distinct senders does not grow memory without bound.
MAX_BUDGET_KEYS = 4096
#: How late a send may be and still have its slot kept: the event loop wakes a sleeper a
#: little late, and at 1,000 a second a late wake-up lost each time would cost a third of the
#: pace. Small enough that no second ever holds more than the rate plus one send.
SLACK_SECONDS = 0.02


@runtime_checkable
class PacingBudget(Protocol):
    """Where a run books each send, one budget per key. Two coroutines; both must be safe to
    call from many tasks (and, for a shared budget, many processes) at once.

    Keys are short strings naming what is metered: ``"account:sms"``, ``"account:mms"``,
    ``"account:whatsapp"``, ``"run"`` (the caller's ``rate``) and ``"sender:<from>"``. The
    ``rate`` comes with every call, in messages a second, always finite and above 0 (a budget
    with no pace is taken at 1,000,000 a second, so holds still apply), and may change between
    calls (the run slows down after a 429 and ramps back up); a budget keeps no rate of its
    own.

    A shared implementation keeps, per key, the moment the next send may leave (GCRA's
    "theoretical arrival time"): ``take`` reads it, and if it has come moves it on by
    ``1 / rate``, in one atomic step (a Lua script in Redis), using the store's own clock.

    .. versionadded:: 0.2.0
    """

    async def take(self, key: str, rate: float) -> float:
        """Take one send from ``key`` at ``rate`` if one is free now and return ``0.0``;
        otherwise take nothing and return the seconds until one will be."""
        ...

    async def hold(self, key: str, seconds: float) -> None:
        """Free no send on ``key`` for ``seconds`` from now (Telnyx asked to wait). A hold
        never shortens an earlier one."""
        ...


class MemoryBudget:
    """The default :class:`PacingBudget`: per key, when its next send may leave, in this
    process's monotonic clock. Keeps at most ``max_keys`` keys that are still metering
    (a key whose next send may already leave has nothing to remember and is dropped first).

    .. versionadded:: 0.2.0
    """

    __slots__ = ("_clock", "_max_keys", "_next")

    def __init__(
        self, *, max_keys: int = MAX_BUDGET_KEYS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._next: dict[str, float] = {}
        self._max_keys = max_keys
        self._clock = clock

    def __len__(self) -> int:
        """How many keys it keeps right now."""
        return len(self._next)

    async def take(self, key: str, rate: float) -> float:
        return self.take_now(key, rate)

    def take_now(self, key: str, rate: float) -> float:
        """`take` without the coroutine, for callers already on the event loop."""
        now = self._clock()
        due = self._next.get(key)
        if due is None:
            self._make_room()
            due = now
        elif due > now:
            return due - now
        # A send a little late keeps its slot (the next is due one interval after it was due);
        # one long idle does not bank a burst.
        self._next[key] = max(due, now - SLACK_SECONDS) + 1.0 / rate
        return 0.0

    async def hold(self, key: str, seconds: float) -> None:
        now = self._clock()
        if key not in self._next:
            self._make_room()
        self._next[key] = max(self._next.get(key, now), now + seconds)

    def _make_room(self) -> None:
        if len(self._next) < self._max_keys:
            return
        now = self._clock()
        for key in [key for key, due in self._next.items() if due <= now]:
            del self._next[key]
