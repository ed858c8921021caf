"""A campaign in Redis: rows, their derived keys and their outcomes; any number of workers.

Layout, under ``telnyx:campaign:<name>:``

- ``meta`` (hash): the method, the number of rows, a digest of all of them, ``loaded`` once
  every row is in the stream;
- ``rows`` (stream, consumer group ``workers``): one entry per row: its index, parameters,
  content hash and Idempotency-Key, derived as ``send_many(campaign=...)`` derives it;
- ``results`` (hash): index -> the row's outcome, written with the ``XACK`` in one transaction.

Each worker reads new rows with ``XREADGROUP`` and takes over rows another worker was given and
never acknowledged for ``lease`` seconds with ``XAUTOCLAIM``: a worker that died mid-row has its
rows sent by the others **with the same keys**, so a message the dead worker created is
replayed by Telnyx, not created again. A row whose outcome is already recorded is acknowledged
without sending. The run ends for everyone when every row has an outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import redis
import redis.asyncio
from attrs import frozen

from telnyx_messaging import _args
from telnyx_messaging._bulk._journal import derive_key, encode_row, row_hash
from telnyx_messaging._bulk._pacing import HEADROOM, is_backpressure, message_kind
from telnyx_messaging._bulk._profiles import PacingProfile, profile_named
from telnyx_messaging._bulk._results import describe
from telnyx_messaging._errors import (
    APIError,
    APIStatusError,
    ConfigurationError,
    InvalidArgumentError,
    TelnyxError,
)
from telnyx_messaging._http.retry import server_wait
from telnyx_messaging.redis._connection import connect
from telnyx_messaging.redis._pacing import RedisRateBudget

if TYPE_CHECKING:
    from telnyx_messaging._client import AsyncClient

__all__ = ["CampaignInterruptedError", "CampaignReport", "CampaignRow", "RedisCampaign"]

log = logging.getLogger("telnyx_messaging")

DEFAULT_PREFIX = "telnyx:campaign:"
GROUP = "workers"
_LOAD_BATCH = 500
# KEYS[1]: the results hash, KEYS[2]: the rows stream; ARGV: the row's index, parameters and
# key. A failed outcome is dropped and its row queued again in one step, so a row is never
# left with neither an outcome nor an entry to send (nor queued twice by two callers).
_REQUEUE = """
local outcome = redis.call('HGET', KEYS[1], ARGV[1])
if not outcome or cjson.decode(outcome)['ok'] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], '*', 'i', ARGV[1], 'p', ARGV[2], 'k', ARGV[3])
return 1
"""
_VIAS = (
    "send",
    "send_long_code",
    "send_short_code",
    "send_number_pool",
    "schedule",
    "send_group_mms",
    "send_whatsapp",
)
#: Tries of one row on a retryable failure (one request each: the worker owns retries),
#: after which it is recorded as failed. Telnyx's backpressure (429, 40318, 40011) is no try.
MAX_TRIES = 5
#: How long a worker holds every worker when Telnyx pushes back without naming a wait.
DEFAULT_HOLD = 1.0
#: Seconds between two reads of the limits other workers learned.
LEARNED_REFRESH = 0.2
# Workers refused together come back spread over this many seconds, not all at once.
_JITTER = 0.002
#: The window over which this worker counts who sent lately (to tell which limit a 429 is).
_RECENT = 1.0


class CampaignInterruptedError(TelnyxError):
    """Redis went away mid-run for longer than ``outage_timeout``: the worker stopped.

    ``rows`` are the indexes this worker held without a recorded outcome: some may have been
    sent. Nothing is lost or doubled: they stay pending in Redis, and the next worker (or this
    one, run again) sends them with the same Idempotency-Keys, which Telnyx de-duplicates.

    .. versionadded:: 0.2.0
    """

    def __init__(self, campaign: str, rows: list[int], cause: str) -> None:
        shown = ", ".join(map(str, rows[:20])) + (" ..." if len(rows) > 20 else "")
        super().__init__(
            f"campaign {campaign!r} stopped: Redis could not be reached ({cause}); rows held "
            f"without a recorded outcome: [{shown}]. Run a worker again once Redis is back: "
            "they are sent with the same keys, so nothing is created twice"
        )
        self.campaign = campaign
        self.rows = rows


@frozen(kw_only=True)
class CampaignRow:
    """One row's outcome: sent (``message_id``) or failed (``error_code``, ``error_title``)."""

    index: int
    ok: bool
    message_id: str | None = None
    error_code: str | None = None
    error_title: str | None = None
    attempts: int = 0
    worker: str = ""


@frozen(kw_only=True)
class CampaignReport:
    """A campaign as Redis has it, readable from any machine: counts and each row's outcome.

    ``rows`` are the rows with an outcome, by index; ``pending`` how many have none yet.

    .. versionadded:: 0.2.0
    """

    name: str
    total: int
    sent: int
    failed: int
    pending: int
    rows: tuple[CampaignRow, ...]

    @property
    def finished(self) -> bool:
        """Whether every row has an outcome."""
        return self.total > 0 and self.pending == 0


def _revive(value: Any) -> Any:
    """Undo the row encoding's markers for datetimes and dates."""
    if isinstance(value, dict):
        if len(value) == 1 and "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if len(value) == 1 and "$date" in value:
            return date.fromisoformat(value["$date"])
        return {key: _revive(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_revive(item) for item in value]
    return value


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisCampaign:
    """A bulk campaign whose rows, keys and outcomes live in Redis, sent by several workers.

    ::

        campaign = await RedisCampaign.connect("spring-sale")  # $TELNYX_REDIS_URL
        await campaign.load(rows)  # once; loading the same rows again is a no-op
        budget = await RedisRateBudget.connect(rate=50)
        report = await campaign.work(client, budget=budget)  # on every worker
        report = await campaign.report()  # from any machine

    Each row is a mapping of keyword arguments for ``client.messages.<via>`` (as for
    ``send_many``); its Idempotency-Key is derived from the campaign name, the method, the
    row's index and its content, exactly as ``send_many(campaign=name)`` derives it.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        name: str,
        *,
        via: str = "send",
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        if not isinstance(name, str) or not name.strip() or len(name) > 1000:
            raise InvalidArgumentError(
                f"the campaign name must be a non-empty string (e.g. 'spring-sale-2026'), "
                f"got {name!r}"
            )
        if via not in _VIAS:
            raise InvalidArgumentError(f"via must be one of {', '.join(_VIAS)}; got {via!r}")
        self.name = name
        self.via = via
        self._client = client
        self._owns_client = False
        base = f"{prefix}{name}:"
        self._meta, self._rows, self._results = base + "meta", base + "rows", base + "results"

    def __repr__(self) -> str:
        return f"<RedisCampaign {self.name!r} via={self.via}>"

    @classmethod
    async def connect(
        cls, name: str, url: str | None = None, *, via: str = "send", prefix: str = DEFAULT_PREFIX
    ) -> RedisCampaign:
        """A campaign on a new client for ``url`` (default ``$TELNYX_REDIS_URL``), closed by
        :meth:`aclose`. An unreachable Redis raises ``ConfigurationError`` here."""
        client = await connect(url)
        try:
            campaign = cls(client, name, via=via, prefix=prefix)
        except InvalidArgumentError:
            await client.aclose()
            raise
        campaign._owns_client = True
        return campaign

    async def aclose(self) -> None:
        """Close the client if :meth:`connect` made it (yours stays open)."""
        if self._owns_client:
            self._owns_client = False
            await self._client.aclose()

    async def __aenter__(self) -> RedisCampaign:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- loading

    async def load(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Put the campaign's rows in Redis, once; return how many there are.

        Loading again with the same rows (another worker started with the same input) is a
        no-op; with different rows it raises ``ConfigurationError``: a campaign's rows never
        change under its keys. Raises ``InvalidArgumentError`` for a row that is not a mapping
        or holds a value with no stable encoding, before anything is written.
        """
        entries: list[dict[str, str]] = []
        digest = hashlib.sha256(self.via.encode())
        for index, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise InvalidArgumentError(
                    f"row {index} is a {type(row).__name__}; each row must be a mapping of "
                    "send arguments"
                )
            params = json.loads(encode_row(self.via, row))[1]
            content = row_hash(self.via, row)
            digest.update(f"{index}:{content};".encode())
            entries.append(
                {
                    "i": str(index),
                    "p": json.dumps(params, separators=(",", ":")),
                    "k": derive_key(self.name, self.via, index, content),
                }
            )
        fingerprint = digest.hexdigest()
        # The first loader sets the digest; a later one compares with it.
        if not await self._client.hsetnx(self._meta, "digest", fingerprint):
            await self._check_same(fingerprint, len(entries))
            return len(entries)
        with contextlib.suppress(redis.ResponseError):  # BUSYGROUP: it exists already
            await self._client.xgroup_create(self._rows, GROUP, id="0", mkstream=True)
        await self._client.hset(
            self._meta, mapping={"via": self.via, "total": len(entries), "created": time.time()}
        )
        for start in range(0, len(entries), _LOAD_BATCH):
            async with self._client.pipeline(transaction=False) as pipe:
                for entry in entries[start : start + _LOAD_BATCH]:
                    pipe.xadd(self._rows, entry)  # type: ignore[arg-type]
                await pipe.execute()
        await self._client.hset(self._meta, "loaded", len(entries))
        return len(entries)

    async def _check_same(self, fingerprint: str, total: int) -> None:
        meta = await self._client.hgetall(self._meta)
        known = {_text(k): _text(v) for k, v in meta.items()}
        if known.get("digest") != fingerprint or known.get("via", self.via) != self.via:
            raise ConfigurationError(
                f"campaign {self.name!r} already holds {known.get('total', '?')} other rows "
                f"(or another method); name this one differently, or run it with the same "
                "input (a campaign's rows never change under their keys)"
            )
        # Another worker is loading the same rows: wait until they are all in.
        while "loaded" not in known:
            await asyncio.sleep(0.05)
            known = {
                _text(k): _text(v) for k, v in (await self._client.hgetall(self._meta)).items()
            }
        if int(known["loaded"]) != total:  # pragma: no cover - same digest, same count
            raise ConfigurationError(f"campaign {self.name!r} holds another number of rows")

    async def retry_failed(self) -> int:
        """Queue the rows that failed again, with their same Idempotency-Keys; return how many.

        Their outcomes are dropped, so the workers (running, or started next) send them again;
        a message Telnyx created under a row's key is replayed, not created twice. Safe to
        call from several workers at once: each failed row is queued once.
        """
        failed = {
            _text(index)
            for index, value in (await self._client.hgetall(self._results)).items()
            if not json.loads(value)["ok"]
        }
        if not failed:
            return 0
        requeue = self._client.register_script(_REQUEUE)
        queued = 0
        entries: list[Any] = list(await self._client.xrange(self._rows) or ())
        for _, fields in entries:
            index = _text(fields[b"i"])
            if index in failed:
                failed.discard(index)  # a row queued again has two entries: the first will do
                queued += await requeue(
                    keys=[self._results, self._rows],
                    args=[index, _text(fields[b"p"]), _text(fields[b"k"])],
                )
        return queued

    # --- reading

    async def report(self) -> CampaignReport:
        """The campaign's outcomes so far, as one report (from any machine)."""
        meta = {_text(k): _text(v) for k, v in (await self._client.hgetall(self._meta)).items()}
        total = int(meta.get("loaded") or meta.get("total") or 0)
        rows = []
        for value in (await self._client.hgetall(self._results)).values():
            outcome = json.loads(value)
            rows.append(CampaignRow(**outcome))
        rows.sort(key=lambda row: row.index)
        sent = sum(row.ok for row in rows)
        return CampaignReport(
            name=self.name,
            total=total,
            sent=sent,
            failed=len(rows) - sent,
            pending=total - len(rows),
            rows=tuple(rows),
        )

    # --- working

    async def work(
        self,
        client: AsyncClient,
        *,
        budget: RedisRateBudget | None = None,
        worker: str | None = None,
        concurrency: int = 8,
        lease: float = 30.0,
        outage_timeout: float = 60.0,
        pacing: PacingProfile | str = "telnyx",
        rate_limit_timeout: float | None = None,
    ) -> CampaignReport:
        """Send rows until every row of the campaign has an outcome; return the report.

        ``worker`` names this worker in its consumer group (default: host and pid); give each
        worker its own. ``concurrency`` sends run at once. Rows another worker holds
        unacknowledged for ``lease`` seconds are taken over. While Redis is away the worker
        waits; after ``outage_timeout`` seconds it raises :class:`CampaignInterruptedError`
        with the rows it held.

        Sends are paced in Redis, shared by every worker (one account): by ``budget``'s
        rates when it has them, else by the ``pacing`` profile's account rate for the kind of
        message (``"telnyx"``: Telnyx's published limits, at 95%; ``"unpaced"``: none); with
        no ``budget``, one on the campaign's Redis with the default prefix. Telnyx's
        backpressure (429, 40318, 40011) costs a row no try: every worker is held for the
        wait Telnyx named (1 s when none) and the row goes again with the same key; a 429's
        ``x-ratelimit-limit`` is learned (paced at 95%) and shared with every worker. A row
        fails for rate limits only once it has been held back ``rate_limit_timeout``
        seconds (default: never).

        .. versionchanged:: 0.2.0 paced by default; backpressure is no try; ``pacing`` and
           ``rate_limit_timeout``.
        """
        _args.whole_number("concurrency", concurrency, minimum=1)
        for option, value, least in (
            ("lease", lease, 1.0),
            ("outage_timeout", outage_timeout, 0.0),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= least:
                raise InvalidArgumentError(f"{option} must be seconds >= {least:g}, got {value!r}")
        profile = profile_named(pacing)
        if rate_limit_timeout is not None and (
            isinstance(rate_limit_timeout, bool)
            or not isinstance(rate_limit_timeout, (int, float))
            or not rate_limit_timeout > 0
        ):
            raise InvalidArgumentError(
                f"rate_limit_timeout must be seconds > 0 or None (never), got "
                f"{rate_limit_timeout!r}"
            )
        if not await self._client.exists(self._meta):
            raise ConfigurationError(
                f"campaign {self.name!r} has no rows in Redis: load() them first (or pass "
                "rows= to run_campaign)"
            )
        run = _Worker(
            self,
            client,
            pace=_Pace(
                budget or RedisRateBudget(self._client, outage_timeout=outage_timeout), profile
            ),
            rate_limit_timeout=rate_limit_timeout,
            name=worker or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
            concurrency=concurrency,
            lease=float(lease),
            outage_timeout=float(outage_timeout),
        )
        await run.run()
        return await self.report()


class _Worker:
    """One worker's run: a reader feeding a small queue, and ``concurrency`` senders."""

    def __init__(
        self,
        campaign: RedisCampaign,
        client: AsyncClient,
        *,
        pace: _Pace,
        rate_limit_timeout: float | None,
        name: str,
        concurrency: int,
        lease: float,
        outage_timeout: float,
    ) -> None:
        self.campaign = campaign
        self.redis = campaign._client
        # One request per call: the worker owns retries, so backpressure costs no try.
        self.send = getattr(client.with_options(max_retries=0).messages, campaign.via)
        self.pace = pace
        self.rate_limit_timeout = rate_limit_timeout
        self.name = name
        self.concurrency = concurrency
        self.lease_ms = int(lease * 1000)
        self.outage_timeout = outage_timeout
        self.queue: asyncio.Queue[tuple[str, dict[bytes, Any]] | None] = asyncio.Queue(concurrency)
        self.held: dict[int, str] = {}  # row index -> stream entry id, taken and not recorded
        self.local: set[str] = set()  # entry ids queued or held here
        self.outage_began: float | None = None

    async def _redis(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """``await function(*args, **kwargs)``; while Redis is away, wait and try again, up to
        the outage timeout (every call here is safe to repeat)."""
        while True:
            try:
                result = await function(*args, **kwargs)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                now = time.monotonic()
                if self.outage_began is None:
                    self.outage_began = now
                    log.warning(
                        "campaign %r: Redis cannot be reached (%s); the worker waits (at most %gs)",
                        self.campaign.name,
                        type(exc).__name__,
                        self.outage_timeout,
                    )
                if now - self.outage_began >= self.outage_timeout:
                    raise CampaignInterruptedError(
                        self.campaign.name, sorted(self.held), type(exc).__name__
                    ) from None
                await asyncio.sleep(min(1.0, max(0.05, (now - self.outage_began) / 2)))
            else:
                if self.outage_began is not None:
                    self.outage_began = None
                    log.warning("campaign %r: Redis is back", self.campaign.name)
                return result

    async def run(self) -> None:
        senders = [asyncio.ensure_future(self._sender()) for _ in range(self.concurrency)]
        reader = asyncio.ensure_future(self._reader())
        try:
            done, _ = await asyncio.wait([reader, *senders], return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # a failure ends the run with its error
        finally:
            for task in (reader, *senders):
                task.cancel()
            await asyncio.gather(reader, *senders, return_exceptions=True)

    async def _reader(self) -> None:
        campaign, redis_ = self.campaign, self.redis
        cursor = "0-0"
        while True:
            # Rows a dead (or stuck) worker was given and never acknowledged.
            reply = await self._redis(
                redis_.xautoclaim,
                campaign._rows,
                GROUP,
                self.name,
                self.lease_ms,
                cursor,
                count=self.concurrency,
            )
            cursor = _text(reply[0])
            entries = list(reply[1])
            if not entries:
                answer = await self._redis(
                    redis_.xreadgroup,
                    GROUP,
                    self.name,
                    {campaign._rows: ">"},
                    count=self.concurrency,
                    block=200,
                )
                entries = list(answer[0][1]) if answer else []
            for raw_id, fields in entries:
                entry_id = _text(raw_id)
                # Our own rows come back from XAUTOCLAIM if they waited long here: once is enough.
                if fields and entry_id not in self.local:
                    self.local.add(entry_id)
                    await self.queue.put((entry_id, fields))
            if not entries and await self._finished():
                for _ in range(self.concurrency):
                    await self.queue.put(None)
                return

    async def _finished(self) -> bool:
        campaign = self.campaign
        loaded, outcomes = await self._redis(
            _pipeline, self.redis, [("hget", campaign._meta, "loaded"), ("hlen", campaign._results)]
        )
        return loaded is not None and outcomes >= int(loaded)

    async def _sender(self) -> None:
        campaign, redis_ = self.campaign, self.redis
        while (item := await self.queue.get()) is not None:
            entry_id, fields = item
            index = int(_text(fields[b"i"]))
            self.held[index] = entry_id
            if not await self._redis(redis_.hexists, campaign._results, str(index)):
                params = _revive(json.loads(_text(fields[b"p"])))
                outcome = await self._send(params, _text(fields[b"k"]))
                record = json.dumps({**outcome, "index": index, "worker": self.name})
                await self._redis(
                    _pipeline,
                    redis_,
                    [
                        ("hset", campaign._results, str(index), record),
                        ("xack", campaign._rows, GROUP, entry_id),
                    ],
                    transaction=True,
                )
            else:  # recorded by a worker that died before acknowledging: nothing to send
                await self._redis(redis_.xack, campaign._rows, GROUP, entry_id)
            del self.held[index]
            self.local.discard(entry_id)

    async def _budget(self, function: Any, *args: Any) -> None:
        """A budget call; the budget already waited out its own outage timeout when it raises."""
        try:
            await function(*args)
        except (redis.RedisError, OSError) as exc:
            raise CampaignInterruptedError(
                self.campaign.name, sorted(self.held), type(exc).__name__
            ) from None

    async def _send(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        sender = params.get("from_")
        sender = sender if isinstance(sender, str) else None
        kind = message_kind(self.campaign.via, params)
        tries = 0
        began = time.monotonic()
        while True:
            await self._budget(self.pace.turn, sender, kind)
            try:
                message = await self.send(**params, idempotency_key=key)
            except APIStatusError as exc:
                if is_backpressure(exc):
                    hold = server_wait(exc) or DEFAULT_HOLD
                    timeout = self.rate_limit_timeout
                    if timeout is not None and time.monotonic() - began + hold > timeout:
                        return _failed(exc, max(tries, 1))
                    await self._budget(self.pace.pushed_back, sender, kind, exc, hold)
                    continue  # the same row, the same key: no try spent
                tries += 1
                if exc.retryable and tries < MAX_TRIES:
                    await asyncio.sleep(_backoff(tries))
                    continue
                return _failed(exc, tries)
            except APIError as exc:  # no answer: maybe created; the same key makes a retry safe
                tries += 1
                if tries < MAX_TRIES:
                    await asyncio.sleep(_backoff(tries))
                    continue
                return _failed(exc, tries)
            except (InvalidArgumentError, TypeError) as exc:  # a row the method cannot take
                return {
                    "ok": False,
                    "error_code": "invalid_argument",
                    "error_title": str(exc),
                    "attempts": 0,
                }
            self.pace.went_through(sender)
            return {"ok": True, "message_id": message.id, "attempts": tries + 1}


class _Pace:
    """One worker's pacing: the shared budget at the profile's (or the budget's own) rates,
    lowered to the limits any worker learned from Telnyx's 429s, read from Redis each second.
    """

    def __init__(self, budget: RedisRateBudget, profile: PacingProfile) -> None:
        self.budget = budget
        self.profile = profile
        self.learned: dict[str, float] = {}
        self.read_at = -LEARNED_REFRESH
        self.recent: dict[str | None, list[float]] = {}  # sender -> when its sends left

    def rates(self, sender: str | None, kind: str) -> tuple[float | None, float | None]:
        """The account's and the sender's pace for a send now (None: not paced)."""
        account = self.budget.rate
        if account is None and (planned := self.profile.account_rate(kind)) is not None:
            account = planned * HEADROOM
        account = _lower(account, self.learned.get(f"account:{kind}"))
        per_sender = self.budget.per_sender_rate
        if sender is not None:
            per_sender = _lower(per_sender, self.learned.get(f"sender:{sender}"))
        return account, per_sender

    async def turn(self, sender: str | None, kind: str) -> None:
        """Wait for the send's turn at the paces known now: after a wait (a 429's hold)
        they are read again, so a limit learned meanwhile paces the sends that waited."""
        while True:
            now = time.monotonic()
            if now - self.read_at >= LEARNED_REFRESH:
                self.read_at = now
                # Redis away: keep what was read; try_turn waits out the outage.
                with contextlib.suppress(redis.RedisError, OSError):
                    self.learned = await self.budget.learned()
            account, per_sender = self.rates(sender, kind)
            wait = await self.budget.try_turn(
                sender, message_kind=kind, account_rate=account, sender_rate=per_sender
            )
            if wait <= 0:
                return
            await asyncio.sleep(wait + random.uniform(0, _JITTER))  # noqa: S311

    def went_through(self, sender: str | None) -> None:
        now = time.monotonic()
        times = self.recent.setdefault(sender, [])
        times.append(now)
        if len(times) > 64 or times[0] < now - _RECENT:
            times[:] = [t for t in times if t >= now - _RECENT]

    def _lately(self, sender: str | None = None, *, everyone: bool = False) -> int:
        since = time.monotonic() - _RECENT
        groups = self.recent.values() if everyone else [self.recent.get(sender, [])]
        return sum(1 for times in groups for t in times if t >= since)

    async def pushed_back(
        self, sender: str | None, kind: str, error: APIStatusError, hold: float
    ) -> None:
        """Telnyx said "slower": learn the limit a 429 named and hold every worker."""
        limit = _limit_named(error)
        if limit is not None:
            # The sender's limit when its own sends make most of this worker's lately (as
            # send_many's pacer judges it), else the account's.
            mine, everyone = self._lately(sender), self._lately(everyone=True)
            key = (
                f"sender:{sender}"
                if sender is not None and mine >= 0.8 * everyone
                else f"account:{kind}"
            )
            rate = limit * HEADROOM
            if rate < self.learned.get(key, float("inf")):
                self.learned[key] = rate
                await self.budget.learn(key, rate)
                log.info("Telnyx's limit for %s is %g/s: pacing it at %g/s", key, limit, rate)
        await self.budget.pause(hold)


def _lower(rate: float | None, learned: float | None) -> float | None:
    """The slower of two paces (None: no pace)."""
    if rate is None or learned is None:
        return learned if rate is None else rate
    return min(rate, learned)


def _limit_named(error: APIStatusError) -> float | None:
    """The ``x-ratelimit-limit`` a 429 named (a window's limit; 40318 is a queue: none)."""
    if error.status != 429:
        return None
    value = next((v for k, v in error.headers.items() if k.lower() == "x-ratelimit-limit"), None)
    try:
        limit = float(value) if value is not None else None
    except ValueError:
        return None
    return limit if limit is not None and 0 < limit < float("inf") else None


def _backoff(tries: int) -> float:
    return min(2.0**tries * 0.1, 5.0)


def _failed(exc: APIError, tries: int) -> dict[str, Any]:
    # Telnyx's code and title (never the request's URL); none of our own for no answer.
    code, title = describe(exc)
    return {"ok": False, "error_code": code, "error_title": title[:500], "attempts": tries}


async def _pipeline(
    client: redis.asyncio.Redis, calls: list[tuple[Any, ...]], *, transaction: bool = False
) -> list[Any]:
    async with client.pipeline(transaction=transaction) as pipe:
        for name, *args in calls:
            getattr(pipe, name)(*args)
        return list(await pipe.execute())


async def run_campaign(
    client: AsyncClient,
    *,
    campaign: str,
    url: str | None = None,
    rows: Iterable[Mapping[str, Any]] | None = None,
    via: str = "send",
    rate: float | None = None,
    per_sender_rate: float | None = None,
    worker: str | None = None,
    concurrency: int = 8,
    lease: float = 30.0,
    pacing: PacingProfile | str = "telnyx",
    rate_limit_timeout: float | None = None,
    retry_failed: bool = False,
) -> CampaignReport:
    """Run one worker of a campaign in Redis: what ``send-bulk --redis URL --campaign NAME`` does.

    Loads ``rows`` (when given; the same rows again are a no-op), shares one rate budget with
    every worker, sends until every row of the campaign has an outcome, and returns the
    report. Start as many workers as you like, on any machine. The budget paces the account
    at ``rate`` (default: the ``pacing`` profile's rate, Telnyx's published limits at 95%)
    and each sender at ``per_sender_rate`` (default: the limit Telnyx's 429s name, learned
    and shared); see :meth:`RedisCampaign.work` for backpressure and ``rate_limit_timeout``.
    ``retry_failed=True`` first queues the rows that failed again, with their same keys
    (:meth:`RedisCampaign.retry_failed`).

    .. versionadded:: 0.2.0
    """
    async with await RedisCampaign.connect(campaign, url, via=via) as redis_campaign:
        if rows is not None:
            await redis_campaign.load(rows)
        if retry_failed:
            queued = await redis_campaign.retry_failed()
            log.info("campaign %r: %d failed rows queued again", campaign, queued)
        budget = RedisRateBudget(redis_campaign._client, rate=rate, per_sender_rate=per_sender_rate)
        return await redis_campaign.work(
            client,
            budget=budget,
            worker=worker,
            concurrency=concurrency,
            lease=lease,
            pacing=pacing,
            rate_limit_timeout=rate_limit_timeout,
        )
