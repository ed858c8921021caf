"""The aiohttp edge: the only module that touches aiohttp's client.

One method, :meth:`AiohttpTransport.handle_async_request`, turns a :class:`Request` into a
:class:`Response` or one of our connection errors. Everything around it (what to send, what
the answer means, whether to retry) lives in the pure core and the request loop.
"""

from __future__ import annotations

import asyncio
import math
import time

import aiohttp
from aiohttp import hdrs
from yarl import URL

from telnyx_messaging import _args
from telnyx_messaging._errors import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    InvalidArgumentError,
    ResponseTooLargeError,
)
from telnyx_messaging._http.transports.base import AsyncTransport
from telnyx_messaging._wire import Request, Response

__all__ = ["DEFAULT_MAX_CONNECTIONS", "DEFAULT_MAX_RESPONSE_SIZE", "AiohttpTransport"]

#: aiohttp's own default, and a comfortable ceiling for fan-out: Telnyx accepts about
#: 50 SMS/s per account, so more open sockets buy queueing, not throughput.
DEFAULT_MAX_CONNECTIONS = 100

#: 10 MiB, decompressed. A page of 250 messages is well under 1 MiB; anything near this is a
#: broken proxy or not Telnyx, and reading it all could exhaust memory (a gzip bomb inflates
#: 0.5 MB into 500 MB).
DEFAULT_MAX_RESPONSE_SIZE = 10 * 1024 * 1024

# Failures that happen before a byte of the request is sent: Telnyx never saw the request.
_NOT_SENT: tuple[type[BaseException], ...] = (aiohttp.ClientConnectorError,)
# aiohttp >= 3.10 says when the connect phase timed out.
if hasattr(aiohttp, "ConnectionTimeoutError"):  # pragma: no branch
    _NOT_SENT = (*_NOT_SENT, aiohttp.ConnectionTimeoutError)


class AiohttpTransport(AsyncTransport):
    """The default transport: requests over one pooled ``aiohttp.ClientSession``.

    A ``session`` passed in is borrowed and never closed here; otherwise one is created on
    first use, inside the running event loop (creating it earlier binds it to the wrong loop),
    with at most ``max_connections`` connections, and closed by :meth:`aclose`. After
    :meth:`aclose` it sends nothing more (no new pool is opened). An answer larger than
    ``max_response_size`` bytes (after decompression) raises
    :class:`~telnyx_messaging.ResponseTooLargeError` as soon as it is exceeded. Wrap it to
    build a transport of your own (logging, recording) on top of the default.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            # Otherwise the first call fails deep in aiohttp with an AttributeError.
            raise InvalidArgumentError(
                f"session must be an aiohttp.ClientSession, got {type(session).__name__}"
            )
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._max_connections = _args.whole_number("max_connections", max_connections, minimum=1)
        self._max_response_size = _args.whole_number(
            "max_response_size", max_response_size, minimum=1
        )
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}
        self._urls: dict[str, URL] = {}
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop our own session lives in

    @property
    def pool_size(self) -> int | None:
        """``max_connections`` for the pool it opens itself; None with a borrowed session."""
        return self._max_connections if self._owns_session else None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300)
        # No cookie jar: the API authenticates with a bearer token, and filtering and storing
        # cookies costs every request a few microseconds for nothing.
        session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        # aiohttp quietly resends a GET/DELETE once when a pooled connection turns out closed.
        # Our retry policy decides resends, and counts them in `attempts`; aiohttp's own test
        # utilities switch this off the same way.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        self._session = session
        self._loop = asyncio.get_running_loop()
        return session

    def _timeout(self, total: float | None, connect: float | None) -> aiohttp.ClientTimeout:
        # ClientTimeout is immutable; the same few values recur on every call.
        key = (total, connect)
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) > 64:  # budgets shrink across retries: keep the cache small
                self._timeouts.clear()
            # sock_connect, not connect: aiohttp's `connect` also counts the wait for a free
            # pooled connection, which a large fan-out legitimately spends; it would also arm
            # a timer on every request, even on a reused connection. ceil_threshold=inf: aiohttp
            # rounds the deadline of a timeout of 5 s or more up to a whole second of the loop's
            # clock, overshooting the caller's budget by up to 1 s.
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=total, sock_connect=connect, ceil_threshold=math.inf
            )
        return timeout

    async def handle_async_request(self, request: Request) -> Response:
        """Send one request and read the whole answer; network failures become our errors."""
        if self._closed:
            raise ConfigurationError(
                "This transport is closed (its client was closed); it sends nothing more."
            )
        method, url = request.method, request.url
        session = self._session or self._open()
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            raise ConfigurationError(
                "This client's connection pool belongs to another event loop (was it used "
                "in an earlier asyncio.run()?). Create the client inside the loop that uses it, "
                "one client per loop."
            )
        target = self._urls.get(url)
        if target is None:
            if len(self._urls) > 1024:  # ids make URLs unbounded; constant paths refill at once
                self._urls.clear()
            # The path is escaped already (ids are percent-encoded by the caller).
            target = self._urls[url] = URL(url, encoded=True)
        started = time.monotonic()
        try:
            async with session.request(
                method,
                target,
                headers=request.headers,
                data=request.body,
                params=request.query,
                timeout=self._timeout(request.timeout, request.connect_timeout),
                # A borrowed session may raise on error statuses; we read them ourselves.
                raise_for_status=False,
                # Never follow: a 30x to a POST would turn a send into a GET of something else.
                allow_redirects=False,
            ) as answer:
                limit = self._max_response_size
                # aiohttp's istr names: a case-insensitive look-up without case-folding the name
                # first (ClientResponse.content_length costs more, in Python).
                headers = answer.headers
                length = headers.get(hdrs.CONTENT_LENGTH)
                if (
                    length is not None
                    and hdrs.CONTENT_ENCODING not in headers
                    and length.isdigit()
                    and int(length) <= limit
                ):
                    # The usual answer: its size is known, not compressed, and within bounds.
                    content = await answer.read()
                else:
                    capped = await _read_at_most(answer, limit)
                    if capped is None:
                        raise ResponseTooLargeError(
                            f"{method} {url} answered {answer.status} with a body over "
                            f"{limit} bytes (decompressed); no Telnyx answer is near that. "
                            "Raise max_response_size if a proxy legitimately sends more",
                            limit=limit,
                            method=method,
                            url=url,
                            attempts=request.attempt,
                        )
                    content = capped
                return Response(
                    status=answer.status,
                    headers=headers,
                    body=content,
                    method=method,
                    url=url,
                    attempt=request.attempt,
                    elapsed=time.monotonic() - started,
                )
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            error = _connection_error(exc, request, time.monotonic() - started)
        # Raised here, outside the except block, and not chained: aiohttp's exceptions (and the
        # frames of their tracebacks) hold our request headers, the API key among them. Their
        # class and text are in the message and in `kind`.
        raise error

    async def aclose(self) -> None:
        """Close the session if we made it; a borrowed one is the lender's to close.

        Either way, the transport sends nothing after this.
        """
        self._closed = True
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            self._loop = None
            await session.close()


async def _read_at_most(answer: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body in chunks, as aiohttp decompresses it; ``None`` once it exceeds ``limit``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in answer.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None  # leaving the `async with` closes the connection mid-answer
        chunks.append(chunk)
    return b"".join(chunks)


def _connection_error(
    failure: BaseException, request: Request, elapsed: float
) -> APIConnectionError:
    method, url, attempt = request.method, request.url, request.attempt
    sent = not isinstance(failure, _NOT_SENT)
    kind = type(failure).__name__
    if isinstance(failure, asyncio.TimeoutError):
        return APITimeoutError(
            f"{method} {url} timed out after {elapsed:.1f}s "
            f"(timeout {request.timeout}s, connect timeout {request.connect_timeout}s); "
            "raise it with timeout=Timeout(...) if calls are legitimately slow",
            method=method,
            url=url,
            attempts=attempt,
            request_sent=sent,
            kind=kind,
            elapsed=elapsed,
        )
    return APIConnectionError(
        f"{method} {url} failed: {kind}: {failure}",
        method=method,
        url=url,
        attempts=attempt,
        request_sent=sent,
        kind=kind,
        elapsed=elapsed,
    )
