"""The pure core of every call: request values in, models or exceptions out. No I/O here.

Like gidgethub's ``sansio``: building headers and query strings, turning ``(status, headers,
body)`` into a model or the right exception, and deciding whether and how long to wait before a
retry are plain functions over plain values, so they are tested without a socket and shared by
every transport.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from attrs import field, frozen

from ._convert import structure, structure_answer
from ._errors import (
    APIResponseValidationError,
    APIStatusError,
    InvalidArgumentError,
    RateLimitError,
    error_class_for_status,
)
from ._models import ErrorDetail

__all__ = [
    "DEFAULT_BASE_URL",
    "Response",
    "decode_model",
    "encode_body",
    "encode_query",
    "error_from_response",
    "invalid_response",
    "is_retryable_status",
    "load_json",
    "new_idempotency_key",
    "retry_after_seconds",
]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"

# https://developers.telnyx.com/docs/messaging/messages/send-message: retried sends must carry
# the same Idempotency-Key so Telnyx accepts the message once.
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


@frozen
class Response:
    """An HTTP answer exactly as it arrived: status, headers and the raw body bytes.

    Reach it through ``APIError.response`` or :func:`telnyx_messaging.capture_responses`.
    """

    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    method: str
    url: str
    attempt: int = 1
    elapsed: float = field(default=0.0, repr=False)

    @property
    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.body)


def new_idempotency_key() -> str:
    """A random UUID4 string, as ``str(uuid.uuid4())`` but in half the time (it runs per send)."""
    h = os.urandom(16).hex()
    # RFC 4122: version nibble 4, variant bits 10xx.
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def encode_query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query pairs for the arguments that were given (``None`` means "not given")."""
    return [(k, _query_value(v)) for k, v in params.items() if v is not None]


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# allow_nan=False: NaN and Infinity are not JSON, and Telnyx would refuse the whole body.
_dumps = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
).encode


def encode_body(body: Mapping[str, Any]) -> bytes:
    """The request body as compact UTF-8 JSON; what JSON cannot hold is the caller's to fix."""
    try:
        return _dumps(body).encode()
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError (lone surrogates) is a ValueError
        raise InvalidArgumentError(f"the request cannot be sent as JSON: {exc}") from None


def _short(body: bytes, limit: int = 200) -> str:
    text = body[:limit].decode("utf-8", "replace")
    return text + ("..." if len(body) > limit else "")


def invalid_response(response: Response, why: str) -> APIResponseValidationError:
    """The error for a successful status whose body is not what the spec promises."""
    return APIResponseValidationError(
        f"Telnyx answered {response.method} {response.url} with {response.status} and a body "
        f"the SDK cannot read ({why}); the raw body is in .response.body: "
        f"{_short(response.body)!r}",
        method=response.method,
        url=response.url,
        attempts=response.attempt,
        response=response,
    )


def load_json(response: Response) -> Any:
    """The body of a successful answer as JSON, or ``APIResponseValidationError``."""
    try:
        return json.loads(response.body)
    except (ValueError, RecursionError):
        raise invalid_response(response, "not JSON") from None


def decode_model(response: Response, cls: type[T], *, envelope: bool = True) -> T:
    """Structure a successful answer into ``cls``, unwrapping ``{"data": ...}`` if asked.

    Anything that does not fit raises ``APIResponseValidationError`` carrying the raw body,
    never a bare ``KeyError``/``TypeError``.
    """
    payload = load_json(response)
    if envelope:
        if not isinstance(payload, dict) or "data" not in payload:
            raise invalid_response(response, 'no "data" object')
        payload = payload["data"]
    try:
        # The models keep the body's bytes, not the dict, for their `raw` (see _convert).
        return structure_answer(payload, cls, response.body, ("data",) if envelope else ())
    except Exception as exc:
        raise invalid_response(response, f"{cls.__name__}: {exc}") from exc


def _error_details(body: bytes) -> tuple[ErrorDetail, ...]:
    try:
        payload = json.loads(body)
        raw = payload["errors"] if isinstance(payload, dict) else ()
        return tuple(structure(e, ErrorDetail) for e in raw if isinstance(e, dict))
    except (ValueError, KeyError, TypeError, RecursionError):
        return ()


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


def is_retryable_status(status: int, headers: Mapping[str, str]) -> bool:
    """Whether an error answer is worth another attempt; ``x-should-retry`` has the last word."""
    should = headers.get("x-should-retry")
    if should == "true":
        return True
    if should == "false":
        return False
    return status in RETRYABLE_STATUSES


def error_from_response(response: Response, *, attempts: int | None = None) -> APIStatusError:
    """The exception for an error answer, with Telnyx's parsed ``errors`` list."""
    errors = _error_details(response.body)
    status = response.status
    summary = "; ".join(str(e) for e in errors) if errors else _short(response.body) or "no body"
    message = f"{response.method} {response.url} failed with {status}: {summary}"
    kwargs: dict[str, Any] = {
        "method": response.method,
        "url": response.url,
        "status": status,
        "headers": response.headers,
        "errors": errors,
        "attempts": response.attempt if attempts is None else attempts,
        "response": response,
    }
    cls = error_class_for_status(status)
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after_seconds(response.headers), **kwargs)
    return cls(message, **kwargs)
