"""When to retry and how long to wait: pure decisions over errors, no I/O.

Policy (docs/resilience.md): connection failures, timeouts and 408/409/429/500/502/503/504 are
retried, as is anything the server marks ``x-should-retry: true``; ``x-should-retry: false`` and
every other 4xx are final. The server's own wait (``retry-after-ms``, ``Retry-After``,
``x-ratelimit-reset``) wins over our backoff.
"""

from __future__ import annotations

import random

from ._errors import APIConnectionError, APIError, APIStatusError
from ._http import is_retryable_status, retry_after_seconds

__all__ = ["backoff_seconds", "is_retryable", "server_wait"]

INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
JITTER = 0.5


def is_retryable(exc: BaseException) -> bool:
    """Whether another attempt may succeed where this one failed."""
    if isinstance(exc, APIStatusError):
        return is_retryable_status(exc.status, exc.headers)
    return isinstance(exc, APIConnectionError)


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
