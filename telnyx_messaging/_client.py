"""``AsyncClient``: its options, its lifecycle and its resource namespaces.

Calls go through the request loop (``_request_loop.py``) over a transport (``_transport.py``
by default); this module only decides which, with what options.
"""

from __future__ import annotations

import os
import platform
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from telnyx_messaging import _args, _logging, _telemetry
from telnyx_messaging._config import _UNSET, DEFAULT_TIMEOUT, Timeout, _coerce_timeout, _Unset
from telnyx_messaging._errors import ConfigurationError, InvalidArgumentError
from telnyx_messaging._http.codec import DEFAULT_BASE_URL
from telnyx_messaging._http.loop import Connection, OnRetry, RequestLoop, capture_responses
from telnyx_messaging._http.transports.aiohttp import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RESPONSE_SIZE,
    AiohttpTransport,
)
from telnyx_messaging._http.transports.base import AsyncTransport
from telnyx_messaging._version import __version__

if TYPE_CHECKING:
    import aiohttp

    from telnyx_messaging._resources.bulk_updates import MessagingNumbersBulkUpdates
    from telnyx_messaging._resources.messages import Messages
    from telnyx_messaging._resources.numbers import MobilePhoneNumbers, PhoneNumbers
    from telnyx_messaging._resources.optouts import MessagingOptouts
    from telnyx_messaging._telemetry import Telemetry
    from telnyx_messaging.webhooks import ClientWebhooks
    from telnyx_messaging.webhooks._signature import PublicKeyInput

__all__ = ["AsyncClient", "Timeout", "capture_responses"]

T = TypeVar("T")


def _check_base_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError(
            f"base_url must be an http(s) URL with a host, like {DEFAULT_BASE_URL!r}; got {url!r}"
        )
    return url.rstrip("/")


def resolve_api_key(api_key: object, *, entry_point: str = "AsyncClient(api_key=...)") -> str:
    """``api_key``, else ``TELNYX_API_KEY``, checked; a missing one is refused naming
    ``entry_point``, the way the user gives a key (``Client(api_key=...)``, a CLI flag)."""
    return _check_api_key(
        api_key if api_key is not None else os.environ.get("TELNYX_API_KEY"),
        entry_point=entry_point,
    )


def _check_api_key(key: object, *, entry_point: str = "AsyncClient(api_key=...)") -> str:
    if not key:
        raise ConfigurationError(
            f"No Telnyx API key: pass {entry_point} or set the TELNYX_API_KEY "
            "environment variable (Mission Control Portal > API Keys)."
        )
    if not isinstance(key, str):
        raise ConfigurationError(f"The Telnyx API key must be a string, got {type(key).__name__}")
    # Sent as a header: a control character (NUL, DEL, CR/LF) would make every call fail inside
    # aiohttp (or split the header); spaces around it are a stray newline or paste. The key is
    # never quoted back: it may be a real one.
    if key != key.strip() or not (key.isascii() and key.isprintable()):
        raise ConfigurationError(
            "The Telnyx API key must be printable ASCII with no spaces or line breaks around it "
            "and no control characters (check for a stray newline or NUL when reading it from a "
            "file or the TELNYX_API_KEY variable)."
        )
    return key


def _coerce_retries(max_retries: int) -> int:
    return _args.whole_number("max_retries", max_retries, minimum=0)


class AsyncClient:
    """An asyncio client for the Telnyx Messaging API v2.

    ::

        async with AsyncClient() as client:  # TELNYX_API_KEY from the environment
            msg = await client.messages.send(to="+13125550002", from_="+18445550001", text="Hi")

    ``api_key`` falls back to ``TELNYX_API_KEY``; ``base_url`` to ``TELNYX_BASE_URL``, then
    ``https://api.telnyx.com/v2``; ``public_key`` (for :attr:`webhooks`) to
    ``TELNYX_PUBLIC_KEY``. A ``session`` you pass is borrowed and never closed by the client;
    otherwise the client opens one on first use and closes it in :meth:`close` (or at the end
    of ``async with``). ``max_connections`` caps the pool the client opens itself.

    ``transport`` replaces aiohttp altogether: every attempt goes to its
    :meth:`~telnyx_messaging.AsyncTransport.handle_async_request`, and :meth:`close` closes
    it. :class:`~telnyx_messaging.MockTransport` answers in-process, for tests. It cannot be
    combined with ``session``, ``max_connections`` or ``max_response_size``, which configure
    the default transport. ``max_response_size`` (bytes, decompressed; default 10 MiB) bounds
    an answer: a larger one raises :class:`~telnyx_messaging.ResponseTooLargeError`.

    ``on_retry(error, wait)`` is called before each wait between attempts with the failure
    that is retried and the seconds about to be waited: count or report retries with it (the
    client itself only logs them at INFO on the ``telnyx_messaging`` logger). What it raises
    ends the call.

    ``telemetry`` reports calls, attempts, retries and pauses to OpenTelemetry (the ``otel``
    extra; see ``docs/observability.md``): ``True`` or a
    :class:`~telnyx_messaging.telemetry.Telemetry` switches it on for this client, ``False``
    off, and ``None`` (the default) follows :func:`telnyx_messaging.telemetry.enable`.

    .. versionadded:: 0.2.0 ``transport``, ``max_response_size``, ``on_retry``.
    .. versionadded:: 0.2.0 ``telemetry``.
    """

    # Set by _configure only, the one place a client (or a with_options copy) gets its state.
    _base_url: str
    _timeout: Timeout
    _max_retries: int
    _public_key: PublicKeyInput | None
    _connection: Connection
    _owns_connection: bool
    _on_retry: OnRetry | None
    _telemetry: Telemetry | None
    _requests: RequestLoop

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        session: aiohttp.ClientSession | None = None,
        public_key: PublicKeyInput | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        transport: AsyncTransport | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        on_retry: OnRetry | None = None,
        telemetry: Telemetry | bool | None = None,
    ) -> None:
        key = resolve_api_key(api_key)
        if on_retry is not None and not callable(on_retry):
            raise InvalidArgumentError(
                f"on_retry must be a function of (error, wait), got {type(on_retry).__name__}"
            )
        if transport is None:
            transport = AiohttpTransport(
                session=session,
                max_connections=max_connections,
                max_response_size=max_response_size,
            )
        elif not isinstance(transport, AsyncTransport):
            raise InvalidArgumentError(
                "transport must be an AsyncTransport (e.g. MockTransport(handler)), got "
                f"{type(transport).__name__}"
            )
        elif (
            session is not None
            or max_connections != DEFAULT_MAX_CONNECTIONS
            or max_response_size != DEFAULT_MAX_RESPONSE_SIZE
        ):
            raise ConfigurationError(
                "session, max_connections and max_response_size configure the default aiohttp "
                "transport; with transport=... set them on that transport instead"
            )
        url = base_url or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL
        agent = f"telnyx-messaging/{__version__} python/{platform.python_version()}"
        headers = {
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
            "User-Agent": agent,
        }
        self._configure(
            Connection.open(transport, headers, secret=key),
            owner=True,
            on_retry=on_retry,
            telemetry=_telemetry.resolve(telemetry),
            base_url=_check_base_url(url),
            timeout=_coerce_timeout(timeout),
            max_retries=_coerce_retries(max_retries),
            public_key=(
                public_key if public_key is not None else os.environ.get("TELNYX_PUBLIC_KEY")
            ),
        )
        _logging.configure_from_env()

    def _configure(
        self,
        connection: Connection,
        *,
        owner: bool,
        base_url: str,
        timeout: Timeout,
        max_retries: int,
        public_key: PublicKeyInput | None,
        on_retry: OnRetry | None,
        telemetry: Telemetry | None,
    ) -> None:
        """Give this client its whole state: the constructor and with_options both end here."""
        self._connection = connection
        self._on_retry = on_retry
        self._telemetry = telemetry
        self._owns_connection = owner
        self._base_url = base_url
        self._timeout = timeout
        self._max_retries = max_retries
        self._public_key = public_key
        if telemetry is None:  # off: the plain loop, and opentelemetry is never imported
            self._requests = RequestLoop(
                connection,
                base_url=base_url,
                timeout=timeout,
                max_retries=max_retries,
                on_retry=on_retry,
            )
        else:
            from telnyx_messaging._telemetry.client import TracedRequestLoop

            self._requests = TracedRequestLoop(
                connection,
                base_url=base_url,
                timeout=timeout,
                max_retries=max_retries,
                on_retry=on_retry,
                telemetry=telemetry,
            )

    # -- options -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root every path is appended to."""
        return self._base_url

    @property
    def timeout(self) -> Timeout:
        """The timeouts calls made through this client use."""
        return self._timeout

    @property
    def max_retries(self) -> int:
        """How many times a failed call is retried (0: never)."""
        return self._max_retries

    def with_options(
        self,
        *,
        timeout: float | Timeout | _Unset | None = _UNSET,
        max_retries: int | _Unset = _UNSET,
    ) -> AsyncClient:
        """A copy with other timeouts or retries that shares this client's connection pool.

        ``timeout`` means what it means for the constructor (``None``: no limit); an option
        not given keeps this client's value. Closing the copy does not close the pool;
        closing the original does, for both.
        """
        copy = AsyncClient.__new__(AsyncClient)
        copy._configure(
            self._connection,
            owner=False,  # copies borrow the pool, never close it
            base_url=self._base_url,
            timeout=self._timeout if isinstance(timeout, _Unset) else _coerce_timeout(timeout),
            max_retries=(
                self._max_retries
                if isinstance(max_retries, _Unset)
                else _coerce_retries(max_retries)
            ),
            public_key=self._public_key,
            on_retry=self._on_retry,
            telemetry=self._telemetry,
        )
        return copy

    def __repr__(self) -> str:
        # Never the key: reprs end up in logs and tracebacks.
        state = " closed" if self._connection.closed else ""
        return (
            f"<AsyncClient{state} base_url={self._base_url!r} "
            f"max_retries={self._max_retries} timeout={self._timeout!r}>"
        )

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`close` has been called (on this client or the one it was copied from)."""
        return self._connection.closed

    async def close(self) -> None:
        """Close the connection pool (the transport) the client opened. Harmless to call twice.

        A ``with_options`` copy leaves the pool open: it belongs to the original client.
        """
        if not self._owns_connection or self._connection.closed:
            return
        self._connection.close()  # calls waiting to retry wake up and give up
        await self._connection.transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- resources -----------------------------------------------------------------------
    # Built on first use and cached in the instance dict (cached_property), so the hot path
    # `client.messages.send` is a plain attribute look-up.

    @cached_property
    def messages(self) -> Messages:
        """Send, schedule, retrieve and cancel messages."""
        from telnyx_messaging._resources.messages import Messages

        return Messages(self._requests)

    @cached_property
    def messaging_optouts(self) -> MessagingOptouts:
        """Recipients who opted out of your messages."""
        from telnyx_messaging._resources.optouts import MessagingOptouts

        return MessagingOptouts(self._requests)

    @cached_property
    def phone_numbers(self) -> PhoneNumbers:
        """Messaging settings of your phone numbers (``client.phone_numbers.messaging``)."""
        from telnyx_messaging._resources.numbers import PhoneNumbers

        return PhoneNumbers(self._requests)

    @cached_property
    def mobile_phone_numbers(self) -> MobilePhoneNumbers:
        """Messaging settings of your mobile numbers (``.mobile_phone_numbers.messaging``)."""
        from telnyx_messaging._resources.numbers import MobilePhoneNumbers

        return MobilePhoneNumbers(self._requests)

    @cached_property
    def messaging_numbers_bulk_updates(self) -> MessagingNumbersBulkUpdates:
        """Move many numbers to a messaging profile in one order."""
        from telnyx_messaging._resources.bulk_updates import MessagingNumbersBulkUpdates

        return MessagingNumbersBulkUpdates(self._requests)

    @cached_property
    def webhooks(self) -> ClientWebhooks:
        """Verify and parse webhooks with the client's ``public_key``."""
        from telnyx_messaging.webhooks import ClientWebhooks

        return ClientWebhooks(self)
