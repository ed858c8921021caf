"""send-bulk's progress: a rich bar on a terminal, plain lines every few seconds elsewhere."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

__all__ = ["PLAIN_EVERY", "progress"]

#: Seconds between plain progress lines.
PLAIN_EVERY = 5.0


def _line(stats: Any) -> str:
    eta = "?" if stats.eta is None else f"{stats.eta:.0f}s"
    total = "?" if stats.total is None else stats.total
    paused = f", paused for 429 ({stats.paused_seconds:.1f}s so far)" if stats.paused else ""
    return (
        f"{stats.done}/{total}: {stats.sent} sent, {stats.failed} not sent, {stats.skipped} "
        f"done before; {stats.rate:.1f}/s, ETA {eta}{paused}"
    )


def progress(err: IO[str], total: int) -> tuple[Callable[[Any], None], Callable[[], None]]:
    """A progress hook for the run and a function to close the display."""
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
                line = _line(stats).split(": ", 1)[1]
                bar.update(task, completed=stats.done, line=line)

            return show_bar, bar.stop

    last = [0.0]

    def show_line(stats: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= PLAIN_EVERY or stats.done == stats.total:
            last[0] = now
            print(_line(stats), file=err, flush=True)

    return show_line, lambda: None
