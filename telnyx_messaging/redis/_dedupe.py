"""The webhook duplicate guard, shared by every replica through Redis.

The same three steps as :class:`~telnyx_messaging.webhooks.MemoryDuplicateGuard`, one Redis
key per event:

- ``claim``: ``SET key processing:<token> NX PX lease GET`` in one atomic command (Redis 7):
  exactly one replica sets it and hears nothing back ("new"); the others hear the state;
- ``complete``: ``SET key done PX ttl``: later deliveries are duplicates until it expires;
- ``release``: delete the key only if it still holds this replica's token (a small script),
  so a replica whose lease ran out cannot drop another replica's claim.

A claim is a lease (``lease``, 120 s by default): a replica that dies while handling an event
never releases it, and without a lease every redelivery would be refused until ``ttl``.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import redis
import redis.asyncio

from telnyx_messaging._errors import InvalidArgumentError
from telnyx_messaging.redis._connection import connect, connect_sync
from telnyx_messaging.webhooks import Claim
from telnyx_messaging.webhooks._signature import DEFAULT_TOLERANCE

__all__ = ["RedisDuplicateGuard", "SyncRedisDuplicateGuard"]

DEFAULT_PREFIX = "telnyx:webhooks:seen:"
_DONE = b"done"
# KEYS[1]: the event's key; ARGV[1]: this replica's token. Deletes only our own claim.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _seconds(name: str, value: object, least: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < least
    ):
        raise InvalidArgumentError(f"{name} must be seconds >= {least:g}, got {value!r}")
    return float(value)


class _GuardRules:
    """What both guards share: options, keys, tokens, and reading a claim's answer."""

    def __init__(self, *, ttl: float, lease: float, prefix: str) -> None:
        # A replay within the signature tolerance must still find its key: expiring sooner
        # would let a captured webhook be handled twice.
        self.ttl = _seconds("ttl", ttl, DEFAULT_TOLERANCE)
        self.lease = _seconds("lease", lease, 1.0)
        if self.lease > self.ttl:
            raise InvalidArgumentError(
                f"lease ({lease!r} s) must not be longer than ttl ({ttl!r} s)"
            )
        if not isinstance(prefix, str) or not prefix:
            raise InvalidArgumentError(f"prefix must be a non-empty string, got {prefix!r}")
        self.prefix = prefix
        # key -> the token this replica's claim holds, until complete/release.
        self._tokens: dict[str, str] = {}

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} prefix={self.prefix!r} ttl={self.ttl:g} lease={self.lease:g}>"
        )

    def _answer(self, key: str, token: str, previous: Any) -> Claim:
        if previous is None:  # the SET happened: the claim, and the token, are ours
            self._tokens[key] = token
            return "new"
        return "done" if previous == _DONE else "processing"


class RedisDuplicateGuard(_GuardRules):
    """A :class:`~telnyx_messaging.webhooks.DuplicateGuard` every replica shares, in Redis.

    ::

        guard = await RedisDuplicateGuard.connect()  # $TELNYX_REDIS_URL, or url=...
        receiver = webhooks.WebhookReceiver(on_event=..., public_key=KEY, duplicates=guard)

    Exactly one replica gets ``"new"`` for an event; a delivery that arrives while another
    replica handles it is answered 503 (Telnyx retries); a failed event is released; a handled
    one is a duplicate for ``ttl`` seconds (default an hour; at least the signature tolerance,
    300 s). ``lease`` bounds how long a claim lasts if its replica dies mid-way. When Redis
    cannot be reached, ``claim`` raises and the receiver answers 503, never 200.

    Pass your own ``redis.asyncio.Redis`` client, or build one with :meth:`connect`. Needs
    Redis 7.0 or later (``SET ... NX GET``).

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        ttl: float = 3600.0,
        lease: float = 120.0,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        super().__init__(ttl=ttl, lease=lease, prefix=prefix)
        self._client = client
        self._release = client.register_script(_RELEASE)
        self._owns_client = False

    @classmethod
    async def connect(
        cls,
        url: str | None = None,
        *,
        ttl: float = 3600.0,
        lease: float = 120.0,
        prefix: str = DEFAULT_PREFIX,
    ) -> RedisDuplicateGuard:
        """A guard on a new client for ``url`` (default ``$TELNYX_REDIS_URL``); closes it in
        :meth:`aclose`. An unreachable Redis raises ``ConfigurationError`` here."""
        guard = cls(await connect(url), ttl=ttl, lease=lease, prefix=prefix)
        guard._owns_client = True
        return guard

    async def claim(self, key: str) -> Claim:
        """``"new"`` if this replica now owns ``key``, else ``"processing"`` or ``"done"``."""
        token = f"processing:{uuid.uuid4().hex}"
        previous = await self._client.set(
            self.prefix + key, token, nx=True, px=int(self.lease * 1000), get=True
        )
        return self._answer(key, token, previous)

    async def complete(self, key: str) -> None:
        """Remember ``key`` as handled for ``ttl`` seconds."""
        self._tokens.pop(key, None)
        await self._client.set(self.prefix + key, _DONE, px=int(self.ttl * 1000))

    async def release(self, key: str) -> None:
        """Forget this replica's claim on ``key``, so the next delivery is handled."""
        token = self._tokens.pop(key, None)
        if token is not None:
            await self._release(keys=[self.prefix + key], args=[token])

    async def aclose(self) -> None:
        """Close the client if :meth:`connect` made it (yours stays open)."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> RedisDuplicateGuard:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class SyncRedisDuplicateGuard(_GuardRules):
    """:class:`RedisDuplicateGuard` with plain methods, for the WSGI views (Flask, Django).

    Takes a ``redis.Redis`` client, or builds one with :meth:`connect`. Thread-safe as
    redis-py's client is: a threaded WSGI server can share one guard.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl: float = 3600.0,
        lease: float = 120.0,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        super().__init__(ttl=ttl, lease=lease, prefix=prefix)
        self._client = client
        self._release = client.register_script(_RELEASE)
        self._owns_client = False

    @classmethod
    def connect(
        cls,
        url: str | None = None,
        *,
        ttl: float = 3600.0,
        lease: float = 120.0,
        prefix: str = DEFAULT_PREFIX,
    ) -> SyncRedisDuplicateGuard:
        """A guard on a new client for ``url`` (default ``$TELNYX_REDIS_URL``); closes it in
        :meth:`close`. An unreachable Redis raises ``ConfigurationError`` here."""
        guard = cls(connect_sync(url), ttl=ttl, lease=lease, prefix=prefix)
        guard._owns_client = True
        return guard

    def claim(self, key: str) -> Claim:
        """``"new"`` if this replica now owns ``key``, else ``"processing"`` or ``"done"``."""
        token = f"processing:{uuid.uuid4().hex}"
        previous = self._client.set(
            self.prefix + key, token, nx=True, px=int(self.lease * 1000), get=True
        )
        return self._answer(key, token, previous)

    def complete(self, key: str) -> None:
        """Remember ``key`` as handled for ``ttl`` seconds."""
        self._tokens.pop(key, None)
        self._client.set(self.prefix + key, _DONE, px=int(self.ttl * 1000))

    def release(self, key: str) -> None:
        """Forget this replica's claim on ``key``, so the next delivery is handled."""
        token = self._tokens.pop(key, None)
        if token is not None:
            self._release(keys=[self.prefix + key], args=[token])

    def close(self) -> None:
        """Close the client if :meth:`connect` made it (yours stays open)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> SyncRedisDuplicateGuard:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
