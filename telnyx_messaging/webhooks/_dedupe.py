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

What a guard must remember (the contract a shared guard implements too):

- a key in ``"processing"`` is never forgotten until ``complete`` or ``release`` (a shared
  store may give it a generous expiry, for a replica that died mid-way);
- a ``"done"`` key is remembered at least as long as the signature tolerance (300 s by
  default), so that a replay the timestamp check lets through is still refused;
- when a guard cannot take one more key without forgetting one it must keep, ``claim``
  raises :class:`DuplicateGuardFullError`; the receiver answers 503 (``guard_full``) and
  Telnyx retries later. Any other exception from ``claim`` is answered 503 too
  (``guard_unavailable``).

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

from telnyx_messaging._errors import InvalidArgumentError, TelnyxError

__all__ = [
    "Claim",
    "DuplicateGuard",
    "DuplicateGuardFullError",
    "MemoryDuplicateGuard",
    "duplicate_key",
]

#: What :meth:`DuplicateGuard.claim` answers: ``"new"`` (yours to handle), ``"processing"``
#: (another delivery of the event is being handled) or ``"done"`` (already handled).
Claim: TypeAlias = Literal["new", "processing", "done"]
"""What a duplicate guard says of a key: first seen, being handled now, or handled."""

#: How long a handled key is kept at least, by default: the signature tolerance.
DEFAULT_MIN_AGE = 300.0


class DuplicateGuardFullError(TelnyxError):
    """A duplicate guard cannot remember one more event without forgetting one it must keep.

    Raised by ``claim``; a receiver answers 503 (``Retry-After: 1``) so Telnyx delivers the
    event again later. Give :class:`MemoryDuplicateGuard` a larger ``max_events``, or share
    a guard in a store (Redis) sized for your rate.

    .. versionadded:: 0.2.0
    """


class DuplicateGuard(Protocol):
    """Remembers which webhook events were handled, so a redelivery is not handled again.

    Methods may be plain or ``async``; the WSGI adapters (Flask, Django) need plain ones.
    Implement it over a shared store (Redis, a database table with a unique key) when
    several processes receive webhooks; :class:`MemoryDuplicateGuard` is the in-process one.
    The module docstring says what a guard must remember.

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


def _seconds(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and value > 0)
    ):
        raise InvalidArgumentError(f"{name} must be seconds > 0, got {value!r}")
    return float(value)


class MemoryDuplicateGuard:
    """An in-process :class:`DuplicateGuard`, bounded by count and by age.

    Remembers each handled key for ``max_age`` seconds from its first delivery, and at most
    ``max_events`` keys in all, 200 to 270 bytes each with the key's own text (some 27 MB
    when full with the default 100,000 keys and Telnyx's 36-character ids). When full, the oldest
    handled key at least ``min_age`` old is forgotten to make room; a key still being
    handled, or handled less than ``min_age`` ago, never is. When nothing can go,
    :meth:`claim` raises :class:`DuplicateGuardFullError` (the receiver answers 503, Telnyx
    retries): memory stays bounded at any rate, and the guard never forgets what it must
    remember.

    ``min_age`` defaults to the signature tolerance (300 s, or ``max_age`` if shorter), so a
    replay of a signed webhook that passes the timestamp check is always refused. So the
    defaults take up to ``max_events / min_age`` = 333 new events a second, sustained; size
    ``max_events`` as your peak rate times ``min_age`` (``benchmarks/bench_dedupe.py`` runs
    5,000 a second).
    Thread-safe, so one guard can serve a threaded WSGI server.

    .. versionadded:: 0.2.0 ``min_age``.
    """

    def __init__(
        self,
        *,
        max_events: int = 100_000,
        max_age: float = 3600.0,
        min_age: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 1:
            raise InvalidArgumentError(
                f"max_events must be a whole number >= 1, got {max_events!r}"
            )
        self._max_age = _seconds("max_age", max_age)
        if min_age is None:
            min_age = min(DEFAULT_MIN_AGE, self._max_age)
        self._min_age = _seconds("min_age", min_age)
        if self._min_age > self._max_age:
            raise InvalidArgumentError(
                f"min_age ({min_age!r}) must not be longer than max_age ({max_age!r}): a key "
                "is forgotten after max_age seconds"
            )
        self._max_events = max_events
        self._clock = clock
        # Keys being handled, by when they were claimed: never forgotten here.
        self._processing: dict[str, float] = {}
        # Handled keys, by when they were first claimed, in the order they were completed
        # (about age order: a callback takes seconds, max_age is an hour).
        self._done: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys are remembered now (expired ones may linger until the next claim)."""
        return len(self._processing) + len(self._done)

    def claim(self, key: str) -> Claim:
        """``"new"`` the first time ``key`` is seen in the window, else its state.

        Raises :class:`DuplicateGuardFullError` when ``max_events`` keys are remembered and
        none may be forgotten yet.
        """
        now = self._clock()
        with self._lock:
            if key in self._processing:
                return "processing"
            done = self._done
            claimed = done.get(key)
            if claimed is not None:
                if now - claimed < self._max_age:
                    return "done"
                del done[key]
            # Forget what is past max_age, then, if still full, what is past min_age.
            while done and now - next(iter(done.values())) >= self._max_age:
                done.popitem(last=False)
            while len(self) >= self._max_events:
                if not done or now - next(iter(done.values())) < self._min_age:
                    raise DuplicateGuardFullError(
                        f"the duplicate guard holds {len(self)} events (max_events), none "
                        f"older than {self._min_age:g}s: raise max_events, or share a guard "
                        "sized for this rate"
                    )
                done.popitem(last=False)
            self._processing[key] = now
            return "new"

    def complete(self, key: str) -> None:
        """Remember ``key`` as handled (until it ages out)."""
        with self._lock:
            claimed = self._processing.pop(key, None)
            if claimed is not None:
                self._done[key] = claimed

    def release(self, key: str) -> None:
        """Forget ``key``, so the next delivery of it is handled."""
        with self._lock:
            self._processing.pop(key, None)
            self._done.pop(key, None)


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
