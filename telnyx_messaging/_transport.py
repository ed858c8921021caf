"""The aiohttp edge: the only module that touches aiohttp's client.

One method, :meth:`AiohttpTransport.handle_async_request`, turns a :class:`Request` into a
:class:`Response` or one of our connection errors. Everything around it (what to send, what
the answer means, whether to retry) lives in the pure core and the request loop.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
from yarl import URL

from . import _args
from ._errors import APIConnectionError, APITimeoutError, ConfigurationError
from ._request import AsyncTransport, Request
from ._response import Response

__all__ = ["DEFAULT_MAX_CONNECTIONS", "AiohttpTransport"]

#: aiohttp's own default, and a comfortable ceiling for fan-out: Telnyx accepts about
#: 50 SMS/s per account, so more open sockets buy queueing, not throughput.
DEFAULT_MAX_CONNECTIONS = 100


class AiohttpTransport(AsyncTransport):
    """The default transport: requests over one pooled ``aiohttp.ClientSession``.

    A ``session`` passed in is borrowed and never closed here; otherwise one is created on
    first use, inside the running event loop (creating it earlier binds it to the wrong loop),
    with at most ``max_connections`` connections, and closed by :meth:`aclose`. Wrap it to
    build a transport of your own (logging, recording) on top of the default.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self._session = session
        self._owns_session = session is None
        self._max_connections = _args.whole_number("max_connections", max_connections, minimum=1)
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}
        self._urls: dict[str, URL] = {}
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop our own session lives in

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
            # a timer on every request, even on a reused connection.
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(total=total, sock_connect=connect)
        return timeout

    async def handle_async_request(self, request: Request) -> Response:
        """Send one request and read the whole answer; network failures become our errors."""
        method, url, attempt = request.method, request.url, request.attempt
        timeout, connect_timeout = request.timeout, request.connect_timeout
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
                timeout=self._timeout(timeout, connect_timeout),
                # A borrowed session may raise on error statuses; we read them ourselves.
                raise_for_status=False,
                # Never follow: a 30x to a POST would turn a send into a GET of something else.
                allow_redirects=False,
            ) as answer:
                content = await answer.read()
                return Response(
                    status=answer.status,
                    headers=answer.headers,
                    body=content,
                    method=method,
                    url=url,
                    attempt=attempt,
                    elapsed=time.monotonic() - started,
                )
        except asyncio.TimeoutError as exc:
            raise APITimeoutError(
                f"{method} {url} timed out after {time.monotonic() - started:.1f}s "
                f"(timeout {timeout}s, connect timeout {connect_timeout}s); "
                "raise it with timeout=Timeout(...) if calls are legitimately slow",
                method=method,
                url=url,
                attempts=attempt,
            ) from exc
        except aiohttp.ClientError as exc:
            error = APIConnectionError(
                f"{method} {url} failed: {type(exc).__name__}: {exc}",
                method=method,
                url=url,
                attempts=attempt,
            )
            # A ClientResponseError's request_info holds our request headers, the API key
            # among them: it is not chained, so no traceback or debugger can show it.
            hidden = isinstance(exc, aiohttp.ClientResponseError)
            raise error from (None if hidden else exc)

    async def aclose(self) -> None:
        """Close the session if we made it; a borrowed one is the lender's to close."""
        if self._owns_session and self._session is not None:
            session, self._session = self._session, None
            self._loop = None
            await session.close()
