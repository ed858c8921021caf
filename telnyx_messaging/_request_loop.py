"""The request loop: one call becomes attempts over a transport, within its time budget.

It adds the constant headers (and a call's own ``Idempotency-Key``), gives each attempt its
share of the budget, turns an error status into its exception, and retries per ``_retry.py``.
It knows nothing of aiohttp: a transport (:class:`AsyncTransport`) carries each attempt.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define, field
from multidict import CIMultiDict

from ._errors import APIError, APITimeoutError, ConfigurationError
from ._http import decode_model, encode_body, error_from_response
from ._request import AsyncTransport, Request
from ._response import Response
from ._retry import backoff_seconds, is_retryable, server_wait

if TYPE_CHECKING:
    from ._client import Timeout

__all__ = ["Connection", "RequestLoop", "capture_responses"]

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
    closed: bool = False

    @classmethod
    def open(cls, transport: AsyncTransport, headers: Mapping[str, str]) -> Connection:
        """A connection sending ``headers`` on every request (plus the JSON type with a body)."""
        return cls(
            transport,
            CIMultiDict(headers),
            CIMultiDict({**headers, "Content-Type": "application/json"}),
        )


class RequestLoop:
    """Sends calls for one set of options (base URL, timeout, retries) over a connection."""

    __slots__ = ("base_url", "connection", "max_retries", "timeout")

    def __init__(
        self, connection: Connection, *, base_url: str, timeout: Timeout, max_retries: int
    ) -> None:
        self.connection = connection
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries

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
        response = await self.request(
            method, path, body=body, query=query, idempotency_key=idempotency_key
        )
        return decode_model(response, cls, envelope=envelope)

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
        connection = self.connection
        if connection.closed:
            raise ConfigurationError(
                "This AsyncClient is closed; create a new one (or keep using it inside "
                "`async with AsyncClient() as client:`)."
            )
        if body is None:
            headers, data = connection.base_headers, None
        else:
            headers, data = connection.body_headers, encode_body(body)
        if idempotency_key is not None:
            headers = headers.copy()
            headers["Idempotency-Key"] = idempotency_key
        url = self.base_url + path
        total = self.timeout.total
        deadline = None if total is None else time.monotonic() + total
        try:
            # The first attempt runs outside the retry machinery: stamina's setup costs ~18us a
            # call (measured, benchmarks/README.md), a tenth of a whole send, for nothing when
            # the call succeeds.
            return _finish(await self._attempt(method, url, headers, data, query, 1, deadline))
        except APIError as exc:
            if self.max_retries == 0 or not is_retryable(exc):
                raise
            first_failure = exc
        return await self._retry(method, url, headers, data, query, deadline, first_failure)

    async def _retry(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        data: bytes | None,
        query: Sequence[tuple[str, str]] | None,
        deadline: float | None,
        first_failure: APIError,
    ) -> Response:
        import stamina  # only a failed call pays for importing and setting up the retry loop

        attempts = self.max_retries + 1

        def wait_before_next(exc: Exception) -> bool | float:
            if not isinstance(exc, APIError) or not is_retryable(exc):
                return False
            failed = exc.attempts
            if failed >= attempts:
                return False
            asked = server_wait(exc)
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
                return False
            log.info(
                "retrying %s %s in %.2fs (attempt %d of %d failed: %s)",
                method,
                url,
                wait,
                failed,
                attempts,
                _reason(exc),
            )
            return wait

        async for attempt in stamina.retry_context(
            on=wait_before_next, attempts=attempts, timeout=None
        ):
            with attempt:
                if attempt.num == 1:
                    # Replay the first attempt's failure so stamina schedules the first wait.
                    raise first_failure
                return _finish(
                    await self._attempt(method, url, headers, data, query, attempt.num, deadline)
                )
        raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover

    # _attempt and _finish are plain functions around the transport's coroutine, not a coroutine
    # of their own: every extra frame is walked again each time aiohttp resumes the request.

    def _attempt(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        data: bytes | None,
        query: Sequence[tuple[str, str]] | None,
        attempt: int,
        deadline: float | None,
    ) -> Coroutine[Any, Any, Response]:
        """Start one try: the transport's coroutine with this attempt's timeout."""
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
                )
            limit = left if timeout.per_attempt is None else min(timeout.per_attempt, left)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s (attempt %d)", method, url, attempt)
        request = Request(method, url, headers, data, query, limit, timeout.connect, attempt)
        return self.connection.transport.handle_async_request(request)


def _finish(response: Response) -> Response:
    """Record the answer for capture_responses; turn an error status into its exception."""
    captured = _captured.get()
    if captured is not None:
        captured.append(response)
    if response.status >= 300:
        raise error_from_response(response)
    return response


def _reason(exc: APIError) -> str:
    status = getattr(exc, "status", None)
    return str(status) if status is not None else type(exc).__name__
