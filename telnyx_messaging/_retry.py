"""When to retry and how long to wait: pure decisions over statuses, headers and errors, no I/O.

Policy (docs/resilience.md): connection failures, timeouts and 408/409/429/500/502/503/504 are
retried, as is anything the server marks ``x-should-retry: true``; ``x-should-retry: false`` and
every other 4xx are final. The server's own wait (``retry-after-ms``, ``Retry-After``,
``x-ratelimit-reset``) wins over our backoff.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from ._errors import APIConnectionError, APIError, APIStatusError

__all__ = [
    "RETRYABLE_STATUSES",
    "backoff_seconds",
    "is_retryable",
    "is_retryable_status",
    "retry_after_seconds",
    "server_wait",
]

# https://developers.telnyx.com/docs/messaging/messages/send-message: retried sends must carry
# the same Idempotency-Key so Telnyx accepts the message once.
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
JITTER = 0.5


def is_retryable_status(status: int, headers: Mapping[str, str]) -> bool:
    """Whether an error answer is worth another attempt; ``x-should-retry`` has the last word."""
    should = headers.get("x-should-retry")
    if should == "true":
        return True
    if should == "false":
        return False
    return status in RETRYABLE_STATUSES


def is_retryable(exc: BaseException) -> bool:
    """Whether another attempt may succeed where this one failed."""
    if isinstance(exc, APIStatusError):
        return is_retryable_status(exc.status, exc.headers)
    return isinstance(exc, APIConnectionError)


def _header_float(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    # NaN, infinities and negatives are not waits anyone meant: ignore them.
    return number if math.isfinite(number) and number >= 0 else None


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """How long the server asked us to wait, in seconds, or ``None`` if it did not say.

    Checked in order: ``retry-after-ms``, ``Retry-After`` (seconds or an HTTP date), then
    Telnyx's ``x-ratelimit-reset`` (seconds until the window resets; a value that looks like a
    Unix time is taken as the moment of reset).
    """
    now = time.time() if now is None else now
    ms = _header_float(headers, "retry-after-ms")
    if ms is not None:
        return ms / 1000
    seconds = _header_float(headers, "retry-after")
    if seconds is not None:
        return seconds
    date_value = headers.get("retry-after")
    if date_value:
        try:
            return max(0.0, parsedate_to_datetime(date_value).timestamp() - now)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    reset = _header_float(headers, "x-ratelimit-reset")
    if reset is not None:
        return max(0.0, reset - now) if reset > 1_000_000_000 else reset
    return None


def server_wait(exc: APIError) -> float | None:
    """The wait the server asked for with this error, if it asked."""
    if isinstance(exc, APIStatusError):
        return retry_after_seconds(exc.headers)
    return None


def backoff_seconds(failed_attempt: int) -> float:
    """Exponential backoff with full-range jitter after attempt ``failed_attempt`` (1-based).

    Jitter spreads a fan-out's retries so a thousand failed sends do not return in lockstep.
    """
    base = min(MAX_BACKOFF, INITIAL_BACKOFF * 2.0 ** min(failed_attempt - 1, 32))
    jitter: float = random.uniform(0, JITTER)  # noqa: S311 - jitter, not cryptography
    return base + jitter
