"""``client.messages.send_many``: fan out one send per input row, with exactly one result each.

How a run is built (docs/bulk.md tells it from the user's side):

- A **feeder** task reads rows lazily, never more than a window ahead of what the caller has
  taken, so a generator of a million rows is never held in memory.
- ``concurrency`` **worker** tasks take rows from a queue, wait for their turn (the 429 pause,
  the rate buckets), make ONE attempt through a copy of the client with retries off, and
  either hand back a result or put the row back: a row waiting to retry is a timer, not a
  worker, so it holds no slot. Every attempt of a row carries the row's Idempotency-Key.
- Results go to the caller through a queue, in the order sends finish. With
  ``await_delivery=tracker`` a sent row first waits, in a task of its own and holding no
  worker, for ``tracker.wait`` to give its final delivery outcome (or ``delivery_timeout``).
- Stopping (the caller left the loop, raised, or was cancelled; or the input failed): no new
  attempt starts, attempts in flight finish (or time out), every task is awaited, and the run
  lists the rows it never started and those it left unfinished.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, cast

from attrs import evolve

from telnyx_messaging import _args
from telnyx_messaging._bulk._journal import FAILED, SENT, Entry, Journal, row_hash
from telnyx_messaging._bulk._pacing import Pacer, check_rate
from telnyx_messaging._bulk._results import BulkStats, SendResult, describe
from telnyx_messaging._errors import (
    APIError,
    ConfigurationError,
    InvalidArgumentError,
    RateLimitError,
    TelnyxError,
)
from telnyx_messaging._http.codec import new_idempotency_key
from telnyx_messaging._http.retry import backoff_seconds, is_retryable, server_wait, wait_to_sleep
from telnyx_messaging._models import Message

if TYPE_CHECKING:
    from telnyx_messaging._resources.messages import Messages
    from telnyx_messaging.webhooks._tracking import DeliveryOutcome, DeliveryTracker

__all__ = ["BulkSend", "Via"]

log = logging.getLogger("telnyx_messaging")

#: The ``messages`` methods a run can send with: every one that creates a message.
Via = Literal[
    "send",
    "send_long_code",
    "send_short_code",
    "send_number_pool",
    "schedule",
    "send_group_mms",
    "send_whatsapp",
]
_VIA: tuple[str, ...] = Via.__args__  # type: ignore[attr-defined]

Rows = Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]]

#: How many rows past those the caller has taken the run may hold, on top of 2 x concurrency.
_LOOKAHEAD = 256
#: New rows whose keys are committed to the journal in one transaction, at most.
_JOURNAL_BATCH = 64
#: Seconds of history behind ``BulkStats.rate``.
_RATE_WINDOW = 10.0
#: Sent rows that may wait for their delivery outcome at once; past it the run reads no new
#: row until some are final. Each costs a task and the tracker's copy of the message.
MAX_AWAITING_DELIVERY = 5_000


class _Row:
    """A row on its way: what to send, with which key, how often it was tried."""

    __slots__ = ("attempts", "index", "kwargs", "params", "sender")

    def __init__(self, index: int, params: Mapping[str, Any], kwargs: dict[str, Any]) -> None:
        self.index = index
        self.params = params
        self.kwargs = kwargs
        sender = kwargs.get("from_")
        self.sender = sender if isinstance(sender, str) else None
        self.attempts = 0


_END = object()


def _max_connections(messages: Messages) -> int | None:
    """The size of the pool the client opened itself; None when it cannot be known (a borrowed
    session, a transport of the caller's own)."""
    from telnyx_messaging._http.transports.aiohttp import AiohttpTransport

    transport = messages._client._connection.transport
    if isinstance(transport, AiohttpTransport) and transport._owns_session:
        return transport._max_connections
    return None


class BulkSend:
    """A running fan-out; made by :meth:`Messages.send_many`, used as ``async with ... as run``.

    ``async for result in run`` yields one :class:`SendResult` per input row, in the order the
    sends finish. ``run.stats`` says how far it got. Leaving the ``async with`` (normally, by
    ``break``, an exception or cancellation) stops the run: no new send starts, sends in flight
    finish or time out, every task ends; then :attr:`not_started`, :attr:`unfinished` and
    :attr:`leftover_results` say what was left.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        messages: Messages,
        rows: Rows,
        *,
        via: Via = "send",
        concurrency: int = 50,
        rate: float | None = None,
        per_sender_rate: float | None = None,
        max_attempts: int | None = None,
        journal: str | os.PathLike[str] | None = None,
        retry_failed: bool = False,
        on_progress: Callable[[BulkStats], object] | None = None,
        progress_interval: float = 1.0,
        total: int | None = None,
        await_delivery: DeliveryTracker | None = None,
        delivery_timeout: float = 600.0,
    ) -> None:
        if via not in _VIA:
            raise InvalidArgumentError(f"via must be one of {', '.join(_VIA)}; got {via!r}")
        if isinstance(rows, Mapping):
            raise InvalidArgumentError(
                "rows is a single mapping; pass an iterable of them, e.g. [row] or a generator"
            )
        if not isinstance(rows, (Iterable, AsyncIterable)) or isinstance(rows, (str, bytes)):
            raise InvalidArgumentError(
                "rows must be an iterable or async iterable of mappings of "
                f"messages.{via} keyword arguments, got {type(rows).__name__}"
            )
        _args.whole_number("concurrency", concurrency, minimum=1)
        pool = _max_connections(messages)
        if pool is not None and concurrency > pool:
            raise InvalidArgumentError(
                f"concurrency={concurrency} is more than the client's pool of {pool} "
                "connections: the sends past it would only wait for a connection with their "
                "clock running. Lower concurrency, or make the client with "
                f"AsyncClient(max_connections={concurrency})."
            )
        client = messages._client
        if max_attempts is None:
            max_attempts = client.max_retries + 1
        _args.whole_number("max_attempts", max_attempts, minimum=1)
        if (
            isinstance(progress_interval, bool)
            or not isinstance(progress_interval, (int, float))
            or not progress_interval > 0
        ):
            raise InvalidArgumentError(
                f"progress_interval must be a positive number of seconds, got {progress_interval!r}"
            )
        if on_progress is not None and not callable(on_progress):
            raise InvalidArgumentError("on_progress must be a callable taking a BulkStats")
        if await_delivery is not None:
            from telnyx_messaging.webhooks._tracking import DeliveryTracker

            if not isinstance(await_delivery, DeliveryTracker):
                raise InvalidArgumentError(
                    "await_delivery takes a webhooks.DeliveryTracker fed by your webhook "
                    f"receiver, got {type(await_delivery).__name__}"
                )
            if await_delivery.is_closed:
                raise ConfigurationError(
                    "the DeliveryTracker given as await_delivery is closed; pass an open one"
                )
        if (
            isinstance(delivery_timeout, bool)
            or not isinstance(delivery_timeout, (int, float))
            or not delivery_timeout > 0
        ):
            raise InvalidArgumentError(
                f"delivery_timeout must be a positive number of seconds, got {delivery_timeout!r}"
            )
        if total is None and isinstance(rows, collections.abc.Sized):
            total = len(rows)
        self._rows = rows
        self._client = client
        self._via = via
        # One attempt per call: this run decides when (and whether) a row is tried again, so a
        # row waiting to retry does not sit in a worker.
        self._send = getattr(client.with_options(max_retries=0).messages, via)
        self._concurrency = concurrency
        self._rate = check_rate("rate", rate)
        self._per_sender_rate = check_rate("per_sender_rate", per_sender_rate)
        self._max_attempts = max_attempts
        self._journal_path = journal
        self._retry_failed = bool(retry_failed)
        self._on_progress = on_progress
        self._progress_interval = float(progress_interval)
        self._total = total
        self._tracker = await_delivery
        self._delivery_timeout = float(delivery_timeout)

        self._state: Literal["new", "running", "closed"] = "new"
        self._journal: Journal | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._sending: set[asyncio.Task[Any]] = set()
        self._delivery_waits: set[asyncio.Task[Any]] = set()
        self._awaiting = self._delivered = 0
        self._timers: dict[int, tuple[asyncio.TimerHandle, _Row]] = {}
        self._not_started: list[int] = []
        self._unfinished: list[int] = []
        self._leftover: list[SendResult] = []
        self._failure: BaseException | None = None
        self._stopping = False
        self._ended = False
        self._feeding = True
        self._read = self._sent = self._failed = self._skipped = 0
        self._emitted = self._set_aside = self._in_flight = self._attempts = 0
        self._rate_samples: collections.deque[tuple[float, int]] = collections.deque()

    # -- the caller's side -------------------------------------------------------------------

    async def __aenter__(self) -> BulkSend:
        if self._state != "new":
            raise ConfigurationError("a send_many run can be entered once; call send_many again")
        if self._client.is_closed:
            raise ConfigurationError(
                "This AsyncClient is closed; start the run inside "
                "`async with AsyncClient() as client:`."
            )
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._started_at = loop.time()
        self._pacer = Pacer(loop, rate=self._rate, per_sender_rate=self._per_sender_rate)
        # Rows read and not yet taken by the caller: at most _window; the feeder reads again
        # once they are down to _low_water.
        self._window = 2 * self._concurrency + _LOOKAHEAD
        self._low_water = self._window - min(64, self._window // 4)
        self._held = 0
        self._room = asyncio.Event()
        self._ready: asyncio.Queue[_Row] = asyncio.Queue()
        self._results: asyncio.Queue[Any] = asyncio.Queue()
        if self._journal_path is not None:
            self._journal = Journal(self._journal_path, via=self._via)
        self._state = "running"
        self._tasks.append(loop.create_task(self._feed(), name="send_many feeder"))
        self._tasks.extend(
            loop.create_task(self._work(), name=f"send_many worker {n}")
            for n in range(self._concurrency)
        )
        if self._on_progress is not None:
            self._tasks.append(loop.create_task(self._tick(), name="send_many progress"))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> BulkSend:
        return self

    async def __anext__(self) -> SendResult:
        if self._state == "new":
            raise ConfigurationError(
                "enter the run first: `async with client.messages.send_many(rows) as run:` "
                "then `async for result in run:` (the block makes sure no send is left running)"
            )
        item = await self._results.get()
        if item is _END:
            self._results.put_nowait(_END)  # the next __anext__ ends too
            failure, self._failure = self._failure, None
            if failure is not None:
                raise failure
            raise StopAsyncIteration
        self._held -= 1
        if self._held <= self._low_water:
            self._room.set()
        result: SendResult = item
        return result

    @property
    def stats(self) -> BulkStats:
        """How far the run got: counts, rate, the 429 pauses."""
        if self._state == "new":
            return BulkStats(self._total, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, False, 0.0, 0)
        now = self._loop.time()
        finished = self._sent + self._failed
        samples = self._rate_samples
        if not samples or now - samples[-1][0] >= 0.5:
            samples.append((now, finished))
        while now - samples[0][0] > _RATE_WINDOW:
            samples.popleft()
        since, then = samples[0]
        if now - since < 1.0:  # too little recent history: the whole run's average
            since, then = self._started_at, 0
        elapsed = now - since
        gate = self._pacer.gate
        return BulkStats(
            total=self._total,
            read=self._read,
            sent=self._sent,
            failed=self._failed,
            skipped=self._skipped,
            in_flight=self._in_flight,
            retrying=len(self._timers),
            attempts=self._attempts,
            elapsed=now - self._started_at,
            rate=(finished - then) / elapsed if elapsed > 0 else 0.0,
            paused=gate.paused,
            paused_seconds=gate.paused_seconds,
            pauses=gate.pauses,
            awaiting_delivery=self._awaiting,
            delivered=self._delivered,
        )

    @property
    def not_started(self) -> list[int]:
        """Indices of rows read from the input but never attempted, in order.

        Rows at index ``stats.read`` and beyond were never read at all.
        """
        return sorted(self._not_started)

    @property
    def unfinished(self) -> list[int]:
        """Indices of rows attempted but left without an outcome when the run stopped.

        Whether Telnyx created them is unknown; with a journal, a new run on it re-sends them
        with the same key, so Telnyx creates each at most once.
        """
        return sorted(self._unfinished)

    @property
    def leftover_results(self) -> list[SendResult]:
        """Results the caller's loop never took: rows that finished while the run stopped."""
        return list(self._leftover)

    async def aclose(self) -> None:
        """Stop the run and wait until nothing is left running (``async with`` calls it).

        Sends in flight finish or time out; cancelling this wait cancels them too.
        """
        if self._state != "running":
            return
        self._state = "closed"
        self._stop()
        tasks = [*self._tasks, *self._delivery_waits]
        try:
            try:
                await asyncio.wait(tasks)
            except asyncio.CancelledError:
                # Cancelled while sends finish: cut them short too, but still end every task.
                for task in tasks:
                    task.cancel()
                while not all(t.done() for t in tasks):
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait(tasks)
                raise
        finally:
            crashed = [e for t in tasks if not t.cancelled() and (e := t.exception()) is not None]
            while not self._ready.empty():
                self._aside(self._ready.get_nowait())
            self._collect_leftovers()
            if self._journal is not None:
                self._journal.close()
        if crashed:  # pragma: no cover - a bug of ours: sends' own failures are results
            raise crashed[0]

    def _collect_leftovers(self) -> None:
        queue = self._results
        while not queue.empty():
            item = queue.get_nowait()
            if item is not _END:
                self._leftover.append(item)
        queue.put_nowait(_END)
        self._ended = True

    # -- stopping -------------------------------------------------------------------------------

    def _stop(self) -> None:
        """No new attempts: set aside rows not yet started, cancel every task not sending."""
        if self._stopping:
            return
        self._stopping = True
        for handle, row in self._timers.values():
            handle.cancel()
            self._aside(row)
        self._timers.clear()
        while not self._ready.empty():
            self._aside(self._ready.get_nowait())
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current and task not in self._sending:
                task.cancel()
        for task in self._delivery_waits:  # each still hands back its row's result
            task.cancel()
        self._check_end()

    def _fail(self, exc: BaseException) -> None:
        """End the run with ``exc``, raised from ``async for`` once sends in flight are in."""
        if self._failure is None:
            self._failure = exc
        self._stop()

    def _aside(self, row: _Row) -> None:
        (self._unfinished if row.attempts else self._not_started).append(row.index)
        self._set_aside += 1

    def _check_end(self) -> None:
        if self._ended or (self._feeding and not self._stopping):
            return
        if self._read - self._emitted - self._set_aside:
            return
        self._ended = True
        if self._on_progress is not None and self._failure is None:
            try:
                self._on_progress(self.stats)
            except Exception as exc:  # noqa: BLE001 - the caller's hook: raised from `async for`
                self._failure = exc
        self._results.put_nowait(_END)
        if not self._stopping:
            self._stop()

    # -- reading the input ----------------------------------------------------------------------

    async def _feed(self) -> None:
        batch: list[_Row] = []
        try:
            rows = self._rows
            is_async = isinstance(rows, AsyncIterable)
            iterator: Any = aiter(rows) if isinstance(rows, AsyncIterable) else iter(rows)
            while True:
                if batch and (len(batch) >= _JOURNAL_BATCH or self._ready.empty()):
                    self._admit(batch)
                while self._held >= self._window or self._awaiting >= MAX_AWAITING_DELIVERY:
                    # Full: wait until the caller has taken a good handful, not one row (one
                    # wake-up per refill instead of one per row).
                    self._admit(batch)
                    self._room.clear()
                    await self._room.wait()
                try:
                    params = await anext(iterator) if is_async else next(iterator)
                except (StopIteration, StopAsyncIteration):
                    break
                self._held += 1
                self._take(params, batch)
            self._admit(batch)
        except asyncio.CancelledError:
            for row in batch:
                self._aside(row)
            raise
        except Exception as exc:  # noqa: BLE001 - the caller's input: raised from `async for`
            # The input (or the journal) failed: like its end, but raised from `async for` once
            # the rows read before it have their results.
            if self._failure is None:
                self._failure = exc
            with contextlib.suppress(Exception):
                self._admit(batch)  # whatever it cannot take, it sets aside
        finally:
            self._feeding = False
            self._check_end()

    def _take(self, params: object, batch: list[_Row]) -> None:
        """Number a row just read; refuse what is not a mapping; queue it (or batch it)."""
        index = self._read
        self._read += 1
        if not isinstance(params, Mapping):
            error = InvalidArgumentError(
                f"row {index}: a row is a mapping of messages.{self._via} keyword arguments, "
                f"got {type(params).__name__}"
            )
            self._emit_failure(_Row(index, {}, {}), error, params=params)
            return
        kwargs = dict(params)
        if self._journal is None:
            if kwargs.get("idempotency_key") is None:
                kwargs["idempotency_key"] = new_idempotency_key()
            self._ready.put_nowait(_Row(index, params, kwargs))
        else:
            batch.append(_Row(index, params, kwargs))

    def _admit(self, batch: list[_Row]) -> None:
        """Journal a batch of rows: skip the finished, re-key the unfinished, record the new."""
        journal = self._journal
        if not batch or journal is None:
            return
        rows = batch[:]
        batch.clear()
        known = journal.lookup(rows[0].index, rows[-1].index)
        starting: list[tuple[int, str, str]] = []
        go: list[_Row] = []
        changed: _Row | None = None
        for n, row in enumerate(rows):
            digest = row_hash(self._via, row.params)
            entry = known.get(row.index)
            if entry is not None and entry.params_hash != digest:
                changed = row
                for later in rows[n:]:
                    self._aside(later)
                break
            if entry is not None and (
                entry.state == SENT or (entry.state == FAILED and not self._retry_failed)
            ):
                self._emit_resumed(row, entry)
                continue
            if entry is not None:
                # Started (or failed) before: the same key, so Telnyx knows it again.
                row.kwargs["idempotency_key"] = entry.idempotency_key
            elif row.kwargs.get("idempotency_key") is None:
                row.kwargs["idempotency_key"] = new_idempotency_key()
            key = row.kwargs["idempotency_key"]
            starting.append((row.index, digest, key if isinstance(key, str) else repr(key)))
            go.append(row)
        if starting:
            try:
                journal.start(starting)
            except BaseException:  # pragma: no cover - a journal that cannot be written (disk full)
                for row in go:
                    self._aside(row)
                raise
        for row in go:
            self._ready.put_nowait(row)
        if changed is not None:
            raise InvalidArgumentError(
                f"row {changed.index} of the input is not the row {changed.index} the journal "
                f"{journal.path!r} recorded: the input changed since that run. Resume with "
                "the same input (same rows, same order), or pass a new journal."
            )

    # -- sending --------------------------------------------------------------------------------

    async def _work(self) -> None:
        me = cast("asyncio.Task[None]", asyncio.current_task())
        ready, pacer, send = self._ready, self._pacer, self._send
        paces = pacer.paces
        row: _Row | None = None
        try:
            while not self._ended:
                row = await ready.get()
                if paces or pacer.gate.until:
                    await pacer.wait_turn(row.sender)
                self._sending.add(me)
                self._in_flight += 1
                try:
                    outcome: Any = await send(**row.kwargs)
                except Exception as exc:  # noqa: BLE001 - one row's failure is that row's result
                    outcome = exc
                finally:
                    self._in_flight -= 1
                    self._sending.discard(me)
                done, row = row, None
                self._settle(done, outcome)
                if self._stopping:
                    return
        except asyncio.CancelledError:
            if row is not None:
                self._aside(row)
                self._check_end()
            raise

    def _settle(self, row: _Row, outcome: Any) -> None:
        """Turn one attempt's outcome into a result, or put the row back to retry."""
        if not isinstance(outcome, Exception):
            row.attempts += 1
            self._attempts += 1
            if self._tracker is None or self._stopping:
                # Stopping: a send that finished in flight starts no wait, the run is ending.
                self._emit(row, True, outcome, None)
            else:
                self._await_delivery(self._tracker, self._record(row, True, outcome, None))
            return
        if isinstance(outcome, APIError):
            row.attempts += 1
            self._attempts += 1
            if is_retryable(outcome) and row.attempts < self._max_attempts:
                if self._stopping:
                    # Not failed: unfinished, its key kept in the journal for a later run.
                    self._aside(row)
                    self._check_end()
                else:
                    self._retry_later(row, outcome)
                return
        elif isinstance(outcome, InvalidArgumentError) or (
            # send(**row) with a keyword the method does not take.
            isinstance(outcome, TypeError) and not isinstance(outcome, TelnyxError)
        ):
            outcome = InvalidArgumentError(f"row {row.index}: {outcome}")
        self._emit(row, False, None, outcome)

    def _retry_later(self, row: _Row, error: APIError) -> None:
        wait = server_wait(error)
        if isinstance(error, RateLimitError):
            # Everybody waits, not just this row: the limit is the account's.
            pause = wait_to_sleep(backoff_seconds(row.attempts) if wait is None else wait)
            log.info("429 from Telnyx: pausing every send of the run for %.2fs", pause)
            self._pacer.gate.pause(pause)
            self._ready.put_nowait(row)
            return
        wait = wait_to_sleep(backoff_seconds(row.attempts) if wait is None else wait)
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "row %d: attempt %d failed (%s); next in %.2fs",
                row.index,
                row.attempts,
                type(error).__name__,
                wait,
            )
        self._timers[row.index] = (
            self._loop.call_later(wait, self._requeue, row),
            row,
        )

    def _requeue(self, row: _Row) -> None:
        del self._timers[row.index]
        self._ready.put_nowait(row)

    # -- results --------------------------------------------------------------------------------

    def _emit(self, row: _Row, ok: bool, message: Any, error: Exception | None) -> None:
        self._deliver(self._record(row, ok, message, error))

    def _record(self, row: _Row, ok: bool, message: Any, error: Exception | None) -> SendResult:
        """Count and journal one row's outcome, and make its result."""
        key = row.kwargs.get("idempotency_key") if row.attempts else None
        if ok:
            self._sent += 1
            message_id = message.id
            code = title = None
        else:
            self._failed += 1
            message_id = None
            code, title = describe(cast("Exception", error))
        result = SendResult(
            index=row.index,
            params=row.params,
            ok=ok,
            message=message,
            error=error,
            attempts=row.attempts,
            idempotency_key=key if isinstance(key, str) else None,
            message_id=message_id,
            error_code=code,
            error_title=title,
        )
        if self._journal is not None and row.kwargs:
            self._journal.finish(
                row.index,
                ok=ok,
                message_id=message_id,
                error_code=code,
                error_title=title,
                attempts=row.attempts,
            )
        return result

    # -- waiting for delivery -------------------------------------------------------------------

    def _await_delivery(self, tracker: DeliveryTracker, result: SendResult) -> None:
        """Hand a sent row to a task of its own that waits for its delivery outcome.

        The row no longer counts against the look-ahead (it is sent; MAX_AWAITING_DELIVERY
        bounds these instead), and the worker is free for the next row at once.
        """
        self._awaiting += 1
        self._held -= 1
        self._room.set()  # the feeder checks both bounds again
        message = result.message
        # The Message itself when there is one: the tracker then knows its recipients.
        sent = message if isinstance(message, Message) else cast("str", result.message_id)
        task = self._loop.create_task(
            _outcome_of(tracker, sent, self._delivery_timeout), name="send_many delivery wait"
        )
        self._delivery_waits.add(task)
        # A done callback, not code in the task: it runs even for a task cancelled before
        # its first step, so every sent row still gets its one result.
        task.add_done_callback(lambda done: self._delivery_known(tracker, result, done))

    def _delivery_known(
        self,
        tracker: DeliveryTracker,
        result: SendResult,
        task: asyncio.Task[tuple[DeliveryOutcome | None, Exception | None]],
    ) -> None:
        self._delivery_waits.discard(task)
        if task.cancelled():  # the run stopped: what is known so far
            delivery, error = tracker.outcome(cast("str", result.message_id)), None
        else:
            delivery, error = task.result()
        self._awaiting -= 1
        self._held += 1
        if delivery is not None and delivery.final and delivery.delivered:
            self._delivered += 1
        self._room.set()  # the feeder may wait on MAX_AWAITING_DELIVERY; it checks again
        self._deliver(evolve(result, delivery=delivery, delivery_error=error))

    def _emit_failure(self, row: _Row, error: Exception, *, params: Any) -> None:
        self._failed += 1
        code, title = describe(error)
        self._deliver(
            SendResult(
                index=row.index,
                params=params,
                ok=False,
                message=None,
                error=error,
                attempts=0,
                idempotency_key=None,
                message_id=None,
                error_code=code,
                error_title=title,
            )
        )

    def _emit_resumed(self, row: _Row, entry: Entry) -> None:
        self._skipped += 1
        self._deliver(
            SendResult(
                index=row.index,
                params=row.params,
                ok=entry.state == SENT,
                message=None,
                error=None,
                attempts=entry.attempts,
                idempotency_key=entry.idempotency_key,
                message_id=entry.message_id,
                error_code=entry.error_code,
                error_title=entry.error_title,
                resumed=True,
            )
        )

    def _deliver(self, result: SendResult) -> None:
        self._emitted += 1
        self._results.put_nowait(result)
        self._check_end()

    async def _tick(self) -> None:
        hook = cast("Callable[[BulkStats], object]", self._on_progress)
        while True:
            await asyncio.sleep(self._progress_interval)
            try:
                hook(self.stats)
            except Exception as exc:  # noqa: BLE001 - the caller's hook: raised from `async for`
                self._fail(exc)
                return


async def _outcome_of(
    tracker: DeliveryTracker, message: Message | str, timeout: float
) -> tuple[DeliveryOutcome | None, Exception | None]:
    """The delivery outcome, or the last one known and why the wait ended without it."""
    from telnyx_messaging.webhooks._tracking import DeliveryTimeoutError

    try:
        return await tracker.wait(message, timeout=timeout), None
    except DeliveryTimeoutError as exc:
        return exc.last, exc
    except Exception as exc:  # noqa: BLE001 - a closed tracker, a poll that cannot work: this row's
        return None, exc
