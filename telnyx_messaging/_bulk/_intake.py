"""A run's intake: read the input lazily, a window ahead of the caller, through the journal.

The feeder numbers each row as it is read, refuses what is not a mapping, and hands the rest
to the workers' queue. With a journal, rows go in batches: each batch is looked up, rows an
earlier run finished get that run's result at once (nothing is sent), the others are recorded
as started before their first attempt. It never reads more than a window of rows past those
the caller has taken, so a generator of a million rows is never held in memory.

The run (:mod:`telnyx_messaging._bulk._run`) sees the intake through :class:`Outlet`: where
results and set-aside rows go, and the end of the input.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, Protocol

from telnyx_messaging._bulk._counters import Counters
from telnyx_messaging._bulk._journal import (
    FAILED,
    SENT,
    CampaignJournal,
    Entry,
    derive_key,
    row_hash,
)
from telnyx_messaging._bulk._results import SendResult, describe
from telnyx_messaging._errors import InvalidArgumentError
from telnyx_messaging._http.codec import new_idempotency_key

__all__ = ["Intake", "Outlet", "Row", "Rows"]

Rows = Iterable[Mapping[str, Any]] | AsyncIterable[Mapping[str, Any]]

#: How many rows past those the caller has taken the run may hold, on top of 2 x concurrency.
LOOKAHEAD = 256
#: New rows whose keys are committed to the journal in one transaction, at most.
JOURNAL_BATCH = 64
#: Sent rows that may wait for their delivery outcome at once; past it the run reads no new
#: row until some are final. Each costs a task and the tracker's copy of the message.
MAX_AWAITING_DELIVERY = 5_000


class Row:
    """A row on its way: what to send, with which key, how often it was tried."""

    __slots__ = ("attempts", "index", "kwargs", "params", "sender")

    def __init__(self, index: int, params: Mapping[str, Any], kwargs: dict[str, Any]) -> None:
        self.index = index
        self.params = params
        self.kwargs = kwargs
        sender = kwargs.get("from_")
        self.sender = sender if isinstance(sender, str) else None
        self.attempts = 0


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        # Sorted: equal content gives byte-identical requests, which Telnyx replays under a
        # key (another byte order under the same key would get a 422).
        return {k: _copy(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    return value


def snapshot(params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a row as it is now (nested lists and mappings too), so that a dict the caller
    reuses and changes for the next row cannot change this one. Keys must be strings."""
    taken: dict[str, Any] = {}
    for key, value in params.items():
        if not isinstance(key, str):
            raise InvalidArgumentError(
                f"has a column named {key!r}; names must be strings (csv.DictReader names "
                "a value past the header's columns None: check the row's number of fields)"
            )
        # Scalars (most values) are kept as they are; containers are copied.
        taken[key] = _copy(value) if isinstance(value, (Mapping, list, tuple)) else value
    return taken


def _row_error(index: int, exc: Exception) -> InvalidArgumentError:
    if isinstance(exc, InvalidArgumentError):
        return InvalidArgumentError(f"row {index}: {exc}")
    return InvalidArgumentError(f"row {index} cannot be read: {type(exc).__name__}: {exc}")


class Outlet(Protocol):
    """What the intake hands to the run."""

    def deliver(self, result: SendResult) -> None:
        """A row's one result, made without sending (refused, or finished by an earlier run)."""

    def set_aside(self, row: Row) -> None:
        """A row read and never tried: it goes to ``not_started``."""

    def input_ended(self, error: Exception | None) -> None:
        """No more rows: the input ran out, or ``error`` (raised from ``async for``)."""


class Intake:
    """Reads rows into the workers' queue; the feeder task runs :meth:`feed`."""

    def __init__(
        self,
        rows: Rows,
        *,
        via: str,
        concurrency: int,
        journal: CampaignJournal | None,
        campaign: str | None,
        retry_failed: bool,
        ready: asyncio.Queue[Row],
        counters: Counters,
        outlet: Outlet,
    ) -> None:
        self._rows = rows
        self._via = via
        self._journal = journal
        # Keys are derived when there is a campaign (given, or the journal's); else random.
        self._campaign = journal.campaign if journal is not None else campaign
        self._retry_failed = retry_failed
        self._ready = ready
        self._counters = counters
        self._outlet = outlet
        # Rows read and not yet taken by the caller: at most _window; the feeder reads again
        # once they are down to _low_water.
        self._window = 2 * concurrency + LOOKAHEAD
        self._low_water = self._window - min(64, self._window // 4)
        self._held = 0
        self._room = asyncio.Event()

    # -- the window ------------------------------------------------------------------------------

    def taken(self) -> None:
        """The caller took a result: one row less held."""
        self._held -= 1
        if self._held <= self._low_water:
            self._room.set()

    def release(self) -> None:
        """A sent row now waits for its delivery (MAX_AWAITING_DELIVERY bounds it instead)."""
        self._held -= 1
        self._room.set()

    def hold(self) -> None:
        """A row's delivery wait ended: it counts against the window again until taken."""
        self._held += 1
        self._room.set()  # the feeder may wait on MAX_AWAITING_DELIVERY; it checks again

    # -- reading ---------------------------------------------------------------------------------

    async def feed(self) -> None:
        """Read the whole input (or until cancelled), then tell the outlet it ended."""
        batch: list[Row] = []
        error: Exception | None = None
        counters = self._counters
        try:
            rows = self._rows
            is_async = isinstance(rows, AsyncIterable)
            iterator: Any = aiter(rows) if isinstance(rows, AsyncIterable) else iter(rows)
            while True:
                if batch and (len(batch) >= JOURNAL_BATCH or self._ready.empty()):
                    self._admit(batch)
                while self._held >= self._window or counters.awaiting >= MAX_AWAITING_DELIVERY:
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
                self._outlet.set_aside(row)
            raise
        except Exception as exc:  # noqa: BLE001 - the caller's input: raised from `async for`
            # The input (or the journal) failed: like its end, but raised from `async for` once
            # the rows read before it have their results.
            error = exc
            with contextlib.suppress(Exception):  # whatever it cannot take, it set aside
                self._admit(batch)
        finally:
            self._outlet.input_ended(error)

    def _take(self, params: object, batch: list[Row]) -> None:
        """Number a row just read; refuse what is not a mapping; queue it (or batch it)."""
        counters = self._counters
        index = counters.read
        counters.read += 1
        if not isinstance(params, Mapping):
            error = InvalidArgumentError(
                f"row {index}: a row is a mapping of messages.{self._via} keyword arguments, "
                f"got {type(params).__name__}"
            )
            self._refuse(index, error, params=params)
            return
        try:
            taken = snapshot(params)
        except Exception as exc:  # noqa: BLE001 - a row that cannot be read is that row's result
            self._refuse(index, _row_error(index, exc), params=params)
            return
        kwargs = dict(taken)
        row = Row(index, taken, kwargs)
        if self._journal is not None:
            batch.append(row)
            return
        if kwargs.get("idempotency_key") is None:
            if self._campaign is None:
                kwargs["idempotency_key"] = new_idempotency_key()
            else:
                digest = self._fingerprint(row)
                if digest is None:
                    return
                kwargs["idempotency_key"] = derive_key(self._campaign, self._via, index, digest)
        self._ready.put_nowait(row)

    def _admit(self, batch: list[Row]) -> None:
        """Journal a batch of rows: skip the finished, record the others before they go.

        Whatever happens, every row of the batch ends up queued, with a result, or set aside.
        """
        journal = self._journal
        if not batch or journal is None:
            return
        rows = batch[:]
        batch.clear()
        outlet = self._outlet
        try:
            known = journal.lookup(rows[0].index, rows[-1].index)
        except BaseException:
            for row in rows:
                outlet.set_aside(row)
            raise
        campaign, via = journal.campaign, self._via
        starting: list[tuple[int, str, str]] = []
        go: list[Row] = []
        changed: Row | None = None
        for n, row in enumerate(rows):
            digest = self._fingerprint(row)
            if digest is None:
                continue
            entry = known.get(row.index)
            if entry is not None and entry.params_hash != digest:
                changed = row
                for later in rows[n:]:
                    outlet.set_aside(later)
                break
            if entry is not None and (
                entry.state == SENT or (entry.state == FAILED and not self._retry_failed)
            ):
                self._resumed(row, entry)
                continue
            key = row.kwargs.get("idempotency_key")
            if key is None:
                # The same key as any earlier attempt of this row, recorded or not.
                key = row.kwargs["idempotency_key"] = derive_key(campaign, via, row.index, digest)
            starting.append((row.index, digest, key if isinstance(key, str) else repr(key)))
            go.append(row)
        if starting:
            try:
                journal.start(starting)
            except BaseException:
                for row in go:
                    outlet.set_aside(row)
                raise
        for row in go:
            self._ready.put_nowait(row)
        if changed is not None:
            raise InvalidArgumentError(
                f"row {changed.index} of the input is not the row {changed.index} the journal "
                f"{journal.name!r} recorded: the input changed since that run. Resume with "
                "the same input (same rows, same order), or pass a new journal."
            )

    def _fingerprint(self, row: Row) -> str | None:
        """The row's content hash, or None once the row has failed for lack of one."""
        try:
            return row_hash(self._via, row.params)
        except Exception as exc:  # noqa: BLE001 - e.g. a set, or a list that contains itself
            self._refuse(row.index, _row_error(row.index, exc), params=row.params)
            return None

    # -- rows that get their result without a send ------------------------------------------------

    def _refuse(self, index: int, error: Exception, *, params: Any) -> None:
        self._counters.failed += 1
        code, title = describe(error)
        self._outlet.deliver(
            SendResult(
                index=index,
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

    def _resumed(self, row: Row, entry: Entry) -> None:
        self._counters.skipped += 1
        self._outlet.deliver(
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
