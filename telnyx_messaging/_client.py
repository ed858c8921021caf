"""``AsyncClient``: options, session ownership, the request loop and the resource namespaces."""

from __future__ import annotations

import contextlib
import enum
import logging
import math
import os
import platform
import time
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from contextvars import ContextVar
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from attrs import define, evolve, field, frozen

from . import _logging
from ._errors import APIError, APITimeoutError, ConfigurationError, InvalidArgumentError
from ._http import (
    DEFAULT_BASE_URL,
    Response,
    decode_model,
    encode_body,
    error_from_response,
    new_idempotency_key,
)
from ._retry import backoff_seconds, is_retryable, server_wait
from ._transport import DEFAULT_MAX_CONNECTIONS, AiohttpTransport, HeaderMap, header_map
from ._version import __version__

if TYPE_CHECKING:
    import aiohttp

    from ._resources.bulk_updates import MessagingNumbersBulkUpdates
    from ._resources.messages import Messages
    from ._resources.numbers import MobilePhoneNumbers, PhoneNumbers
    from ._resources.optouts import MessagingOptouts
    from ._signature import PublicKeyInput
    from .webhooks import ClientWebhooks

__all__ = ["AsyncClient", "Timeout", "capture_responses"]

T = TypeVar("T")
log = logging.getLogger("telnyx_messaging")


@frozen
class Timeout:
    """How long a call may take, in seconds.

    ``total`` bounds the whole call, retries and the waits between them included: a call
    returns or raises within it. ``connect`` bounds opening a connection. ``per_attempt``
    bounds each single try (default: whatever is left of ``total``); set it below ``total``
    so a hung request is abandoned and retried in time.
    """

    total: float | None = 60.0
    connect: float | None = 5.0
    per_attempt: float | None = None
    #: What the first attempt may take: per_attempt, but never more than total.
    first_attempt: float | None = field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        for name in ("total", "connect", "per_attempt"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value <= 0
            ):
                raise InvalidArgumentError(
                    f"Timeout.{name} must be a positive number of seconds or None, got {value!r}"
                )
        limits = [v for v in (self.per_attempt, self.total) if v is not None]
        object.__setattr__(self, "first_attempt", min(limits) if limits else None)


DEFAULT_TIMEOUT = Timeout()


class _Unset(enum.Enum):
    """Marks an option that was not given (``None`` is a meaningful timeout)."""

    UNSET = enum.auto()


_UNSET = _Unset.UNSET

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


def _coerce_timeout(timeout: float | Timeout | None) -> Timeout:
    if isinstance(timeout, Timeout):
        return timeout
    if timeout is None:
        return Timeout(total=None, connect=None)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise InvalidArgumentError(
            f"timeout must be seconds (a number) or a Timeout, got {type(timeout).__name__}"
        )
    return evolve(DEFAULT_TIMEOUT, total=float(timeout))


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


def _coerce_retries(max_retries: int) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise InvalidArgumentError(f"max_retries must be a whole number >= 0, got {max_retries!r}")
    return max_retries


@define
class _Shared:
    """What a client and its ``with_options`` copies share: the pool and its open/closed state."""

    transport: AiohttpTransport
    base_headers: HeaderMap = field(repr=False)  # they hold the API key
    body_headers: HeaderMap = field(repr=False)
    closed: bool = False


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
    """

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
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("TELNYX_API_KEY")
        if not key:
            raise ConfigurationError(
                "No Telnyx API key: pass AsyncClient(api_key=...) or set the TELNYX_API_KEY "
                "environment variable (Mission Control Portal > API Keys)."
            )
        if not isinstance(key, str) or key != key.strip() or any(c in key for c in "\r\n"):
            raise ConfigurationError(
                "The Telnyx API key must be a string with no spaces or line breaks around it "
                "(check for a stray newline when reading it from a file)."
            )
        if (
            isinstance(max_connections, bool)
            or not isinstance(max_connections, int)
            or (max_connections < 1)
        ):
            raise InvalidArgumentError(
                f"max_connections must be a whole number >= 1, got {max_connections!r}"
            )
        url = base_url or os.environ.get("TELNYX_BASE_URL") or DEFAULT_BASE_URL
        self._base_url = _check_base_url(url)
        self._timeout = _coerce_timeout(timeout)
        self._max_retries = _coerce_retries(max_retries)
        self._public_key = (
            public_key if public_key is not None else os.environ.get("TELNYX_PUBLIC_KEY")
        )
        agent = f"telnyx-messaging/{__version__} python/{platform.python_version()}"
        base = {"Authorization": f"Bearer {key}", "Accept": "application/json", "User-Agent": agent}
        self._borrowed = False
        self._shared = _Shared(
            transport=AiohttpTransport(session=session, max_connections=max_connections),
            base_headers=header_map(base),
            body_headers=header_map({**base, "Content-Type": "application/json"}),
        )
        _logging.configure_from_env()

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
        copy = object.__new__(AsyncClient)
        copy.__dict__.update(self.__dict__)
        copy._borrowed = True  # copies borrow the pool, never close it
        if not isinstance(timeout, _Unset):
            copy._timeout = _coerce_timeout(timeout)
        if not isinstance(max_retries, _Unset):
            copy._max_retries = _coerce_retries(max_retries)
        # Namespaces cache a reference to the client they were made for.
        for name in _NAMESPACES:
            copy.__dict__.pop(name, None)
        return copy

    def __repr__(self) -> str:
        # Never the key: reprs end up in logs and tracebacks.
        state = " closed" if self._shared.closed else ""
        return (
            f"<AsyncClient{state} base_url={self._base_url!r} "
            f"max_retries={self._max_retries} timeout={self._timeout!r}>"
        )

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`close` has been called (on this client or the one it was copied from)."""
        return self._shared.closed

    async def close(self) -> None:
        """Close the connection pool the client opened. Harmless to call twice.

        A ``with_options`` copy leaves the pool open: it belongs to the original client.
        """
        if self._borrowed:
            return
        self._shared.closed = True
        await self._shared.transport.close()

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
        from ._resources.messages import Messages

        return Messages(self)

    @cached_property
    def messaging_optouts(self) -> MessagingOptouts:
        """Recipients who opted out of your messages."""
        from ._resources.optouts import MessagingOptouts

        return MessagingOptouts(self)

    @cached_property
    def phone_numbers(self) -> PhoneNumbers:
        """Messaging settings of your phone numbers (``client.phone_numbers.messaging``)."""
        from ._resources.numbers import PhoneNumbers

        return PhoneNumbers(self)

    @cached_property
    def mobile_phone_numbers(self) -> MobilePhoneNumbers:
        """Messaging settings of your mobile numbers (``.mobile_phone_numbers.messaging``)."""
        from ._resources.numbers import MobilePhoneNumbers

        return MobilePhoneNumbers(self)

    @cached_property
    def messaging_numbers_bulk_updates(self) -> MessagingNumbersBulkUpdates:
        """Move many numbers to a messaging profile in one order."""
        from ._resources.bulk_updates import MessagingNumbersBulkUpdates

        return MessagingNumbersBulkUpdates(self)

    @cached_property
    def webhooks(self) -> ClientWebhooks:
        """Verify and parse webhooks with the client's ``public_key``."""
        from .webhooks import ClientWebhooks

        return ClientWebhooks(self)

    # -- the request loop ----------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        cls: type[T],
        *,
        body: Mapping[str, Any] | None = None,
        query: Sequence[tuple[str, str]] | None = None,
        idempotency_key: str | None = None,
        creates_message: bool = False,
        envelope: bool = True,
    ) -> T:
        """Make a call and structure its answer into ``cls``."""
        response = await self._request(
            method,
            path,
            body=body,
            query=query,
            idempotency_key=idempotency_key,
            creates_message=creates_message,
        )
        return decode_model(response, cls, envelope=envelope)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Sequence[tuple[str, str]] | None = None,
        idempotency_key: str | None = None,
        creates_message: bool = False,
    ) -> Response:
        """Send a request, retrying per policy; a 2xx answer or an ``APIError``."""
        shared = self._shared
        if shared.closed:
            raise ConfigurationError(
                "This AsyncClient is closed; create a new one (or keep using it inside "
                "`async with AsyncClient() as client:`)."
            )
        if body is None:
            headers, data = shared.base_headers, None
        else:
            headers, data = shared.body_headers, encode_body(body)
        if creates_message:
            # Every attempt of one send carries the same key, so Telnyx creates it once.
            key = idempotency_key if idempotency_key is not None else new_idempotency_key()
            headers = headers.copy()
            headers["Idempotency-Key"] = key
        url = self._base_url + path
        deadline = None if self._timeout.total is None else time.monotonic() + self._timeout.total
        try:
            # The first attempt runs outside the retry machinery: stamina's setup costs ~18us a
            # call (measured, benchmarks/README.md), a tenth of a whole send, for nothing when
            # the call succeeds.
            return self._finish(await self._attempt(method, url, headers, data, query, 1, deadline))
        except APIError as exc:
            if self._max_retries == 0 or not is_retryable(exc):
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

        attempts = self._max_retries + 1

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
                return self._finish(
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
        timeout = self._timeout
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
        return self._shared.transport.send(
            method,
            url,
            headers=headers,
            body=data,
            query=query,
            timeout=limit,
            connect_timeout=timeout.connect,
            attempt=attempt,
        )

    @staticmethod
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


_NAMESPACES = (
    "messages",
    "messaging_optouts",
    "phone_numbers",
    "mobile_phone_numbers",
    "messaging_numbers_bulk_updates",
    "webhooks",
)
