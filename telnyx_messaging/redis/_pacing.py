"""One rate budget for every process: the account's, each sender's and each kind's, in Redis.

Each process of a bulk run (or each replica of a service) paces itself; together they exceed
the account's limit and meet 429s. :class:`RedisRateBudget` keeps the pace in Redis, so every
process together stays within each limit, and it shares the 429 pause: a 429 seen by one
process pauses them all until the wait Telnyx named.

The pace is GCRA (the generic cell rate algorithm, as in ATM networks and ``redis-cell``): each
bucket is one number, the time its next send is due; a send is admitted when every bucket it
needs is due, and each is moved on by one interval. One small Lua script does it in **one round
trip**, for all of a send's buckets and the pause at once, on **Redis's clock**. We measured
the ``limits`` library's Redis moving window first (the issue's preference for a maintained
library): it took four round trips a turn, timestamps from each sender's clock and allowed a
whole second's budget in one burst, so under load four workers sharing 50/s sent 55 in one
second, and Telnyx saw 63 (benchmarks/README.md has the figures). Spacing sends evenly on one
clock keeps every one-second window within the rate.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Mapping
from typing import Any

import redis
import redis.asyncio

from telnyx_messaging._errors import InvalidArgumentError
from telnyx_messaging.redis._connection import connect

__all__ = ["RedisRateBudget"]

log = logging.getLogger("telnyx_messaging")

DEFAULT_PREFIX = "telnyx:rate"
# KEYS[1]: the pause key, KEYS[2..]: the buckets (each holds when its next send is due, in
# microseconds of Redis's clock). ARGV[i]: each bucket's interval in microseconds.
# Returns 0 when the send is admitted (every bucket moved on), else microseconds to wait.
_TURN = """
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000000 + now_parts[2]
local wait = 0
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused > now then
  wait = paused - now
end
local due = {}
for i = 2, #KEYS do
  local at = tonumber(redis.call('GET', KEYS[i]) or '0')
  if at < now then at = now end
  due[i] = at
  if at - now > wait then wait = at - now end
end
if wait > 0 then
  return wait
end
for i = 2, #KEYS do
  local interval = tonumber(ARGV[i - 1])
  redis.call('SET', KEYS[i], due[i] + interval, 'PX', math.ceil(interval / 1000) + 1000)
end
return 0
"""
# KEYS[1]: the pause key; ARGV[1]: the pause in microseconds from now (Redis's clock).
# Overlapping pauses merge: the later end wins.
_PAUSE = """
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000000 + now_parts[2]
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then
  redis.call('SET', KEYS[1], until_, 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1)
end
return 0
"""
# KEYS[1]: the pause key. Microseconds of pause left (0 when none).
_PAUSE_LEFT = """
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000000 + now_parts[2]
local until_ = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > now then return until_ - now end
return 0
"""
# The PacingBudget seam (send_many's budget=): one key at the rate of the call. KEYS[1]: the
# key; ARGV[1]: the interval in microseconds; ARGV[2]: slack in microseconds (a send a little
# late keeps its slot, as in MemoryBudget). Returns 0 when taken, else microseconds to wait.
_TAKE = """
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000000 + now_parts[2]
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if due > now then
  return due - now
end
local slack = now - tonumber(ARGV[2])
if due < slack then due = slack end
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], due + interval, 'PX', math.ceil(interval / 1000) + 1000)
return 0
"""
# KEYS[1]: the key; ARGV[1]: microseconds from now during which it frees no send.
_HOLD = """
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000000 + now_parts[2]
local until_ = now + tonumber(ARGV[1])
local due = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > due then
  redis.call('SET', KEYS[1], until_, 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 0
"""
# KEYS[1]: the hash of learned rates; ARGV[1]: the field, ARGV[2]: the rate, ARGV[3]: how long
# the hash is kept (ms). A rate only ever comes down: a lower limit learned by any process wins.
_LEARN = """
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or 'inf')
if tonumber(ARGV[2]) < current then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 0
"""
#: How long a learned limit is kept after the last one was learned: an hour.
LEARNED_TTL = 3600.0
#: As MemoryBudget's: how late a send may be and keep its slot.
_SLACK_US = 20_000
# Processes refused together come back spread over this many seconds, not all at once.
_JITTER = 0.002


def _interval(name: str, rate: object) -> int:
    """Microseconds between two sends at ``rate`` per second."""
    if (
        isinstance(rate, bool)
        or not isinstance(rate, (int, float))
        or not math.isfinite(rate)
        or not rate > 0
    ):
        raise InvalidArgumentError(f"{name} must be messages per second above 0, got {rate!r}")
    return max(1, math.ceil(1_000_000 / rate))


class RedisRateBudget:
    """Send rates every process shares: the account's, each sender's and each kind's.

    ::

        budget = await RedisRateBudget.connect(rate=50, per_sender_rate=1)
        await budget.wait_turn(sender="+13125550001")  # before each send
        ...
        await budget.pause(retry_after)  # on a 429: every process waits

    ``rate`` caps the account (every process together), ``per_sender_rate`` each sending
    number, ``per_kind_rate`` each kind of sender you name (``{"toll_free": 20}``); ``None``
    leaves that limit off. Sends are spaced evenly (``1/rate`` seconds apart, across all
    processes, on Redis's clock), so no one-second window holds more than ``rate`` of them;
    fractional rates work as written (``0.5`` is one send every two seconds).

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
        self._account = None if rate is None else _interval("rate", rate)
        self._per_sender = (
            None if per_sender_rate is None else _interval("per_sender_rate", per_sender_rate)
        )
        if per_kind_rate is not None and not isinstance(per_kind_rate, Mapping):
            raise InvalidArgumentError(
                "per_kind_rate must map a kind of sender to its rate, e.g. {'toll_free': 20}"
            )
        self._per_kind = {
            kind: _interval(f"per_kind_rate[{kind!r}]", value)
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
        self._pause_key = f"{prefix}:pause"
        self._turn = client.register_script(_TURN)
        self._set_pause = client.register_script(_PAUSE)
        self._pause_left = client.register_script(_PAUSE_LEFT)
        self._take = client.register_script(_TAKE)
        self._hold = client.register_script(_HOLD)
        self._learn = client.register_script(_LEARN)
        self._learned_key = f"{prefix}:learned"

    def __repr__(self) -> str:
        def rate(interval: int) -> str:
            return f"{1_000_000 / interval:g}/s"

        limits = [
            f"{name}={rate(interval)}"
            for name, interval in (("rate", self._account), ("per_sender_rate", self._per_sender))
            if interval is not None
        ]
        limits += [f"{kind}={rate(interval)}" for kind, interval in self._per_kind.items()]
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

    @property
    def rate(self) -> float | None:
        """The account's rate this budget was given (messages a second), or None."""
        return None if self._account is None else 1_000_000 / self._account

    @property
    def per_sender_rate(self) -> float | None:
        """Each sender's rate this budget was given (messages a second), or None."""
        return None if self._per_sender is None else 1_000_000 / self._per_sender

    async def learn(self, key: str, rate: float) -> None:
        """Share a rate learned from Telnyx (a 429's ``x-ratelimit-limit``) for ``key``
        (``sender:<from>``, ``account:<kind>``) with every process; a lower one never rises
        again until an hour passes with nothing learned."""
        _interval("rate", rate)
        await self._learn(
            keys=[self._learned_key], args=[key, repr(float(rate)), int(LEARNED_TTL * 1000)]
        )

    async def learned(self) -> dict[str, float]:
        """The rates learned so far by every process, by key."""
        raw = await self._client.hgetall(self._learned_key)
        return {(k.decode() if isinstance(k, bytes) else str(k)): float(v) for k, v in raw.items()}

    # --- send_many's seam: telnyx_messaging.PacingBudget

    async def take(self, key: str, rate: float) -> float:
        """Take one send from ``key`` at ``rate`` if one is free now and return ``0.0``, else
        the seconds until one is (the :class:`~telnyx_messaging.PacingBudget` seam).

        ``send_many(..., budget=redis_budget)`` books every send here, so runs in several
        processes keep the account's and each sender's pace together. While Redis is away
        the run waits here, up to ``outage_timeout``, then the Redis error ends it.
        """
        interval = _interval("rate", rate)
        wait = await self._run(self._take, [f"{self.prefix}:{key}"], [interval, _SLACK_US])
        return wait / 1_000_000

    async def hold(self, key: str, seconds: float) -> None:
        """Free no send on ``key`` for ``seconds`` from now, in every process (Telnyx asked
        to wait); never shortens an earlier hold (the ``PacingBudget`` seam)."""
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not math.isfinite(seconds)
            or not seconds >= 0
        ):
            raise InvalidArgumentError(f"seconds must be a number >= 0, got {seconds!r}")
        await self._run(self._hold, [f"{self.prefix}:{key}"], [math.ceil(seconds * 1_000_000)])

    # --- your own sends

    async def wait_turn(
        self,
        sender: str | None = None,
        kind: str | None = None,
        *,
        message_kind: str = "sms",
        account_rate: float | None = None,
        sender_rate: float | None = None,
    ) -> None:
        """Wait until a send may go: no 429 pause anywhere, and every bucket it needs is due.

        The buckets are ``sender``'s, ``kind``'s (a kind of sender that ``per_kind_rate``
        names) and the account's for the ``message_kind`` (``"sms"``, ``"mms"``,
        ``"whatsapp"``). They are the keys ``send_many`` books through :meth:`take`
        (``sender:<from>``, ``account:<kind>``), so your sends and a ``send_many`` run share
        one pace. All are checked and moved on together, in one round trip, so a send never
        holds one bucket's slot while it waits for another's. ``account_rate`` and
        ``sender_rate``, when given, pace this send instead of the budget's own figures.
        """
        # The due times live in Redis, moved by every process: ask again after each wait.
        while (  # noqa: ASYNC110
            wait := await self.try_turn(
                sender,
                kind,
                message_kind=message_kind,
                account_rate=account_rate,
                sender_rate=sender_rate,
            )
        ) > 0:
            await asyncio.sleep(wait + random.uniform(0, _JITTER))  # noqa: S311

    async def try_turn(
        self,
        sender: str | None = None,
        kind: str | None = None,
        *,
        message_kind: str = "sms",
        account_rate: float | None = None,
        sender_rate: float | None = None,
    ) -> float:
        """Take the send's turn if it may go now and return ``0.0``, else the seconds to wait
        (one round trip; :meth:`wait_turn` without the waiting, for a caller whose rates may
        change while it waits)."""
        keys = [self._pause_key]
        intervals: list[int] = []
        per_sender = (
            self._per_sender if sender_rate is None else _interval("sender_rate", sender_rate)
        )
        account = self._account if account_rate is None else _interval("account_rate", account_rate)
        if sender is not None and per_sender is not None:
            keys.append(f"{self.prefix}:sender:{sender}")
            intervals.append(per_sender)
        if kind is not None and kind in self._per_kind:
            keys.append(f"{self.prefix}:kind:{kind}")
            intervals.append(self._per_kind[kind])
        if account is not None:
            keys.append(f"{self.prefix}:account:{message_kind}")
            intervals.append(account)
        return await self._run(self._turn, keys, intervals) / 1_000_000

    async def _run(self, script: Any, keys: list[str], args: list[int]) -> int:
        """Run one of the scripts; while Redis is away, wait (the sends wait with it) and try
        again, up to ``outage_timeout``, then raise the Redis error. Every script is safe to
        run again: one that failed changed nothing, or its answer was lost and the send it
        booked is simply not taken."""
        outage_began: float | None = None
        while True:
            try:
                result = int(await script(keys=keys, args=args))
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
                continue
            if outage_began is not None:
                log.warning("rate budget: Redis is back; sending again")
            return result

    async def pause(self, seconds: float) -> None:
        """Hold every process's sends for ``seconds`` from now (a 429's ``Retry-After``).

        Merges with a pause already running: the later end wins.
        """
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not math.isfinite(seconds)
            or not seconds >= 0
        ):
            raise InvalidArgumentError(f"seconds must be a number >= 0, got {seconds!r}")
        await self._set_pause(keys=[self._pause_key], args=[math.ceil(seconds * 1_000_000)])

    async def paused_for(self) -> float:
        """Seconds left of the running 429 pause (0 when none), as every process sees it."""
        return int(await self._pause_left(keys=[self._pause_key])) / 1_000_000
