"""The pure core of every call: request values in, models or exceptions out. No I/O here.

Like gidgethub's ``sansio``: encoding bodies and query strings, and turning ``(status, headers,
body)`` into a model or the right exception, are plain functions over plain values, so they are
tested without a socket and shared by every transport. Whether and when to retry is decided in
``_retry.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from telnyx_messaging._convert import structure, structure_answer
from telnyx_messaging._errors import (
    APIResponseValidationError,
    APIStatusError,
    InvalidArgumentError,
    RateLimitError,
    error_class_for_status,
)
from telnyx_messaging._http.retry import retry_after_seconds
from telnyx_messaging._models import ErrorDetail
from telnyx_messaging._wire import Response

__all__ = [
    "DEFAULT_BASE_URL",
    "decode_model",
    "encode_body",
    "encode_query",
    "error_from_response",
    "invalid_response",
    "load_json",
    "new_idempotency_key",
]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"


def new_idempotency_key() -> str:
    """A fresh ``Idempotency-Key`` for a send: a random UUID4 string.

    Make one before sending when the send may be cancelled or the process may stop: pass it
    as ``idempotency_key=`` and, if the outcome is unknown, resend with the same key; Telnyx
    acts on it once. (As ``str(uuid.uuid4())``, in half the time: it runs per send.)

    .. versionadded:: 0.2.0
    """
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
        pass
    # Raised outside the except block: the JSONDecodeError (as __context__) would keep a
    # second copy of the body, out of reach of redaction.
    raise invalid_response(response, "not JSON")


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
        wait = retry_after_seconds(response.headers)
        asked = "no wait given" if wait is None else f"asked to wait {wait:g}s"
        return RateLimitError(f"{message} (rate limited: {asked})", retry_after=wait, **kwargs)
    return cls(message, **kwargs)
