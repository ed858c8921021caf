"""Rate limits like Telnyx's: requests per second per account and per sender, off by default.

Telnyx documents about 50 messages a second per account and, per sender, roughly 1 a
second for a long code, 20 for toll-free and 1000 for a short code; past that the API answers
429 with ``{"errors": [{"code": "10011", ...}]}`` and the ``x-ratelimit-*`` headers
(https://developers.telnyx.com/development/api-fundamentals/reliability/rate-limiting).
The fake counts message-creating requests in one-second windows of its own clock, each opened
by the first request after the last one closed, so ``fake.advance(1)`` always starts afresh.
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


@attrs.frozen
class RateLimits:
    """How many message-creating requests a second `FakeTelnyx` takes before answering 429.

    ``account_per_second`` caps all sends together (Telnyx: about 50 SMS a second);
    ``per_sender_per_second`` caps each sender, the ``from`` number (or the messaging
    profile for number-pool sends; a long code gets about 1 a second). None lifts a limit.
    ``FakeTelnyx(rate_limits=RateLimits(account_per_second=50, per_sender_per_second=1))``
    behaves like a new long-code account.

    .. versionadded:: 0.2.0
    """

    account_per_second: int | None = attrs.field(default=None, validator=_check_limit)
    per_sender_per_second: int | None = attrs.field(default=None, validator=_check_limit)


class RateLimiter:
    """One-second windows per bucket (the account, each sender)."""

    def __init__(self, limits: RateLimits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}  # bucket -> (window start, requests)

    def admit(self, sender: str | None) -> dict[str, str]:
        """Count one send, or raise the 429 Telnyx answers; returns the x-ratelimit headers."""
        buckets: list[tuple[str, int]] = []
        if self.limits.account_per_second is not None:
            buckets.append(("account", self.limits.account_per_second))
        if self.limits.per_sender_per_second is not None and sender:
            buckets.append((f"sender:{sender}", self.limits.per_sender_per_second))
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

    def _window(self, bucket: str, now: float) -> tuple[float, int]:
        """The bucket's open window (start, requests so far); a new one if it has closed."""
        start, used = self._windows.get(bucket, (now, 0))
        return (start, used) if now < start + _WINDOW else (now, 0)
