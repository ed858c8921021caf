"""send-bulk's progress: a rich bar on a terminal, plain lines every few seconds elsewhere,
and a line each time send_many's pacing changes a budget's pace, with the reason."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from telnyx_messaging import PaceChange, PacingSnapshot

__all__ = ["PLAIN_EVERY", "describe_pace", "progress"]

#: Seconds between plain progress lines.
PLAIN_EVERY = 5.0

#: send_many's keywords in a pace's reason, as this command's flags.
_FLAGS = (("per_sender_rate=", "--per-sender-rate"), ("rate=", "--rate"))


def describe_pace(change: PaceChange) -> str:
    """``pace: sender +13125550100 9.5/s (429, x-ratelimit-limit 10)``."""
    scope = change.scope.replace(":", " ", 1)
    rate = "as fast as --concurrency allows" if change.rate is None else f"{change.rate:.3g}/s"
    reason = change.reason
    for keyword, flag in _FLAGS:
        reason = reason.replace(keyword, flag)
    return f"pace: {scope} {rate} ({reason})"


#: The rows with a result and those counts in words (see ``send_bulk._Totals``).
Tally = Callable[[], tuple[int, str]]


def _line(stats: Any, tally: Tally) -> str:
    eta = "?" if stats.eta is None else f"{stats.eta:.0f}s"
    total = "?" if stats.total is None else stats.total
    paused = (
        f", a budget held after a 429 ({stats.paused_seconds:.1f}s so far)" if stats.paused else ""
    )
    done, counts = tally()
    return f"{done}/{total}: {counts}; {stats.rate:.1f}/s, ETA {eta}{paused}"


def _stats_tally(stats: Any) -> Tally:
    """send_many's own counts, for a caller with none of its own."""
    return lambda: (
        stats.done,
        f"{stats.sent} sent, {stats.failed} failed, {stats.skipped} done before",
    )


class _NewChanges:
    """The pace changes not shown yet (the snapshot keeps only the latest ones)."""

    def __init__(self, pacing: Callable[[], PacingSnapshot | None]) -> None:
        self._pacing = pacing
        self._seen: set[PaceChange] = set()

    def __call__(self) -> list[PaceChange]:
        snapshot = self._pacing()
        if snapshot is None:
            return []
        new = [change for change in snapshot.changes if change not in self._seen]
        self._seen.update(new)
        return new


def progress(
    err: IO[str],
    total: int,
    pacing: Callable[[], PacingSnapshot | None] = lambda: None,
    tally: Tally | None = None,
) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """A progress hook for the run and a function to close the display.

    ``pacing`` gives the run's :class:`~telnyx_messaging.PacingSnapshot` (None before the
    run exists): each change of a budget's pace is shown once, as it happens. ``tally``
    gives the rows with a result and their counts in the caller's words (the summary's), so
    that the lines and the summary agree; without it, send_many's counts are shown.
    """
    new_changes = _NewChanges(pacing)
    if err.isatty():
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
        except ImportError:  # pragma: no cover - rich is in the `cli` extra
            pass
        else:  # pragma: no cover - needs a terminal; the plain lines are what tests see
            bar = Progress(
                TextColumn("sending"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[line]}"),
                console=Console(file=err),
            )
            task = bar.add_task("send", total=total, line="")
            bar.start()

            def show_bar(stats: Any) -> None:
                for change in new_changes():
                    bar.console.print(describe_pace(change), markup=False, highlight=False)
                line = _line(stats, tally or _stats_tally(stats)).split(": ", 1)[1]
                bar.update(task, completed=stats.done, line=line)

            def stop_bar() -> None:
                for change in new_changes():
                    bar.console.print(describe_pace(change), markup=False, highlight=False)
                bar.stop()  # safe to call twice

            return show_bar, stop_bar

    last = [0.0]
    shown: list[str] = []  # the last line printed
    latest: list[Any] = []  # the last stats seen

    def show_changes() -> None:
        for change in new_changes():
            print(describe_pace(change), file=err, flush=True)

    def print_line(stats: Any) -> None:
        line = _line(stats, tally or _stats_tally(stats))
        if not shown or shown[0] != line:
            shown[:] = [line]
            print(line, file=err, flush=True)

    def show_line(stats: Any) -> None:
        show_changes()
        latest[:] = [stats]
        now = time.monotonic()
        if now - last[0] >= PLAIN_EVERY or stats.done == stats.total:
            last[0] = now
            print_line(stats)

    def close() -> None:
        show_changes()
        # The results are counted as they are read, a moment after send_many counts them:
        # the last line is the one with every result in it.
        if latest and tally is not None and tally()[0] == latest[0].done:
            print_line(latest[0])

    return show_line, close
