"""``telnyx-messaging send-bulk``: a CSV of recipients in, a CSV of results out.

::

    telnyx-messaging send-bulk recipients.csv --from +18445550001 --text "Hi {name}" \\
        --out results.csv

Everything that can be checked before sending is checked before sending: the file, its
columns, the placeholders in ``--text``, every row's ``to``. Then ``messages.send_many`` does
the sending with a journal beside the results, so ``--resume`` continues a run that was
stopped without sending anything twice. ``rich`` (the ``cli`` extra) draws a progress bar on a
terminal; without it, or when output is not a terminal, progress is printed as plain lines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from telnyx_messaging._cli._csv_input import BadInputError, CsvRow, CsvSource, read_rows
from telnyx_messaging._cli._results_csv import spreadsheet_safe
from telnyx_messaging._cli._template import Template, TemplateError
from telnyx_messaging._errors import InvalidArgumentError, TelnyxError

__all__ = ["add_send_bulk", "open_results", "send_bulk", "spreadsheet_safe"]

#: Columns with a meaning of their own; any other column only fills ``{placeholders}``.
FROM, MEDIA, PROFILE = "from", "media_urls", "messaging_profile_id"
RESULT_COLUMNS = ("row", "to", "status", "message_id", "error_code", "error_title", "attempts")


def _title_without_row(index: int, title: str | None) -> str:
    """The error title without send_many's 0-based "row N: " prefix.

    The file's own `row` column counts from 1; a second, 0-based row number in the title
    pointed at the row above.
    """
    prefix = f"row {index}: "
    if title is None:
        return ""
    return title.removeprefix(prefix)


DRY_RUN_COLUMNS = ("row", "to", "type", "encoding", "units", "parts")
#: Seconds between plain progress lines.
PLAIN_EVERY = 5.0
#: Exit status when results cannot be written (a full disk): the run stopped, --resume later.
EXIT_CANNOT_WRITE = 3


def add_send_bulk(commands: Any) -> None:
    """Register ``send-bulk`` on the command line's sub-parsers."""
    parser = commands.add_parser(
        "send-bulk",
        help="send one message per row of a CSV, with a results CSV and a resumable journal",
        description=(
            "Send one message per row of a CSV (column 'to' required; other columns fill "
            "{placeholders} in --text and may set from, media_urls, messaging_profile_id). "
            "Writes one results row per input row; a journal beside the results lets --resume "
            "continue a stopped run without sending anything twice. The API key is read from "
            "TELNYX_API_KEY."
        ),
    )
    parser.add_argument(
        "csv", help="the recipients, one per row ('-' reads standard input, whole, first)"
    )
    parser.add_argument("--text", required=True, help='the message, e.g. "Hi {name}"')
    parser.add_argument("--from", dest="from_", help="the sender, unless the CSV has 'from'")
    parser.add_argument(
        "--out",
        type=Path,
        help="results CSV (default: <csv name>.results.csv beside it; required with '-')",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the run whose journal sits beside --out"
    )
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="with --resume, also resend rows that failed (with the keys they had)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="send nothing; print each row's encoding and SMS parts, and the total",
    )
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight")
    parser.add_argument("--rate", type=float, help="messages per second for the whole run")
    parser.add_argument("--per-sender-rate", type=float, help="messages per second per sender")
    parser.add_argument(
        "--max-attempts", type=int, default=5, help="attempts per row before it fails (5)"
    )
    parser.add_argument("--base-url", help="API root (default: TELNYX_BASE_URL, then Telnyx)")
    parser.set_defaults(run=send_bulk)


def send_bulk(args: argparse.Namespace) -> int:
    """Run ``send-bulk``; the exit status: 0 all sent, 1 some failed, 2 bad input, 130 stopped."""
    err = sys.stderr
    try:
        plan = _plan(args)
    except BadInputError as exc:
        print(f"send-bulk: {exc}", file=err)
        return 2
    if args.dry_run:
        return _dry_run(plan, sys.stdout, err)
    try:
        return asyncio.run(_send(plan, args, err))
    except KeyboardInterrupt:  # pragma: no cover - tested in a subprocess (SIGINT)
        print(
            "send-bulk: stopped; sends in flight were let finish. Run the same command with "
            "--resume to continue: nothing sent is sent again.",
            file=err,
        )
        return 130
    except TelnyxError as exc:  # a client that cannot start, a journal that does not fit
        print(f"send-bulk: {exc}", file=err)
        return 2


# -- checking the input ---------------------------------------------------------------------


class _Plan:
    """What to send, checked: the CSV, its columns, the template, where results go."""

    def __init__(
        self, source: CsvSource, template: Template, sender: str | None, count: int
    ) -> None:
        self.source = source
        self.template = template
        self.sender = sender
        self.count = count
        self.out = Path()
        self.journal = Path()

    def rows(self) -> Iterator[tuple[CsvRow, dict[str, Any]]]:
        """Each CSV row with the ``messages.send`` arguments made from it."""
        with self.source.lines() as file:
            _, rows = read_rows(self.source, file)
            for row in rows:
                cells = row.cells
                kwargs: dict[str, Any] = {"to": cells["to"].strip()}
                sender = (cells.get(FROM) or "").strip() or self.sender
                if sender:
                    kwargs["from_"] = sender
                kwargs["text"] = self.template.fill(cells)
                media = (cells.get(MEDIA) or "").split()
                if media:
                    kwargs["media_urls"] = media
                profile = (cells.get(PROFILE) or "").strip()
                if profile:
                    kwargs["messaging_profile_id"] = profile
                yield row, kwargs


def _plan(args: argparse.Namespace) -> _Plan:
    text: str = args.text
    if not text.strip():
        raise BadInputError("--text is empty: give the message to send")
    try:
        template = Template(text)
    except TemplateError as exc:
        raise BadInputError(str(exc)) from None
    source = CsvSource.open(args.csv)
    with source.lines() as file:
        count = _check_csv(source, file, template, args.from_)
    plan = _Plan(source, template, args.from_, count)
    if args.dry_run:
        return plan
    plan.out, plan.journal = _where_results_go(args.out, source)
    if args.resume and not plan.journal.exists():
        raise BadInputError(
            f"nothing to resume: no journal at {str(plan.journal)!r}; run without --resume"
        )
    if not args.resume:
        for existing in (plan.out, plan.journal):
            if existing.exists():
                raise BadInputError(
                    f"{str(existing)!r} exists: add --resume to continue the run it belongs "
                    "to (nothing sent is sent again), or pass another --out"
                )
    if args.retry_failed and not args.resume:
        raise BadInputError("--retry-failed goes with --resume")
    return plan


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)  # a hard link: two names, one file
    except OSError:
        return False  # one of them does not exist yet


def _where_results_go(out: Path | None, source: CsvSource) -> tuple[Path, Path]:
    """The results file and the journal beside it, neither of them the input nor a device."""
    if out is None:
        if source.path is None:
            raise BadInputError(
                f"reading the CSV from {source.label}: say where the results go with --out"
            )
        out = source.path.with_suffix(".results.csv")
    journal = out.with_suffix(".journal.db")
    for role, path in (("--out", out), ("the journal (beside --out)", journal)):
        if source.path is not None and _same_file(path, source.path):
            raise BadInputError(
                f"{role} {str(path)!r} is the input {source.label}: writing it would destroy "
                "the recipient list; pass another --out"
            )
        if path.exists() and not path.is_file():
            raise BadInputError(
                f"{role} {str(path)!r} is not a regular file (a device, pipe or folder): the "
                "results and the journal must be kept to resume; pass --out with a file path"
            )
    return out, journal


def _check_csv(source: CsvSource, file: IO[str], template: Template, sender: str | None) -> int:
    """Read the whole CSV once; the number of rows, or BadInputError naming the row to fix."""
    where = source.label
    columns, rows = read_rows(source, file)
    if "to" not in columns:
        raise BadInputError(
            f"{where} has no 'to' column (columns: {', '.join(columns)}); "
            "name the recipients' column 'to'"
        )
    twice = sorted({name for name in columns if columns.count(name) > 1})
    if twice:
        # A row would keep the last of them and silently drop the others.
        raise BadInputError(
            f"{where} names the column {', '.join(map(repr, twice))} more than once; "
            "give each column its own name"
        )
    missing = [name for name in template.columns if name not in columns]
    if missing:
        raise BadInputError(
            f"--text uses {', '.join('{' + m + '}' for m in missing)} but {where} "
            f"has no such column (columns: {', '.join(columns)})"
        )
    if not sender and FROM not in columns and PROFILE not in columns:
        raise BadInputError(
            "say who sends: --from +1..., or a 'from' or 'messaging_profile_id' column"
        )
    count = 0
    for row in rows:
        count += 1
        here = f"{where} row {row.number} (line {row.line})"
        cells = row.cells
        if not cells["to"].strip():
            raise BadInputError(f"{here} has no 'to'")
        if not (sender or cells.get(FROM, "").strip() or cells.get(PROFILE, "").strip()):
            raise BadInputError(f"{here} has no sender: fill 'from', or pass --from")
    if not count:
        raise BadInputError(f"{where} has no rows below its header: nobody to send to")
    return count


# -- dry run --------------------------------------------------------------------------------


def _dry_run(plan: _Plan, out: IO[str], err: IO[str]) -> int:
    from telnyx_messaging._cli.sms import GSM7, sms_parts

    writer = csv.writer(out)
    writer.writerow(DRY_RUN_COLUMNS)
    parts = gsm = ucs = mms = 0
    for number, (_, kwargs) in enumerate(plan.rows(), start=1):
        counted = sms_parts(kwargs["text"])
        kind = "MMS" if "media_urls" in kwargs else "SMS"
        if kind == "MMS":
            mms += 1
        else:
            parts += counted.parts
            gsm += counted.encoding == GSM7
            ucs += counted.encoding != GSM7
        writer.writerow(
            (
                number,
                spreadsheet_safe(kwargs["to"]),
                kind,
                counted.encoding,
                counted.units,
                counted.parts,
            )
        )
    print(
        f"dry run, nothing sent: {plan.count} messages; {gsm + ucs} SMS in {parts} parts "
        f"({gsm} GSM-7, {ucs} UCS-2); {mms} MMS",
        file=err,
    )
    return 0


# -- sending --------------------------------------------------------------------------------


def open_results(path: Path) -> IO[str]:
    """The results file, opened for writing (a seam the tests fill up like a full disk)."""
    return path.open("w", newline="", encoding="utf-8")


class _CannotWriteError(Exception):
    """The results file could not be written (a full disk): the run stops."""

    def __init__(self, error: OSError, written: int) -> None:
        super().__init__(error.strerror or str(error))
        self.written = written


class _Results:
    """results.csv, opened at the first result, every row flushed as it comes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = 0
        self._file: IO[str] | None = None

    def write(self, row: tuple[Any, ...]) -> None:
        try:
            if self._file is None:
                # Opened at the first result, not before: a resume refused at its first row
                # (the CSV or --text changed) leaves the earlier results as they were.
                self._file = open_results(self.path)
                self._writer = csv.writer(self._file)
                self._writer.writerow(RESULT_COLUMNS)
            self._writer.writerow([spreadsheet_safe(str(cell)) for cell in row])
            self._file.flush()  # a crash loses no result already seen
        except OSError as exc:
            raise _CannotWriteError(exc, self.written) from exc
        self.written += 1

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):  # a flush failing again: already reported
                self._file.close()


async def _send(plan: _Plan, args: argparse.Namespace, err: IO[str]) -> int:
    from telnyx_messaging import AsyncClient

    started = time.monotonic()
    client = AsyncClient(base_url=args.base_url, max_connections=max(100, args.concurrency))
    show, finish = _progress(err, plan.count)
    inputs = plan.rows()
    failed = 0  # this run's failures and those an earlier run recorded
    results = _Results(plan.out)
    try:
        run = client.messages.send_many(
            (kwargs for _, kwargs in inputs),
            concurrency=args.concurrency,
            rate=args.rate,
            per_sender_rate=args.per_sender_rate,
            max_attempts=args.max_attempts,
            journal=plan.journal,
            retry_failed=args.retry_failed,
            on_progress=show,
            progress_interval=0.2,
            total=plan.count,
        )
        # The run first: it takes the journal's lock, so a second command on the same files
        # is refused before it could truncate the results of the one running.
        async with run:
            try:
                async for result in run:
                    failed += not result.ok
                    results.write(
                        (
                            result.index + 1,
                            result.params.get("to"),
                            "sent" if result.ok else "failed",
                            result.message_id or "",
                            result.error_code or "",
                            _title_without_row(result.index, result.error_title),
                            result.attempts,
                        )
                    )
            except InvalidArgumentError as exc:
                # Only a journal that does not match the input gets here (rows a send refuses
                # are failed results), and only --resume reaches an existing journal. The run's
                # words are send_many's: say what they mean for this command.
                raise InvalidArgumentError(
                    f"{exc} (Rows count from 0 there: row 0 is the first under the header.) "
                    "--resume needs the CSV, --text and --from of the run it continues; to start "
                    "over, pass another --out."
                ) from exc
            finally:
                results.close()
    except _CannotWriteError as exc:
        finish()
        await client.close()
        print(
            f"send-bulk: cannot write the results to {str(plan.out)!r} ({exc}): the run "
            f"stopped, sends in flight were let finish. {exc.written} results are in that "
            f"file; the journal {str(plan.journal)!r} knows every row sent. Make room, then "
            "run the same command with --resume: nothing sent is sent again.",
            file=err,
        )
        return EXIT_CANNOT_WRITE
    finally:
        finish()
        await client.close()
    stats = run.stats
    print(
        f"done in {time.monotonic() - started:.1f}s: {stats.sent} sent, {stats.failed} failed, "
        f"{stats.skipped} finished by an earlier run; {stats.attempts} requests; "
        f"paused {stats.paused_seconds:.1f}s for rate limits. Results: {plan.out}",
        file=err,
    )
    return 1 if failed else 0


def _line(stats: Any) -> str:
    eta = "?" if stats.eta is None else f"{stats.eta:.0f}s"
    total = "?" if stats.total is None else stats.total
    paused = f", paused for 429 ({stats.paused_seconds:.1f}s so far)" if stats.paused else ""
    return (
        f"{stats.done}/{total}: {stats.sent} sent, {stats.failed} failed, {stats.skipped} "
        f"skipped; {stats.rate:.1f}/s, ETA {eta}{paused}"
    )


def _progress(err: IO[str], total: int) -> tuple[Callable[[Any], None], Callable[[], None]]:
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
