"""Whether a failed call is worth another attempt: one pure rule for every side of the SDK.

The request loop (``_http/retry.py`` re-exports these) and the delivery tracker's polls both
ask it; it sits on the bottom floor so the inbound wing never imports the outbound call path.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from telnyx_messaging._errors import APIConnectionError, APIStatusError

__all__ = ["OPTED_OUT_CODE", "RETRYABLE_STATUSES", "is_retryable", "is_retryable_status"]

# https://developers.telnyx.com/docs/messaging/messages/send-message: retried sends must carry
# the same Idempotency-Key so Telnyx accepts the message once.
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

# https://developers.telnyx.com/api/errors/40300: "40300 - Blocked due to STOP message ...
# HTTP Status - 409 ... Messages cannot be sent from {src} to {dst} due to an existing block
# rule"; the fix is for the recipient to text START. A 409 is otherwise a passing conflict,
# but this one stands until the recipient acts, so asking again only repeats the refusal.
OPTED_OUT_CODE = "40300"


def is_retryable_status(
    status: int, headers: Mapping[str, str], codes: Collection[str] = ()
) -> bool:
    """Whether an error answer is worth another attempt; ``x-should-retry`` has the last word.

    ``codes`` are Telnyx's error codes from the body: a 409 carrying :data:`OPTED_OUT_CODE`
    is final.
    """
    should = headers.get("x-should-retry")
    if should == "true":
        return True
    if should == "false":
        return False
    if status == 409 and OPTED_OUT_CODE in codes:
        return False
    return status in RETRYABLE_STATUSES


def is_retryable(exc: BaseException) -> bool:
    """Whether another attempt may succeed where this one failed."""
    if isinstance(exc, APIStatusError):
        return is_retryable_status(exc.status, exc.headers, exc.codes)
    return isinstance(exc, APIConnectionError)
