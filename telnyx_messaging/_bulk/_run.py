"""``client.messages.send_many``: fan out one send per input row, with exactly one result each.

How a run is built (docs/bulk.md tells it from the user's side):

- It is given a **one-attempt send function** (a ``messages`` method of a client copy with
  retries off) and a :class:`~telnyx_messaging._bulk._options.BulkOptions`; it never sees the
  client or its resources.
- The **intake** (:mod:`~telnyx_messaging._bulk._intake`) reads rows lazily, never more than a
  window ahead of what the caller has taken, through the journal when there is one.
- ``concurrency`` **worker** tasks take rows from a queue, wait for their turn (the 429 pause,
  the rate buckets), make ONE attempt, and hand its answer to :meth:`BulkSend._handle_answer`:
  a result, or the row put back to retry. A row waiting to retry is a timer, not a worker, so
  it holds no slot. Every attempt of a row carries the row's Idempotency-Key.
- Results go to the caller through a queue, in the order sends finish. With
  ``await_delivery=tracker`` a sent row first waits, in a task of its own and holding no
  worker, for ``tracker.wait`` to give its final delivery outcome (or ``delivery_timeout``).
- Stopping (the caller left the loop, raised, or was cancelled; or the input failed): no new
  attempt starts, attempts in flight finish (or time out), every task is awaited, and the run
  lists the rows it never started and those it left unfinished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, Sized
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, cast

from attrs import evolve

from telnyx_messaging import _telemetry
from telnyx_messaging._bulk._counters import Counters
from telnyx_messaging._bulk._intake import Intake, Row, Rows
from telnyx_messaging._bulk._journal import CampaignJournal, Journal
from telnyx_messaging._bulk._options import BulkOptions, Via
from telnyx_messaging._bulk._pacing import (
    Pacer,
    PacingSnapshot,
    Turn,
    is_backpressure,
    message_kind,
)
from telnyx_messaging._bulk._results import BulkStats, SendResult, describe
from telnyx_messaging._errors import (
    AlreadySentError,
    APIError,
    APIStatusError,
    ConfigurationError,
    InvalidArgumentError,
    JournalError,
    PauseTooLongError,
    TelnyxError,
    UnprocessableEntityError,
)
from telnyx_messaging._http.retry import backoff_seconds, is_retryable, server_wait, wait_to_sleep
from telnyx_messaging._models import Message

if TYPE_CHECKING:
    from telnyx_messaging.webhooks._tracking import DeliveryOutcome, DeliveryTracker

__all__ = ["BulkSend", "SendOne", "Via"]

log = logging.getLogger("telnyx_messaging")

#: One attempt at sending one row: ``send(**row)`` with the row's Idempotency-Key among the
#: keywords, and no retries of its own (the run decides when a row is tried again).
SendOne = Callable[..., Awaitable[Any]]

_END = object()


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
        send: SendOne,
        rows: Rows,
        options: BulkOptions,
        *,
        max_attempts: int,
        pool_size: int | None = None,
        is_closed: Callable[[], bool] | None = None,
        sender_settings: Callable[[str], Awaitable[Any]] | None = None,
    ) -> None:
        """``send`` makes one attempt (no retries); ``max_attempts`` applies when
        ``options.max_attempts`` is None; ``pool_size`` is the connections the client can
        open, when known; ``is_closed`` says whether the client was closed meanwhile;
        ``sender_settings`` looks a sender's number up (its ``.type`` says long code,
        toll-free or short code) for the pacing profile."""
        if isinstance(rows, Mapping):
            raise InvalidArgumentError(
                "rows is a single mapping; pass an iterable of them, e.g. [row] or a generator"
            )
        if not isinstance(rows, (Iterable, AsyncIterable)) or isinstance(rows, (str, bytes)):
            raise InvalidArgumentError(
                "rows must be an iterable or async iterable of mappings of "
                f"messages.{options.via} keyword arguments, got {type(rows).__name__}"
            )
        concurrency = options.concurrency
        if pool_size is not None and concurrency > pool_size:
            raise InvalidArgumentError(
                f"concurrency={concurrency} is more than the client's pool of {pool_size} "
                "connections: the sends past it would only wait for a connection with their "
                "clock running. Lower concurrency, or make the client with "
                f"AsyncClient(max_connections={concurrency})."
            )
        self._options = options
        self._rows = rows
        self._send = send
        self._is_closed = is_closed
        self._sender_settings = sender_settings
        self._max_attempts = options.max_attempts or max_attempts
        total = options.total
        if total is None and isinstance(rows, Sized):
            total = len(rows)
        self._total = total
        self._tracker = options.await_delivery

        self._state: Literal["new", "running", "closed"] = "new"
        self._journal: CampaignJournal | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._sending: set[asyncio.Task[Any]] = set()
        self._delivery_waits: set[asyncio.Task[Any]] = set()
        self._timers: dict[int, tuple[asyncio.TimerHandle, Row]] = {}
        self._not_started: list[int] = []
        self._unfinished: list[int] = []
        self._leftover: list[SendResult] = []
        self._failure: BaseException | None = None
        self._stopping = False
        self._ended = False
        self._feeding = True
        self._journal_failed = False

    # -- the caller's side -------------------------------------------------------------------

    async def __aenter__(self) -> BulkSend:
        if self._state != "new":
            raise ConfigurationError("a send_many run can be entered once; call send_many again")
        if self._is_closed is not None and self._is_closed():
            raise ConfigurationError(
                "This AsyncClient is closed; start the run inside "
                "`async with AsyncClient() as client:`."
            )
        options = self._options
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._counters = Counters(loop.time())
        self._pacer = Pacer(
            profile=options.pacing,
            rate=options.rate,
            per_sender_rate=options.per_sender_rate,
            sender_types=None if options.sender_types == "lookup" else options.sender_types,
            lookup=self._sender_settings if options.sender_types == "lookup" else None,
            budget=options.budget,
            max_pause=options.max_pause,
            clock=loop.time,
        )
        self._ready: asyncio.Queue[Row] = asyncio.Queue()
        self._results: asyncio.Queue[Any] = asyncio.Queue()
        if isinstance(options.journal, str):
            self._journal = Journal(options.journal, via=options.via, campaign=options.campaign)
        else:
            self._journal = options.journal  # a store of the caller's own, or None
        self._intake = Intake(
            self._rows,
            via=options.via,
            concurrency=options.concurrency,
            journal=self._journal,
            campaign=options.campaign,
            retry_failed=options.retry_failed,
            ready=self._ready,
            counters=self._counters,
            outlet=self,
        )
        self._state = "running"
        self._telemetry_run = _telemetry.bulk_run_started(options.via, options.concurrency)
        self._tasks.append(loop.create_task(self._intake.feed(), name="send_many feeder"))
        self._tasks.extend(
            loop.create_task(self._work(), name=f"send_many worker {n}")
            for n in range(options.concurrency)
        )
        if options.on_progress is not None:
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
        self._intake.taken()
        result: SendResult = item
        return result

    @property
    def stats(self) -> BulkStats:
        """How far the run got: counts, rate, the 429 pauses."""
        if self._state == "new":
            return BulkStats(self._total, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0, False, 0.0, 0)
        return self._counters.snapshot(
            self._loop.time(), total=self._total, retrying=len(self._timers), gate=self._pacer.gate
        )

    @property
    def pacing(self) -> PacingSnapshot:
        """What the pacing is doing: each budget's pace and why it last changed, the requests
        spent and how many Telnyx pushed back (429, 40318, 40011). See docs/bulk.md.

        .. versionadded:: 0.2.0
        """
        if self._state == "new":
            return PacingSnapshot(requests=0, refused=0, rates={}, changes=())
        return self._pacer.snapshot()

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
                self.set_aside(self._ready.get_nowait())
            self._collect_leftovers()
            _telemetry.bulk_run_ended(self._telemetry_run, self._counters)
            closing: JournalError | None = None
            if self._journal is not None:
                try:
                    self._journal.close()
                except JournalError as exc:
                    closing = exc
        if crashed:  # pragma: no cover - a bug of ours: sends' own failures are results
            raise crashed[0]
        if closing is not None and not self._journal_failed:
            # The last outcomes could not be written: say so, even after a clean loop.
            raise closing

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
            self.set_aside(row)
        self._timers.clear()
        while not self._ready.empty():
            self.set_aside(self._ready.get_nowait())
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

    def set_aside(self, row: Row) -> None:
        """Leave ``row`` without a result: ``unfinished`` if it was tried, else ``not_started``."""
        (self._unfinished if row.attempts else self._not_started).append(row.index)
        self._counters.set_aside += 1

    def input_ended(self, error: Exception | None) -> None:
        """The intake read its last row (``error``: why it could not read on)."""
        if isinstance(error, JournalError):
            self._journal_failed = True
        if error is not None and self._failure is None:
            self._failure = error
        self._feeding = False
        self._check_end()

    def _check_end(self) -> None:
        if self._ended or (self._feeding and not self._stopping):
            return
        if self._counters.outstanding:
            return
        self._ended = True
        on_progress = self._options.on_progress
        if on_progress is not None and self._failure is None:
            try:
                on_progress(self.stats)
            except Exception as exc:  # noqa: BLE001 - the caller's hook: raised from `async for`
                self._failure = exc
        self._results.put_nowait(_END)
        if not self._stopping:
            self._stop()

    # -- sending --------------------------------------------------------------------------------

    async def _work(self) -> None:
        me = cast("asyncio.Task[None]", asyncio.current_task())
        _telemetry.join_bulk_run(self._telemetry_run)  # this task's sends link to the run
        ready, pacer, send, counters = self._ready, self._pacer, self._send, self._counters
        via = self._options.via
        row: Row | None = None
        try:
            while not self._ended:
                row = await ready.get()
                try:
                    turn = await pacer.wait_turn(row.sender, message_kind(via, row.kwargs))
                except PauseTooLongError as exc:  # a 10DLC daily cap reached
                    self.set_aside(row)
                    self._fail(exc)
                    return
                self._sending.add(me)
                counters.in_flight += 1
                try:
                    answer: Any = await send(**row.kwargs)
                except Exception as exc:  # noqa: BLE001 - one row's failure is that row's result
                    answer = exc
                finally:
                    counters.in_flight -= 1
                    self._sending.discard(me)
                # The row stays ours until judged: a hold that is cancelled sets it aside.
                await self._handle_answer(row, answer, turn)
                row = None
                if self._stopping:
                    return
        except asyncio.CancelledError:
            if row is not None:
                self.set_aside(row)
                self._check_end()
            raise

    async def _handle_answer(self, row: Row, answer: Any, turn: Turn) -> None:
        """The one place an attempt's answer is judged: the sent message, backpressure (429,
        40318, 40011), another failure. It becomes the row's result, or the row goes back to
        be tried again."""
        if not isinstance(answer, Exception):
            self._pacer.went_through(turn, getattr(answer, "wait_seconds", None))
            self._sent(row, answer)
            return
        if isinstance(answer, APIStatusError) and is_backpressure(answer):
            await self._pushed_back(row, answer, turn)
            return
        self._pacer.went_through(turn, None)  # refused or failed, but not for the pace
        if isinstance(answer, APIError):
            row.attempts += 1
            self._counters.attempts += 1
            if is_retryable(answer) and row.attempts < self._max_attempts:
                if self._stopping:
                    # Not failed: unfinished, its key kept in the journal for a later run.
                    self.set_aside(row)
                    self._check_end()
                else:
                    self._retry_later(row, answer)
                return
        elif isinstance(answer, InvalidArgumentError) or (
            # send(**row) with a keyword the method does not take.
            isinstance(answer, TypeError) and not isinstance(answer, TelnyxError)
        ):
            answer = InvalidArgumentError(f"row {row.index}: {answer}")
        if isinstance(answer, UnprocessableEntityError) and _reused_key(answer):
            answer = _already_sent(row, answer)
        self._emit(row, False, None, answer)

    def _sent(self, row: Row, message: Any) -> None:
        row.attempts += 1
        self._counters.attempts += 1
        if self._tracker is None or self._stopping:
            # Stopping: a send that finished in flight starts no wait, the run is ending.
            self._emit(row, True, message, None)
        else:
            self._await_delivery(self._tracker, self._record(row, True, message, None))

    async def _pushed_back(self, row: Row, error: APIStatusError, turn: Turn) -> None:
        """Telnyx said "slower": the pacer slows the budget concerned and holds it for the
        wait named, and the row goes back in line. It costs the row no attempt: Telnyx refused
        it unread. It fails only once the run's ``deadline`` has passed."""
        self._counters.attempts += 1  # a request spent all the same
        try:
            await self._pacer.pushed_back(turn, error)
        except PauseTooLongError as exc:
            self.set_aside(row)
            self._fail(exc)
            return
        deadline = self._options.deadline
        if deadline is not None and self._loop.time() - self._counters.started_at >= deadline:
            self._emit(row, False, None, error)
        elif self._stopping:
            self.set_aside(row)
            self._check_end()
        else:
            self._ready.put_nowait(row)

    def _retry_later(self, row: Row, error: APIError) -> None:
        wait = server_wait(error)
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

    def _requeue(self, row: Row) -> None:
        del self._timers[row.index]
        self._ready.put_nowait(row)

    # -- results --------------------------------------------------------------------------------

    def _emit(self, row: Row, ok: bool, message: Any, error: Exception | None) -> None:
        self.deliver(self._record(row, ok, message, error))

    def _record(self, row: Row, ok: bool, message: Any, error: Exception | None) -> SendResult:
        """Count and journal one row's outcome, and make its result."""
        key = row.kwargs.get("idempotency_key") if row.attempts else None
        if ok:
            self._counters.sent += 1
            message_id = message.id
            code = title = None
        else:
            self._counters.failed += 1
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
        if self._journal is not None and row.kwargs and not self._journal_failed:
            try:
                self._journal.finish(
                    row.index,
                    ok=ok,
                    message_id=message_id,
                    error_code=code,
                    error_title=title,
                    attempts=row.attempts,
                )
            except JournalError as exc:
                # The row still gets its result (it was sent); the run stops, loudly.
                self._journal_failed = True
                self._fail(exc)
        return result

    def deliver(self, result: SendResult) -> None:
        """Hand ``result`` to the caller's loop."""
        self._counters.emitted += 1
        self._results.put_nowait(result)
        self._check_end()

    # -- waiting for delivery -------------------------------------------------------------------

    def _await_delivery(self, tracker: DeliveryTracker, result: SendResult) -> None:
        """Hand a sent row to a task of its own that waits for its delivery outcome.

        The row no longer counts against the look-ahead (it is sent; MAX_AWAITING_DELIVERY
        bounds these instead), and the worker is free for the next row at once.
        """
        self._counters.awaiting += 1
        self._intake.release()
        message = result.message
        # The Message itself when there is one: the tracker then knows its recipients.
        sent = message if isinstance(message, Message) else cast("str", result.message_id)
        task = self._loop.create_task(
            _outcome_of(tracker, sent, self._options.delivery_timeout),
            name="send_many delivery wait",
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
        self._counters.awaiting -= 1
        self._intake.hold()
        if delivery is not None and delivery.final and delivery.delivered:
            self._counters.delivered += 1
        self.deliver(evolve(result, delivery=delivery, delivery_error=error))

    async def _tick(self) -> None:
        hook = cast("Callable[[BulkStats], object]", self._options.on_progress)
        interval = self._options.progress_interval
        while True:
            await asyncio.sleep(interval)
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


def _reused_key(error: UnprocessableEntityError) -> bool:
    """Whether a 422 is Telnyx refusing a reused Idempotency-Key with another body.

    Telnyx documents the 422 but not its error code, so its words are read.
    """
    return any(
        "idempoten" in f"{detail.title or ''} {detail.detail or ''}".lower()
        for detail in error.errors
    )


def _already_sent(row: Row, error: UnprocessableEntityError) -> AlreadySentError:
    key = row.kwargs.get("idempotency_key")
    exc = AlreadySentError(
        f"row {row.index}: already sent with other content: Telnyx created a message under "
        f"its Idempotency-Key {key!r} from a request with other content, and refuses this "
        "one (422). It was not sent again; send it under a new campaign (or key) if it must go.",
        key if isinstance(key, str) else None,
    )
    exc.__cause__ = error
    return exc
