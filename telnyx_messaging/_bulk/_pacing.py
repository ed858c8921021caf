"""How fast a bulk run may send: rate limits for the run and per sender, and the shared 429 pause.

Telnyx meters messages per second per account and per sender (long code about 1/s, toll-free
about 20/s, short code about 1000/s; docs/bulk.md). Sending faster only gets messages queued
or refused with 429, so the run paces itself with leaky buckets (``aiolimiter``) and, when
Telnyx answers 429 anyway, stops *every* worker until the wait it named has passed: one worker
backing off while ninety-nine others keep hitting the limit helps no one.
"""

from __future__ import annotations

import asyncio

from aiolimiter import AsyncLimiter

from telnyx_messaging._args import optional_positive

__all__ = ["Pacer", "PauseGate", "check_rate"]

#: A bucket holds this many seconds' worth of sends: a small burst, then an even pace. A whole
#: second's worth would let the first second send twice the rate.
BURST_SECONDS = 0.1
#: Per-sender buckets kept before idle ones are dropped (input with a million distinct senders
#: must not grow memory without bound).
MAX_SENDER_BUCKETS = 4096


def check_rate(name: str, value: float | None) -> float | None:
    """``value`` as a positive finite rate in sends per second, or ``None`` for no limit."""
    rate = optional_positive(name, value, "messages per second")
    return None if rate is None else float(rate)


def _bucket(rate: float) -> AsyncLimiter:
    capacity = max(1.0, rate * BURST_SECONDS)
    return AsyncLimiter(capacity, capacity / rate)


class PauseGate:
    """One deadline every worker waits for before sending: set by a 429, shared by the run.

    Overlapping pauses merge (the later deadline wins); ``paused_seconds`` counts wall time the
    run spent paused, each second once.
    """

    __slots__ = ("_loop", "_started", "_total", "pauses", "until")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.until = 0.0  # loop time before which nobody sends
        self._started = 0.0  # when the current (or last) pause began
        self._total = 0.0  # seconds of pauses that have ended
        self.pauses = 0

    def pause(self, seconds: float) -> None:
        """Hold every worker for ``seconds`` from now (or longer, if a pause already runs)."""
        now = self._loop.time()
        until = now + seconds
        if now >= self.until:  # a new pause: bank the last one
            self._total += self.until - self._started
            self._started = now
            self.pauses += 1
        self.until = max(self.until, until)

    @property
    def paused(self) -> bool:
        """Whether the run is paused right now."""
        return self._loop.time() < self.until

    @property
    def paused_seconds(self) -> float:
        """Seconds the run has spent paused so far, the running pause included."""
        return self._total + (min(self._loop.time(), self.until) - self._started)

    async def wait(self) -> None:
        """Return once no pause is running (a pause set meanwhile is waited out too)."""
        loop = self._loop
        # A deadline, not an event: a later 429 may push it out while we sleep.
        while (left := self.until - loop.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)


class Pacer:
    """Waits until a row may go: no 429 pause, and room under the run's and its sender's rate."""

    __slots__ = ("_per_sender", "_per_sender_rate", "_run", "gate")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        rate: float | None,
        per_sender_rate: float | None,
    ) -> None:
        self.gate = PauseGate(loop)
        self._run = None if rate is None else _bucket(rate)
        self._per_sender_rate = per_sender_rate
        self._per_sender: dict[str, AsyncLimiter] = {}

    def _sender_bucket(self, sender: str, rate: float) -> AsyncLimiter:
        bucket = self._per_sender.get(sender)
        if bucket is None:
            if len(self._per_sender) >= MAX_SENDER_BUCKETS:
                # A full bucket set: forget senders whose buckets have drained (nothing to
                # remember about them), keeping those still metering sends.
                idle = [k for k, b in self._per_sender.items() if b.has_capacity(b.max_rate)]
                for key in idle:
                    del self._per_sender[key]
            bucket = self._per_sender[sender] = _bucket(rate)
        return bucket

    @property
    def paces(self) -> bool:
        """Whether any limit applies (if not, only the 429 gate is checked)."""
        return self._run is not None or self._per_sender_rate is not None

    async def wait_turn(self, sender: str | None) -> None:
        """Wait out a 429 pause, then take a token from the sender's bucket and the run's."""
        gate = self.gate
        if gate.until:
            await gate.wait()
        per_sender = self._per_sender_rate
        if sender is not None and per_sender is not None:
            await self._sender_bucket(sender, per_sender).acquire()
        if self._run is not None:
            await self._run.acquire()
        if gate.until:
            # A 429 may have arrived while this row waited for its token.
            await gate.wait()
