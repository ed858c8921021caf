"""What a sync :class:`~telnyx_messaging.Client`'s ``messages.send_many`` returns.

The async run (:class:`~telnyx_messaging.BulkSend`) does the work on the client's loop thread;
this drives it from a plain ``with`` and ``for``::

    with client.messages.send_many(rows, concurrency=50, rate=50) as run:
        for result in run:
            print(result.index, result.message_id if result.ok else result.error)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TypeVar

from telnyx_messaging._bulk import BulkSend, BulkStats, PacingSnapshot, SendResult
from telnyx_messaging._sync.loop import LoopThread

__all__ = ["SyncBulkSend"]

T = TypeVar("T")


class SyncBulkSend:
    """A running fan-out for sync code: ``with client.messages.send_many(rows) as run:``.

    ``for result in run`` yields one :class:`SendResult` per row as the sends finish, exactly
    as ``async for`` does on :class:`BulkSend`; leaving the ``with`` block stops the run the
    same way. The sends run concurrently on the client's loop thread; your loop body runs in
    your thread, and an ``on_progress`` callback on the loop thread.

    .. versionadded:: 0.2.0
    """

    __slots__ = ("_loop", "_run")

    def __init__(self, run: BulkSend, loop: LoopThread) -> None:
        self._run = run
        self._loop = loop

    def __enter__(self) -> SyncBulkSend:
        self._loop.run(self._run.__aenter__())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._loop.run(self._run.__aexit__(exc_type, exc, tb))

    def __iter__(self) -> Iterator[SendResult]:
        while True:
            try:
                yield self._loop.run(self._run.__anext__())
            except StopAsyncIteration:
                return

    def close(self) -> None:
        """Stop the run and wait until nothing is left running (the ``with`` block calls it)."""
        self._loop.run(self._run.aclose())

    def _read(self, read: Callable[[BulkSend], T]) -> T:
        # The run's state belongs to its loop: read it there, not from this thread.
        async def on_loop() -> T:
            return read(self._run)

        return self._loop.run(on_loop())

    @property
    def stats(self) -> BulkStats:
        """How far the run got: counts, rate, the 429 pauses (see :attr:`BulkSend.stats`)."""
        return self._read(lambda run: run.stats)

    @property
    def pacing(self) -> PacingSnapshot:
        """Each budget's pace and why it changed, requests spent (see :attr:`BulkSend.pacing`).

        .. versionadded:: 0.2.0
        """
        return self._read(lambda run: run.pacing)

    @property
    def not_started(self) -> list[int]:
        """Indices of rows read but never attempted (see :attr:`BulkSend.not_started`)."""
        return self._read(lambda run: run.not_started)

    @property
    def unfinished(self) -> list[int]:
        """Indices of rows attempted but left without an outcome when the run stopped."""
        return self._read(lambda run: run.unfinished)

    @property
    def leftover_results(self) -> list[SendResult]:
        """Results the caller's loop never took: rows that finished while the run stopped."""
        return self._read(lambda run: run.leftover_results)
