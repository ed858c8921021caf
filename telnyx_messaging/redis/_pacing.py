"""One rate budget for every process: the account's, each sender's and each kind's, in Redis.

Each process of a bulk run (or each replica of a service) paces itself; together they exceed
the account's limit and meet 429s. :class:`RedisRateBudget` holds the buckets in Redis, with
the ``limits`` library's moving-window limiter (a maintained, Lua-scripted, atomic "take one if
fewer than N in the last second"), so every process together stays within each limit, and it
shares the 429 pause: a 429 seen by one process pauses them all until the wait Telnyx named.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Mapping

import redis
import redis.asyncio
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from telnyx_messaging._errors import InvalidArgumentError
from telnyx_messaging.redis._connection import connect

__all__ = ["RedisRateBudget"]

log = logging.getLogger("telnyx_messaging")

DEFAULT_PREFIX = "telnyx:rate"
# KEYS[1]: the pause key; ARGV[1]: the pause's end, epoch ms. Overlapping pauses merge: the
# later end wins, so a short 429 never shortens a long one.
_PAUSE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
  return 1
end
return 0
"""
# Waiting for a slot: at least this long, plus jitter so processes refused together do not
# all come back in the same millisecond.
_MIN_NAP = 0.002
_JITTER = 0.010


def _item(name: str, rate: object) -> RateLimitItem:
    """A moving window of whole sends: N per second, or one per N seconds below 1/s."""
    if (
        isinstance(rate, bool)
        or not isinstance(rate, (int, float))
        or not math.isfinite(rate)
        or not rate > 0
    ):
        raise InvalidArgumentError(f"{name} must be messages per second above 0, got {rate!r}")
    if rate >= 1:
        return RateLimitItemPerSecond(math.floor(rate), 1)
    return RateLimitItemPerSecond(1, math.ceil(1 / rate))


class RedisRateBudget:
    """Send rates every process shares: the account's, each sender's and each kind's.

    ::

        budget = await RedisRateBudget.connect(rate=50, per_sender_rate=1)
        await budget.wait_turn(sender="+13125550001")  # before each send
        ...
        await budget.pause(retry_after)  # on a 429: every process waits

    ``rate`` caps the account (every process together), ``per_sender_rate`` each sending
    number, ``per_kind_rate`` each kind of sender you name (``{"toll_free": 20}``); ``None``
    leaves that limit off. In any one-second window, at most ``rate`` sends go out across all
    processes (a moving window; rates round down to whole sends per second, or one send per
    whole number of seconds below 1/s). Hosts' clocks must agree (NTP): the window is kept in
    their time.

    While Redis cannot be reached, :meth:`wait_turn` waits (the run pauses, logged once)
    and raises the Redis error after ``outage_timeout`` seconds: a run never sends unmetered.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        rate: float | None = None,
        per_sender_rate: float | None = None,
        per_kind_rate: Mapping[str, float] | None = None,
        prefix: str = DEFAULT_PREFIX,
        outage_timeout: float = 60.0,
    ) -> None:
        self._account = None if rate is None else _item("rate", rate)
        self._per_sender = (
            None if per_sender_rate is None else _item("per_sender_rate", per_sender_rate)
        )
        if per_kind_rate is not None and not isinstance(per_kind_rate, Mapping):
            raise InvalidArgumentError(
                "per_kind_rate must map a kind of sender to its rate, e.g. {'toll_free': 20}"
            )
        self._per_kind = {
            kind: _item(f"per_kind_rate[{kind!r}]", value)
            for kind, value in (per_kind_rate or {}).items()
        }
        if not isinstance(prefix, str) or not prefix:
            raise InvalidArgumentError(f"prefix must be a non-empty string, got {prefix!r}")
        if (
            isinstance(outage_timeout, bool)
            or not isinstance(outage_timeout, (int, float))
            or not outage_timeout >= 0
        ):
            raise InvalidArgumentError(
                f"outage_timeout must be seconds >= 0, got {outage_timeout!r}"
            )
        self.prefix = prefix
        self.outage_timeout = float(outage_timeout)
        self._client = client
        self._owns_client = False
        # The limiter shares the client's connection pool: one set of connections per process.
        storage = RedisStorage(
            "async+redis://localhost:6379",  # a placeholder: the pool below is used
            implementation="redispy",
            key_prefix=prefix,
            connection_pool=client.connection_pool,  # type: ignore[arg-type]
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self._pause_key = f"{prefix}:pause"
        self._set_pause = client.register_script(_PAUSE)

    def __repr__(self) -> str:
        limits = [
            f"{name}={item.amount}/{item.multiples}s"
            for name, item in (("rate", self._account), ("per_sender_rate", self._per_sender))
            if item is not None
        ]
        limits += [
            f"{kind}={item.amount}/{item.multiples}s" for kind, item in self._per_kind.items()
        ]
        return f"<RedisRateBudget prefix={self.prefix!r} {' '.join(limits) or 'unlimited'}>"

    @classmethod
    async def connect(
        cls,
        url: str | None = None,
        *,
        rate: float | None = None,
        per_sender_rate: float | None = None,
        per_kind_rate: Mapping[str, float] | None = None,
        prefix: str = DEFAULT_PREFIX,
        outage_timeout: float = 60.0,
    ) -> RedisRateBudget:
        """A budget on a new client for ``url`` (default ``$TELNYX_REDIS_URL``), closed by
        :meth:`aclose`. An unreachable Redis raises ``ConfigurationError`` here."""
        client = await connect(url)
        try:
            budget = cls(
                client,
                rate=rate,
                per_sender_rate=per_sender_rate,
                per_kind_rate=per_kind_rate,
                prefix=prefix,
                outage_timeout=outage_timeout,
            )
        except InvalidArgumentError:
            await client.aclose()
            raise
        budget._owns_client = True
        return budget

    async def aclose(self) -> None:
        """Close the client if :meth:`connect` made it (yours stays open)."""
        if self._owns_client:
            self._owns_client = False
            await self._client.aclose()

    async def __aenter__(self) -> RedisRateBudget:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- the budget

    async def wait_turn(self, sender: str | None = None, kind: str | None = None) -> None:
        """Wait until a send may go: no 429 pause anywhere, then a slot in each bucket.

        Takes a slot from ``sender``'s bucket, ``kind``'s (when ``per_kind_rate`` names it)
        and the account's, in that order.
        """
        buckets: list[tuple[RateLimitItem, str]] = []
        if sender is not None and self._per_sender is not None:
            buckets.append((self._per_sender, f"sender:{sender}"))
        if kind is not None and kind in self._per_kind:
            buckets.append((self._per_kind[kind], f"kind:{kind}"))
        if self._account is not None:
            buckets.append((self._account, "account"))
        outage_began: float | None = None
        taken = 0
        while True:
            try:
                await self._wait_out_pause()
                while taken < len(buckets):
                    item, name = buckets[taken]
                    if await self._limiter.hit(item, name):
                        taken += 1
                        continue
                    stats = await self._limiter.get_window_stats(item, name)
                    nap = max(stats.reset_time - time.time(), _MIN_NAP)
                    await asyncio.sleep(nap + random.uniform(0, _JITTER))  # noqa: S311
                await self._wait_out_pause()  # a 429 may have come while we queued
                if outage_began is not None:
                    log.warning("rate budget: Redis is back; sending again")
                return
            except (redis.RedisError, OSError) as exc:
                now = time.monotonic()
                if outage_began is None:
                    outage_began = now
                    log.warning(
                        "rate budget: Redis cannot be reached (%s); sends wait until it is "
                        "back (at most %gs)",
                        type(exc).__name__,
                        self.outage_timeout,
                    )
                if now - outage_began >= self.outage_timeout:
                    raise
                await asyncio.sleep(min(1.0, max(0.05, (now - outage_began) / 2)))

    async def pause(self, seconds: float) -> None:
        """Hold every process's sends for ``seconds`` from now (a 429's ``Retry-After``).

        Merges with a pause already running: the later end wins.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
            raise InvalidArgumentError(f"seconds must be a number >= 0, got {seconds!r}")
        until_ms = int((time.time() + seconds) * 1000)
        await self._set_pause(keys=[self._pause_key], args=[until_ms])

    async def paused_for(self) -> float:
        """Seconds left of the running 429 pause (0 when none), as every process sees it."""
        until = await self._client.get(self._pause_key)
        return 0.0 if until is None else max(0.0, int(until) / 1000 - time.time())

    async def _wait_out_pause(self) -> None:
        # A deadline in Redis, not an event: another process's 429 may push it out meanwhile.
        while (left := await self.paused_for()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(left)
