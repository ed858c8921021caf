"""Never process one webhook twice: the duplicate guard every way of receiving shares.

Telnyx delivers at least once: it retries a delivery that was not answered 2xx within about
2 seconds, and it may deliver the same event twice anyway. The signature's timestamp check
does not help (each retry is signed afresh), so a receiver remembers which events it has
seen, by a key that stays the same across deliveries (:func:`duplicate_key`).

A guard has three steps, so that a failure is never remembered as a success:

- ``claim(key)``: ``"new"`` the first time (the caller now owns the event), else
  ``"processing"`` (another delivery of it is being handled right now) or ``"done"``;
- ``complete(key)``: the event was handled, later deliveries are duplicates;
- ``release(key)``: handling failed: forget the key, so the retry is processed.

:class:`MemoryDuplicateGuard` keeps keys in this process; a deployment with several
replicas shares one guard through a store they all reach (``docs/webhooks.md`` has a Redis
recipe: ``SET key processing NX EX ttl``).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol, TypeAlias

from telnyx_messaging._errors import InvalidArgumentError

__all__ = ["Claim", "DuplicateGuard", "MemoryDuplicateGuard", "duplicate_key"]

#: What :meth:`DuplicateGuard.claim` answers: ``"new"`` (yours to handle), ``"processing"``
#: (another delivery of the event is being handled) or ``"done"`` (already handled).
Claim: TypeAlias = Literal["new", "processing", "done"]
"""What a duplicate guard says of a key: first seen, being handled now, or handled."""


class DuplicateGuard(Protocol):
    """Remembers which webhook events were handled, so a redelivery is not handled again.

    Methods may be plain or ``async``; the WSGI adapters (Flask, Django) need plain ones.
    Implement it over a shared store (Redis, a database table with a unique key) when
    several processes receive webhooks; :class:`MemoryDuplicateGuard` is the in-process one.

    .. versionadded:: 0.2.0
    """

    def claim(self, key: str) -> Claim | Awaitable[Claim]:
        """Atomically mark ``key`` as being processed if it is new; say what it was."""
        ...

    def complete(self, key: str) -> Awaitable[None] | None:
        """Mark ``key`` as handled: later deliveries of it are duplicates."""
        ...

    def release(self, key: str) -> Awaitable[None] | None:
        """Forget ``key`` after a failure, so the next delivery of it is processed."""
        ...


class MemoryDuplicateGuard:
    """An in-process :class:`DuplicateGuard`, bounded by count and by age.

    Remembers at most ``max_events`` keys (the oldest are forgotten first) for at most
    ``max_age`` seconds each, counted from the first delivery. The defaults cover Telnyx's
    retries (three tries per URL, then the failover URL) with a wide margin, at roughly
    270 bytes a key (27 MB when full). Thread-safe, so one guard can serve a threaded WSGI
    server.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        *,
        max_events: int = 100_000,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 1:
            raise InvalidArgumentError(
                f"max_events must be a whole number >= 1, got {max_events!r}"
            )
        if (
            isinstance(max_age, bool)
            or not isinstance(max_age, (int, float))
            or not (math.isfinite(max_age) and max_age > 0)
        ):
            raise InvalidArgumentError(f"max_age must be seconds > 0, got {max_age!r}")
        self._max_events = max_events
        self._max_age = float(max_age)
        self._clock = clock
        # key -> [expires_at, done]; insertion order is age order, since max_age is fixed.
        self._entries: OrderedDict[str, list[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys are remembered now (expired ones may linger until the next claim)."""
        return len(self._entries)

    def claim(self, key: str) -> Claim:
        """``"new"`` the first time ``key`` is seen in the window, else its state."""
        now = self._clock()
        with self._lock:
            entries = self._entries
            while entries:
                oldest = next(iter(entries.values()))
                if oldest[0] > now:
                    break
                entries.popitem(last=False)
            entry = entries.get(key)
            if entry is not None:
                return "done" if entry[1] else "processing"
            entries[key] = [now + self._max_age, False]
            if len(entries) > self._max_events:
                entries.popitem(last=False)
            return "new"

    def complete(self, key: str) -> None:
        """Remember ``key`` as handled (until it ages out)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry[1] = True

    def release(self, key: str) -> None:
        """Forget ``key``, so the next delivery of it is handled."""
        with self._lock:
            self._entries.pop(key, None)


def duplicate_key(event: Any) -> str:
    """The key that identifies a webhook event across deliveries, for a :class:`DuplicateGuard`.

    The event's ``id`` when it has one. Link clicks have none, so their key is a hash of the
    whole ``data`` object (message, number, URL and time of the click), which Telnyx sends
    the same on every attempt; ``meta.attempt``, which changes, is outside it.

    .. versionadded:: 0.2.0
    """
    event_id = getattr(event, "id", None)
    if isinstance(event_id, str) and event_id:
        return event_id
    raw = getattr(event, "raw", None)
    data = raw.get("data") if isinstance(raw, Mapping) else None
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
