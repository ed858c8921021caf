"""``Client``: the blocking face of :class:`~telnyx_messaging.AsyncClient`, for sync code.

Django and Flask views, scripts and notebooks call plain methods; each call runs the async
client's coroutine on a private event loop thread (:mod:`._sync_loop`) and waits for it. There
is no second copy of the endpoint code: the namespaces are generated from the async ones
(:mod:`._sync_resources`, by ``scripts/generate_sync.py``).
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from telnyx_messaging._client import AsyncClient, resolve_api_key
from telnyx_messaging._config import _UNSET, DEFAULT_TIMEOUT, Timeout, _Unset
from telnyx_messaging._http.transports.aiohttp import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RESPONSE_SIZE,
)
from telnyx_messaging._sync.loop import LoopThread
from telnyx_messaging._sync.resources import ClientNamespaces

if TYPE_CHECKING:
    from telnyx_messaging._http.loop import OnRetry
    from telnyx_messaging._http.transports.base import AsyncTransport
    from telnyx_messaging._telemetry import Telemetry
    from telnyx_messaging.webhooks._signature import PublicKeyInput

__all__ = ["Client"]


class Client(ClientNamespaces):
    """A blocking client for the Telnyx Messaging API v2, safe to share between threads.

    ::

        client = Client()  # TELNYX_API_KEY from the environment; one per process is plenty

        def view(request):  # any thread of Django, Flask, gunicorn --threads ...
            msg = client.messages.send(to="+13125550002", from_="+18445550001", text="Hi")
            return msg.id

    The same namespaces, methods, arguments, models and exceptions as :class:`AsyncClient`
    (whose options it takes, but for ``session``: an aiohttp session belongs to one event
    loop), with plain methods: ``list()`` returns a :class:`SyncPager` to iterate with
    ``for``. Calls from many threads share one connection pool and run concurrently on a
    private event loop thread, started on the first call. Close it with :meth:`close` or a
    ``with`` block. A ``transport`` (:class:`MockTransport` in tests) and ``on_retry`` run on
    that thread too.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        public_key: PublicKeyInput | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        transport: AsyncTransport | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        on_retry: OnRetry | None = None,
        telemetry: Telemetry | bool | None = None,
    ) -> None:
        self._async = AsyncClient(
            resolve_api_key(api_key, entry_point="Client(api_key=...)"),
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            public_key=public_key,
            max_connections=max_connections,
            transport=transport,
            max_response_size=max_response_size,
            on_retry=on_retry,
            telemetry=telemetry,
        )
        self._loop = LoopThread(self._async.close)
        self._borrowed = False

    @property
    def base_url(self) -> str:
        """The API root every path is appended to."""
        return self._async.base_url

    @property
    def timeout(self) -> Timeout:
        """The timeouts calls made through this client use."""
        return self._async.timeout

    @property
    def max_retries(self) -> int:
        """How many times a failed call is retried (0: never)."""
        return self._async.max_retries

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`close` has been called (on this client or the one it was copied from)."""
        return self._loop.closed

    def with_options(
        self,
        *,
        timeout: float | Timeout | _Unset | None = _UNSET,
        max_retries: int | _Unset = _UNSET,
    ) -> Client:
        """A copy with other timeouts or retries that shares this client's pool and thread.

        As :meth:`AsyncClient.with_options`: closing the copy leaves the pool open; closing
        the original closes it for both.
        """
        copy = object.__new__(Client)
        copy._async = self._async.with_options(timeout=timeout, max_retries=max_retries)
        copy._loop = self._loop
        copy._borrowed = True
        return copy

    def close(self) -> None:
        """Close the connection pool and stop the client's event loop thread.

        Harmless to call twice. Close it once no other thread is mid-call: a call still in
        flight ends with ``concurrent.futures.CancelledError``. A client that is never closed
        does the same when it is garbage-collected or the interpreter exits.
        """
        if not self._borrowed:
            self._loop.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        # Never the key: reprs end up in logs and tracebacks.
        state = " closed" if self.is_closed else ""
        return (
            f"<Client{state} base_url={self.base_url!r} "
            f"max_retries={self.max_retries} timeout={self.timeout!r}>"
        )
