"""When to retry and how long to wait: pure decisions over statuses, headers and errors, no I/O.

Policy (docs/resilience.md): connection failures, timeouts and 408/409/429/500/502/503/504 are
retried, as is anything the server marks ``x-should-retry: true``; ``x-should-retry: false``,
a 409 saying the recipient opted out (error 40300) and every other 4xx are final. The
server's own wait (``retry-after-ms``, ``Retry-After``, ``x-ratelimit-reset``) wins over our
backoff.

The loop that applies these rules is ours (``_request_loop.py``): a retry library would log
through its own logger, and it cost a send more than the loop does. :func:`set_instant_retries`
makes the waits instant for tests, keeping every attempt.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Iterator, Mapping
from datetime import timezone
from email.utils import parsedate_to_datetime

from telnyx_messaging._errors import APIError, APIStatusError

# The retry decision itself sits below both the call path and the inbound wing (the delivery
# tracker asks it too); re-exported here, where the call path reads it.
from telnyx_messaging._retryable import (
    OPTED_OUT_CODE,
    RETRYABLE_STATUSES,
    is_retryable,
    is_retryable_status,
)

__all__ = [
    "OPTED_OUT_CODE",
    "RETRYABLE_STATUSES",
    "backoff_seconds",
    "is_retryable",
    "is_retryable_status",
    "maybe_processed_status",
    "retry_after_seconds",
    "server_wait",
    "set_instant_retries",
    "wait_to_sleep",
]

INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
JITTER = 0.5


# Statuses that say Telnyx did not act on the request: it refused it (4xx) or was not taking
# requests (503, per RFC 9110 15.6.4 "currently unable to handle the request"). A 500, 502 or
# 504 does not say: the request may have been carried out before the failure.
def maybe_processed_status(status: int) -> bool:
    """Whether an attempt answered with ``status`` may have been acted on by Telnyx."""
    return status < 400 or (status >= 500 and status != 503)


# ASCII digits only: float() and int() also take "١٢", " 12 ", "1e3", "nan" and "inf", which
# no server means as a wait (RFC 9110 10.2.3: delay-seconds = 1*DIGIT). A fraction is
# tolerated for retry-after-ms and x-ratelimit-reset, which no RFC defines.
_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?", re.ASCII)


def _header_float(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    value = value.strip(" \t")  # optional whitespace around a field value (RFC 9110 5.5)
    return float(value) if _SECONDS.fullmatch(value) else None


def _http_date_wait(value: str, now: float) -> float | None:
    """Seconds until an HTTP-date (RFC 9110 5.6.7), read in UTC whatever the zone says."""
    if not value.isascii():
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # "-0000" (RFC 5322: UTC, origin unknown) parses as a naive datetime, which
        # .timestamp() would read in the local time zone. HTTP-dates are always UTC.
        when = when.replace(tzinfo=timezone.utc)
    try:
        return max(0.0, when.timestamp() - now)
    except (OverflowError, ValueError, OSError):  # pragma: no cover - platform-dependent range
        return None


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
        wait = _http_date_wait(date_value, now)
        if wait is not None:
            return wait
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


_instant = False


@contextlib.contextmanager
def _restoring(previous: bool) -> Iterator[None]:
    global _instant
    try:
        yield
    finally:
        _instant = previous


def set_instant_retries(instant: bool = True) -> contextlib.AbstractContextManager[None]:
    """Skip the waits between retries, in every client of this process: for tests.

    Every attempt is still made, and ``max_retries`` and the time budget still apply (a wait
    longer than what is left of the budget still ends the call); only the sleeping is skipped.
    Call it once (``set_instant_retries()``) or use it as a context manager, which restores
    the previous setting on exit::

        with telnyx_messaging.set_instant_retries():
            await client.messages.send(...)

    .. versionadded:: 0.2.0
    """
    global _instant
    previous, _instant = _instant, bool(instant)
    return _restoring(previous)


def wait_to_sleep(wait: float) -> float:
    """The wait actually slept: ``wait``, or none with :func:`set_instant_retries` on."""
    return 0.0 if _instant else wait
