"""One Redis URL for every shared part: where it comes from, how it is shown, how it is reached.

The URL may carry a password (``redis://:secret@host:6379/0``), so it is only ever shown
through :func:`redact`, and connection errors are re-raised with the redacted URL. redis-py
is imported here and in the modules beside this one only: ``telnyx_messaging.redis`` is the
optional ``[redis]`` extra, loaded when a user imports it and never by the rest of the SDK.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import redis
import redis.asyncio

from telnyx_messaging._errors import ConfigurationError, InvalidArgumentError

__all__ = ["REDIS_URL_ENV", "connect", "connect_sync", "redact", "resolve_url"]

#: The environment variable read when no URL is passed.
REDIS_URL_ENV = "TELNYX_REDIS_URL"
#: Seconds to open a connection, and to wait for one command's answer. Short, because a
#: webhook must be answered within Telnyx's ~2 s: a Redis that hangs should cost a 503, not
#: a request that outlives the window. Blocking reads pass their own, longer, timeouts.
CONNECT_TIMEOUT = 2.0
COMMAND_TIMEOUT = 2.0


def resolve_url(url: str | None) -> str:
    """``url``, else ``$TELNYX_REDIS_URL``; a clear error when neither is set or it is not Redis."""
    if url is None:
        url = os.environ.get(REDIS_URL_ENV) or None
        if url is None:
            raise ConfigurationError(
                f"no Redis URL: pass url='redis://host:6379/0' or set {REDIS_URL_ENV}"
            )
    if not isinstance(url, str):
        raise InvalidArgumentError(f"the Redis URL must be a string, got {type(url).__name__}")
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss", "unix"):
        raise InvalidArgumentError(
            f"{redact(url)!r} is not a Redis URL: write redis://host:6379/0 (rediss:// for "
            "TLS, unix:///path/to/socket for a socket)"
        )
    return url


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``: what logs, errors and reprs show."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # an unparsable netloc: show nothing of it
        return "<unreadable Redis URL>"
    if password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _unreachable(url: str, exc: BaseException) -> ConfigurationError:
    return ConfigurationError(
        f"could not reach Redis at {redact(url)} ({type(exc).__name__}); start it, or fix the "
        f"URL (url= or {REDIS_URL_ENV})"
    )


def async_client(url: str | None = None) -> redis.asyncio.Redis:
    """A redis-py asyncio client for ``url`` (or the environment's), not yet connected."""
    url = resolve_url(url)
    try:
        return redis.asyncio.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT
        )
    except ValueError as exc:
        raise InvalidArgumentError(f"{redact(url)!r} is not a usable Redis URL: {exc}") from None


def sync_client(url: str | None = None) -> redis.Redis:
    """A redis-py client for ``url`` (or the environment's), not yet connected."""
    url = resolve_url(url)
    try:
        return redis.Redis.from_url(
            url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT
        )
    except ValueError as exc:
        raise InvalidArgumentError(f"{redact(url)!r} is not a usable Redis URL: {exc}") from None


async def connect(url: str | None = None) -> redis.asyncio.Redis:
    """An asyncio client that has answered PING, else :class:`ConfigurationError`.

    Start-up is where an unreachable Redis should stop a process, with the URL (redacted) in
    the message; later failures are each component's to handle.
    """
    url = resolve_url(url)
    client = async_client(url)
    try:
        await client.ping()
    except (redis.RedisError, OSError) as exc:
        await client.aclose()
        raise _unreachable(url, exc) from None
    return client


def connect_sync(url: str | None = None) -> redis.Redis:
    """A client that has answered PING, else :class:`ConfigurationError` (see :func:`connect`)."""
    url = resolve_url(url)
    client = sync_client(url)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        client.close()
        raise _unreachable(url, exc) from None
    return client
