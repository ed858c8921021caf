"""Test doubles for pacing (tests/bulk): a virtual clock, and the answers that say "slower"."""

from __future__ import annotations

import asyncio

from telnyx_messaging import APIStatusError, RateLimitError
from telnyx_messaging._models import ErrorDetail


class VirtualTime:
    """A clock that moves only when the test moves it or a sleeper wakes.

    ``sleep`` waits until the clock reaches its end: for one sleeper at a time (a turn on a
    budget), that is at once; with ``manual=True`` sleepers wait for ``advance``, so several
    turns can wait side by side.
    """

    def __init__(self, now: float = 100.0, *, manual: bool = False) -> None:
        # Not 0 by default: a budget born at 0 hides sums that should be differences.
        self.now = now
        self.manual = manual
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if not self.manual:
            self.now += seconds
            await asyncio.sleep(0)
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, len(self._sleepers), wake))
        await wake

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Move on ``seconds``, waking each sleeper at its time, in order."""
        end = self.now + seconds
        while True:
            await self.settle()
            due = sorted(s for s in self._sleepers if s[0] <= end and not s[2].done())
            if not due:
                break
            at, _, wake = due[0]
            self._sleepers.remove(due[0])
            self.now = max(self.now, at)
            wake.set_result(None)
        self.now = end
        await self.settle()


def refusal(
    *codes: str, headers: dict[str, str] | None = None, status: int = 429
) -> APIStatusError:
    cls = RateLimitError if status == 429 else APIStatusError
    return cls(
        "slower",
        method="POST",
        url="https://api.telnyx.com/v2/messages",
        status=status,
        headers=headers or {},
        errors=[ErrorDetail(code=code, title="slower") for code in codes or ("10011",)],
    )
