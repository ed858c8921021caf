"""The request loop: one call becomes attempts over a transport, within its time budget.

It adds the constant headers (and a call's own ``Idempotency-Key``), gives each attempt its
share of the budget, turns an error status into its exception, and retries per ``_retry.py``.
It knows nothing of aiohttp: a transport (:class:`AsyncTransport`) carries each attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define, evolve, field
from multidict import CIMultiDict

from telnyx_messaging._errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    Attempt,
    ConfigurationError,
)
from telnyx_messaging._http.codec import decode_model, encode_body, error_from_response
from telnyx_messaging._http.retry import (
    backoff_seconds,
    is_retryable,
    maybe_processed_status,
    server_wait,
    wait_to_sleep,
)
from telnyx_messaging._http.transports.base import AsyncTransport, case_insensitive_answer
from telnyx_messaging._wire import Request, Response

if TYPE_CHECKING:
    from telnyx_messaging._config import Timeout

__all__ = ["Connection", "OnRetry", "RequestLoop", "capture_responses"]

#: ``on_retry(error, wait)``: called before each wait between attempts (see AsyncClient).
OnRetry = Callable[[APIError, float], object]

# Methods that change nothing on the server: whether Telnyx "processed" them does not matter.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REDACTED = "[REDACTED]"

T = TypeVar("T")
log = logging.getLogger("telnyx_messaging")

_captured: ContextVar[list[Response] | None] = ContextVar("telnyx_captured", default=None)


@contextlib.contextmanager
def capture_responses() -> Iterator[list[Response]]:
    """Collect the raw HTTP response of every attempt made inside the block, in order.

    ::

        with capture_responses() as responses:
            msg = await client.messages.send(to=..., from_=..., text="hi")
        print(responses[-1].status, responses[-1].headers["x-request-id"])

    Tasks started inside the block (``asyncio.gather``) are collected too. Costs one
    context-variable look-up per request when unused.
    """
    responses: list[Response] = []
    token = _captured.set(responses)
    try:
        yield responses
    finally:
        _captured.reset(token)


@define
class Connection:
    """What a client and its ``with_options`` copies share: the transport and its open state.

    Headers are built once; a case-insensitive multidict is what aiohttp sends without
    converting, and what a call copies to add its own ``Idempotency-Key``.
    """

    transport: AsyncTransport
    base_headers: CIMultiDict[str] = field(repr=False)  # they hold the API key
    body_headers: CIMultiDict[str] = field(repr=False)
    #: The API key, to strip from anything an error keeps (an answer may echo our headers).
    secret: str = field(repr=False)
    closed: bool = False
    #: Set by close() to wake calls sleeping between attempts; made on the first such sleep,
    #: inside the running loop.
    wake: asyncio.Event | None = field(default=None, repr=False)

    def close(self) -> None:
        """Start nothing more, and end the waits between attempts now."""
        self.closed = True
        if self.wake is not None:
            self.wake.set()

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` before another attempt, or less if the connection is closed."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        if self.wake is None:
            self.wake = asyncio.Event()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.wake.wait(), seconds)

    @classmethod
    def open(
        cls, transport: AsyncTransport, headers: Mapping[str, str], *, secret: str
    ) -> Connection:
        """A connection sending ``headers`` on every request (plus the JSON type with a body)."""
        return cls(
            transport,
            CIMultiDict(headers),
            CIMultiDict({**headers, "Content-Type": "application/json"}),
            secret,
        )


class RequestLoop:
    """Sends calls for one set of options (base URL, timeout, retries) over a connection."""

    __slots__ = ("base_url", "connection", "max_retries", "on_retry", "send_attempt", "timeout")

    def __init__(
        self,
        connection: Connection,
        *,
        base_url: str,
        timeout: Timeout,
        max_retries: int,
        on_retry: OnRetry | None = None,
    ) -> None:
        self.connection = connection
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.on_retry = on_retry
        #: What carries each attempt: the transport, or what telemetry wraps around it
        #: (``_telemetry/client.py``). Bound once, so an attempt costs no extra look-up.
        self.send_attempt: Callable[[Request], Coroutine[Any, Any, Response]] = (
            connection.transport.handle_async_request
        )

    def with_max_retries(self, max_retries: int) -> RequestLoop:
        """The same loop with another retry count, over the same connection."""
        return RequestLoop(
            self.connection,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=max_retries,
            on_retry=self.on_retry,
        )

    async def call(
        self,
        method: str,
        path: str,
        cls: type[T],
        *,
        body: Mapping[str, Any] | None = None,
        query: Sequence[tuple[str, str]] | None = None,
        idempotency_key: str | None = None,
        envelope: bool = True,
    ) -> T:
        """Make a call and structure its answer into ``cls``."""
        # The answer is never a local of this frame: an error's traceback would keep it
        # whole, out of reach of redaction.
        try:
            return decode_model(
                await self.request(
                    method, path, body=body, query=query, idempotency_key=idempotency_key
                ),
                cls,
                envelope=envelope,
            )
        except APIResponseValidationError as exc:
            failure = exc
        # Raised here, outside the except block.
        raise self._unreadable(failure, method, idempotency_key)

    async def call_with(
        self,
        method: str,
        path: str,
        decode: Callable[[Response], T],
        *,
        query: Sequence[tuple[str, str]] | None = None,
    ) -> T:
        """Make a call and read its answer with ``decode`` (a page, for instance)."""
        try:
            return decode(await self.request(method, path, query=query))
        except APIResponseValidationError as exc:
            failure = exc
        raise self._unreadable(failure, method, None)

    def _unreadable(
        self, failure: APIResponseValidationError, method: str, idempotency_key: str | None
    ) -> APIError:
        """The error for a 2xx that does not structure, with what is known added."""
        if failure.history:  # concluded by the request loop already (e.g. too large)
            return failure
        return self._conclude(
            failure, method, (_record(failure, failure.attempts),), idempotency_key
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Sequence[tuple[str, str]] | None = None,
        idempotency_key: str | None = None,
    ) -> Response:
        """Send a request, retrying per policy; a 2xx answer or an ``APIError``.

        Every attempt carries the same ``idempotency_key``, so Telnyx acts on the call once.
        """
        if self.connection.closed:
            raise _closed_error()
        data = None if body is None else encode_body(body)
        url = self.base_url + path
        total = self.timeout.total
        deadline = None if total is None else time.monotonic() + total
        # The first attempt runs outside the retry loop's bookkeeping: a call that succeeds
        # pays for none of it.
        try:
            return self._finish(
                await self._attempt(method, url, data, query, idempotency_key, 1, deadline)
            )
        except APIError as exc:
            failure = exc
        # The key stays in the headers the transport was given; nothing here names them, so no
        # frame of this loop holds them when an error passes through (capture_locals).
        return await self._retry(method, url, data, query, idempotency_key, deadline, failure)

    async def _retry(
        self,
        method: str,
        url: str,
        data: bytes | None,
        query: Sequence[tuple[str, str]] | None,
        idempotency_key: str | None,
        deadline: float | None,
        failure: APIError,
    ) -> Response:
        """Retry a failed call until it succeeds, fails for good, or runs out of attempts/time."""
        history = [_record(failure, 1)]
        number = 1
        while True:
            if self.connection.closed:
                raise _closed_error(
                    self._conclude(failure, method, tuple(history), idempotency_key)
                )
            wait = self._wait_before_next(method, url, failure, number, deadline)
            if wait is None:
                raise self._conclude(failure, method, tuple(history), idempotency_key)
            if self.on_retry is not None:
                self.on_retry(failure, wait)
            await self.connection.sleep(wait_to_sleep(wait))
            if self.connection.closed:  # closed while we waited: start nothing more
                raise _closed_error(
                    self._conclude(failure, method, tuple(history), idempotency_key)
                )
            number += 1
            try:
                return self._finish(
                    await self._attempt(method, url, data, query, idempotency_key, number, deadline)
                )
            except APIError as exc:
                failure = exc
            history.append(_record(failure, number))

    def _wait_before_next(
        self, method: str, url: str, failure: APIError, failed: int, deadline: float | None
    ) -> float | None:
        """How long to wait before another attempt, or ``None`` when there is to be none."""
        if not is_retryable(failure):
            return None
        attempts = self.max_retries + 1
        if failed >= attempts:
            return None
        asked = server_wait(failure)
        wait = backoff_seconds(failed) if asked is None else asked
        if deadline is not None and time.monotonic() + wait >= deadline:
            # Sleeping past the caller's budget only to fail later helps no one. The wait the
            # server asked for is on the error already (RateLimitError.retry_after).
            log.info(
                "not retrying %s %s: the %.2fs wait exceeds the time left in the budget",
                method,
                url,
                wait,
            )
            return None
        log.info(
            "retrying %s %s in %.2fs (attempt %d of %d failed: %s)",
            method,
            url,
            wait,
            failed,
            attempts,
            _reason(failure),
        )
        return wait

    def _conclude(
        self,
        failure: APIError,
        method: str,
        history: Sequence[Attempt],
        idempotency_key: str | None,
    ) -> APIError:
        """Give the failure that ends a call what the caller needs to decide what to do next."""
        failure = _redacted(failure, self.connection.secret)
        failure.history = tuple(history)
        failure.retryable = is_retryable(failure)
        failure.idempotency_key = idempotency_key
        failure.request_id = next(
            (a.request_id for a in reversed(history) if a.request_id is not None), None
        )
        unknown = method not in _SAFE_METHODS and any(a.maybe_processed for a in history)
        failure.outcome_unknown = unknown
        if unknown:
            if idempotency_key is not None:
                failure._advice = (
                    "; the outcome is unknown: the message may have been accepted. Do not "
                    "resend it blindly: resend with the same "
                    f"idempotency_key={idempotency_key!r}, and Telnyx acts on it once"
                )
            else:
                failure._advice = (
                    "; the outcome is unknown: Telnyx may have carried the request out. "
                    "Check before repeating it"
                )
        return failure

    # _attempt and _finish are plain functions around the transport's coroutine, not a coroutine
    # of their own: every extra frame is walked again each time aiohttp resumes the request.

    def _attempt(
        self,
        method: str,
        url: str,
        data: bytes | None,
        query: Sequence[tuple[str, str]] | None,
        idempotency_key: str | None,
        attempt: int,
        deadline: float | None,
    ) -> Coroutine[Any, Any, Response]:
        """Start one try: the transport's coroutine with this attempt's headers and timeout."""
        # No closed check here: request() and _retry() check before every attempt.
        connection = self.connection
        headers = connection.base_headers if data is None else connection.body_headers
        if idempotency_key is not None:
            headers = headers.copy()
            headers["Idempotency-Key"] = idempotency_key
        timeout = self.timeout
        limit = timeout.first_attempt
        if attempt > 1 and deadline is not None:
            # Later attempts get only what is left of the call's budget. (The first gets all of
            # it; computing it there would also defeat the transport's ClientTimeout cache.)
            left = deadline - time.monotonic()
            if left <= 0:
                raise APITimeoutError(
                    f"{method} {url} ran out of its {timeout.total}s budget before "
                    f"attempt {attempt}",
                    method=method,
                    url=url,
                    attempts=attempt - 1,
                    request_sent=False,
                )
            limit = left if timeout.per_attempt is None else min(timeout.per_attempt, left)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s (attempt %d)", method, url, attempt)
        request = Request(method, url, headers, data, query, limit, timeout.connect, attempt)
        return self.send_attempt(request)

    def _finish(self, response: Response) -> Response:
        """Record the answer for capture_responses; turn an error status into its exception."""
        if response.status >= 300:
            # A transport of one's own may answer with a plain dict: the retry headers must
            # still be found whatever their case.
            response = _redact_response(case_insensitive_answer(response), self.connection.secret)
            _capture(response)
            raise error_from_response(response)
        # Inline, not _capture(): this runs on every successful call.
        captured = _captured.get()
        if captured is not None:
            captured.append(case_insensitive_answer(response))
        return response


def _capture(response: Response) -> None:
    captured = _captured.get()
    if captured is not None:
        captured.append(response)


def _closed_error(failure: APIError | None = None) -> ConfigurationError:
    """The error for a call on a closed client; ``failure`` is what an in-flight call met."""
    message = (
        "This AsyncClient is closed; create a new one (or keep using it inside "
        "`async with AsyncClient() as client:`)."
    )
    if failure is None:
        return ConfigurationError(message)
    error = ConfigurationError(
        f"{message} It was closed while this call was under way, so no further attempt was "
        f"made; the last attempt: {failure}"
    )
    # The failure is clean (redacted, no aiohttp exception chained): keep it for its details
    # (outcome_unknown, idempotency_key, history).
    error.__cause__ = failure
    return error


def _record(failure: APIError, number: int) -> Attempt:
    """The :class:`Attempt` for one failed try (and the finished frames it passed through
    emptied: the transport's held the request, and the request the API key)."""
    traceback.clear_frames(failure.__traceback__)
    response = failure.response
    if response is not None:
        return Attempt(
            number=number,
            status=response.status,
            error=None,
            request_id=response.headers.get("x-request-id"),
            elapsed=response.elapsed,
            maybe_processed=maybe_processed_status(response.status),
        )
    if isinstance(failure, APIConnectionError):
        kind, elapsed, sent = failure.kind, failure.elapsed, failure.request_sent
    else:  # pragma: no cover - every APIError without an answer is a connection error
        kind, elapsed, sent = type(failure).__name__, 0.0, True
    return Attempt(
        number=number,
        status=None,
        error=kind,
        request_id=None,
        elapsed=elapsed,
        maybe_processed=sent,
    )


def _redact_text(text: str, secret: str) -> str:
    return text.replace(secret, _REDACTED) if secret in text else text


def _redact_response(response: Response, secret: str) -> Response:
    """The answer without the API key, should it echo our request (a proxy or WAF page)."""
    key = secret.encode()
    body = response.body
    headers = response.headers
    echoed_in_headers = any(secret in v for v in headers.values())
    if key not in body and not echoed_in_headers:
        return response
    if echoed_in_headers:
        headers = CIMultiDict((k, _redact_text(v, secret)) for k, v in headers.items())
    return evolve(response, body=body.replace(key, _REDACTED.encode()), headers=headers)


def _redacted(failure: APIError, secret: str) -> APIError:
    """``failure`` with the API key removed from its text and the answer it keeps."""
    failure.message = _redact_text(failure.message, secret)
    failure.args = (failure.message,)
    response = failure.response
    if response is not None:
        failure.response = _redact_response(response, secret)
        if failure.response is not response:
            # What the answer was parsed into (a structuring error on __cause__) may quote it.
            failure.__cause__ = failure.__context__ = None
        if isinstance(failure, APIStatusError):
            failure.headers = failure.response.headers
    return failure


def _reason(exc: APIError) -> str:
    status = getattr(exc, "status", None)
    return str(status) if status is not None else type(exc).__name__
