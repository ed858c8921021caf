"""A run's tallies, and the :class:`BulkStats` snapshot made from them."""

from __future__ import annotations

import collections

from telnyx_messaging._bulk._pacing import PauseGate
from telnyx_messaging._bulk._results import BulkStats

__all__ = ["Counters"]

#: Seconds of history behind ``BulkStats.rate``.
RATE_WINDOW = 10.0


class Counters:
    """What a run has done so far, counted where it happens (plain attributes: the workers
    bump them on every send)."""

    __slots__ = (
        "_samples",
        "attempts",
        "awaiting",
        "delivered",
        "emitted",
        "failed",
        "in_flight",
        "read",
        "sent",
        "set_aside",
        "skipped",
        "started_at",
    )

    def __init__(self, started_at: float) -> None:
        self.started_at = started_at
        self.read = self.sent = self.failed = self.skipped = 0
        self.emitted = self.set_aside = self.in_flight = self.attempts = 0
        self.awaiting = self.delivered = 0
        self._samples: collections.deque[tuple[float, int]] = collections.deque()

    @property
    def outstanding(self) -> int:
        """Rows read that have neither a result handed out nor been set aside."""
        return self.read - self.emitted - self.set_aside

    def snapshot(
        self, now: float, *, total: int | None, retrying: int, gate: PauseGate
    ) -> BulkStats:
        finished = self.sent + self.failed
        samples = self._samples
        if not samples or now - samples[-1][0] >= 0.5:
            samples.append((now, finished))
        while now - samples[0][0] > RATE_WINDOW:
            samples.popleft()
        since, then = samples[0]
        if now - since < 1.0:  # too little recent history: the whole run's average
            since, then = self.started_at, 0
        elapsed = now - since
        return BulkStats(
            total=total,
            read=self.read,
            sent=self.sent,
            failed=self.failed,
            skipped=self.skipped,
            in_flight=self.in_flight,
            retrying=retrying,
            attempts=self.attempts,
            elapsed=now - self.started_at,
            rate=(finished - then) / elapsed if elapsed > 0 else 0.0,
            paused=gate.paused,
            paused_seconds=gate.paused_seconds,
            pauses=gate.pauses,
            awaiting_delivery=self.awaiting,
            delivered=self.delivered,
        )
