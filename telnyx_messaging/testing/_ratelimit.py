"""Rate limits like Telnyx's: requests per second per account and per sender, and a sender's
queue, off by default.

Two kinds of limit, as Telnyx has them
(https://developers.telnyx.com/docs/messaging/messages/rate-limiting):

- **Refused**: past ``account_per_second`` (all SMS; MMS too unless ``mms_per_second`` meters
  them apart) or ``per_sender_per_second``, the API answers 429 with
  ``{"errors": [{"code": "10011", ...}]}``, ``Retry-After`` and the ``x-ratelimit-*`` headers.
  The fake counts message-creating requests in one-second windows of its own clock, each opened
  by the first request after the last one closed, so ``fake.advance(1)`` always starts afresh.
- **Queued**: past a sender's ``sender_throughput`` (messages a second it can hand to the
  carriers) Telnyx accepts the message and queues it; the answer's ``wait_seconds`` says how
  long it will wait. Past ``sender_queue`` messages waiting, a send is refused with error 40318
  (queue full).
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from telnyx_messaging._errors import InvalidArgumentError
from telnyx_messaging.testing._clock import Clock
from telnyx_messaging.testing._wire import FakeApiError

__all__ = ["RateLimiter", "RateLimits"]

_WINDOW = 1.0


def _check_limit(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(
            f"RateLimits({attribute.name}=...) takes a whole number >= 1 or None, not {value!r}"
        )


def _check_throughput(_: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidArgumentError(
            f"RateLimits({attribute.name}=...) takes a positive number of messages a second "
            f"or None, not {value!r}"
        )


@attrs.frozen
class RateLimits:
    """How many message-creating requests a second `FakeTelnyx` takes before answering 429,
    and how fast each sender's queue drains.

    ``account_per_second`` caps all sends together (Telnyx: about 50 SMS a second);
    ``mms_per_second``, when set, caps MMS on their own instead (Telnyx: about 15 a second);
    ``per_sender_per_second`` caps each sender, the ``from`` number (or the messaging
    profile for number-pool sends; a toll-free number gets about 20 a second). None lifts a
    limit. ``FakeTelnyx(rate_limits=RateLimits(account_per_second=50, per_sender_per_second=1))``
    behaves like a new long-code account.

    ``sender_throughput`` is how many messages a second each sender hands on: sends past it
    are queued, not refused, and their answer's ``wait_seconds`` grows; ``sender_queue`` is how
    many may wait before a send is refused with error 40318 (HTTP 400). Both None: no queue.

    .. versionadded:: 0.2.0
    """

    account_per_second: int | None = attrs.field(default=None, validator=_check_limit)
    per_sender_per_second: int | None = attrs.field(default=None, validator=_check_limit)
    mms_per_second: int | None = attrs.field(default=None, validator=_check_limit)
    sender_throughput: float | None = attrs.field(default=None, validator=_check_throughput)
    sender_queue: int | None = attrs.field(default=None, validator=_check_limit)


class RateLimiter:
    """One-second windows per bucket (the account, MMS, each sender) and each sender's queue."""

    def __init__(self, limits: RateLimits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # bucket -> (window start, requests)
        self._queues: dict[str, float] = {}  # sender -> when its queue will be empty

    def admit(self, sender: str | None, *, mms: bool = False) -> dict[str, str]:
        """Count one send, or raise the 429 Telnyx answers; returns the x-ratelimit headers."""
        limits = self.limits
        buckets: list[tuple[str, int]] = []
        if mms and limits.mms_per_second is not None:
            buckets.append(("mms", limits.mms_per_second))
        elif limits.account_per_second is not None:
            buckets.append(("account", limits.account_per_second))
        if limits.per_sender_per_second is not None and sender:
            buckets.append((f"sender:{sender}", limits.per_sender_per_second))
        if not buckets:
            return {}
        now = self._clock.monotonic()
        windows = {name: self._window(name, now) for name, _ in buckets}
        for name, limit in buckets:
            start, used = windows[name]
            if used >= limit:
                reset = str(max(1, math.ceil(start + _WINDOW - now)))
                headers = {
                    "Retry-After": reset,
                    "x-ratelimit-limit": str(limit),
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": reset,
                }
                raise FakeApiError(
                    429,
                    "10011",
                    "Too many requests",
                    "You have exceeded the maximum number of allowed requests.",
                    headers=headers,
                )
        for name, (start, used) in windows.items():
            self._windows[name] = (start, used + 1)
        # Report the bucket closest to its limit, as the one that will refuse first.
        name, limit = min(buckets, key=lambda bucket: bucket[1] - windows[bucket[0]][1])
        start, used = windows[name]
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(limit - used - 1),
            "x-ratelimit-reset": str(max(1, math.ceil(start + _WINDOW - now))),
        }

    def queue(self, sender: str | None) -> float:
        """Queue one accepted send behind its sender: the seconds it will wait (its answer's
        ``wait_seconds``), or raise 40318 when the sender's queue is full."""
        throughput = self.limits.sender_throughput
        if throughput is None or not sender:
            return 0.0
        now = self._clock.monotonic()
        free_at = max(now, self._queues.get(sender, now))
        wait = free_at - now
        limit = self.limits.sender_queue
        # Messages ahead of this one: the wait times the pace (less a hair for float error).
        if limit is not None and wait * throughput > limit - 1e-9:
            raise FakeApiError(
                400,
                "40318",
                "Message queue full",
                f"The queue of messages waiting to be sent from {sender} is full "
                f"({limit} messages); send more slowly.",
            )
        self._queues[sender] = free_at + 1.0 / throughput
        return round(wait, 3)

    def _window(self, bucket: str, now: float) -> tuple[float, int]:
        """The bucket's open window (start, requests so far); a new one if it has closed."""
        start, used = self._windows.get(bucket, (now, 0))
        return (start, used) if now < start + _WINDOW else (now, 0)
