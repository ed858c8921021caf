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
import csv
import string
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from telnyx_messaging._errors import InvalidArgumentError, TelnyxError

__all__ = ["add_send_bulk", "send_bulk"]

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


class BadInputError(Exception):
    """Input the command refuses before sending anything; the message says what to fix."""


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
    parser.add_argument("csv", type=Path, help="the recipients, one per row")
    parser.add_argument("--text", required=True, help='the message, e.g. "Hi {name}"')
    parser.add_argument("--from", dest="from_", help="the sender, unless the CSV has 'from'")
    parser.add_argument(
        "--out", type=Path, help="results CSV (default: <csv name>.results.csv beside it)"
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

    def __init__(self, path: Path, text: str, sender: str | None, count: int) -> None:
        self.path = path
        self.text = text
        self.sender = sender
        self.count = count
        self.out = Path()
        self.journal = Path()

    def rows(self) -> Iterator[tuple[dict[str, str], dict[str, Any]]]:
        """Each CSV row with the ``messages.send`` arguments made from it."""
        with self.path.open(newline="", encoding="utf-8-sig") as file:
            for row in csv.DictReader(file):
                kwargs: dict[str, Any] = {"to": row["to"].strip()}
                sender = (row.get(FROM) or "").strip() or self.sender
                if sender:
                    kwargs["from_"] = sender
                kwargs["text"] = self.text.format_map(row)
                media = (row.get(MEDIA) or "").split()
                if media:
                    kwargs["media_urls"] = media
                profile = (row.get(PROFILE) or "").strip()
                if profile:
                    kwargs["messaging_profile_id"] = profile
                yield row, kwargs


def _placeholders(text: str) -> set[str]:
    names: set[str] = set()
    try:
        for _, name, _, _ in string.Formatter().parse(text):
            if name is None:
                continue
            if not name or name.isdigit() or any(c in name for c in ".["):
                raise BadInputError(
                    f"--text has the placeholder {{{name}}}: use a CSV column name in braces, "
                    "like {name} (write {{ and }} for literal braces)"
                )
            names.add(name)
    except ValueError as exc:
        raise BadInputError(
            f"--text is not a valid template ({exc}); write {{{{ and }}}} for literal braces"
        ) from None
    return names


def _plan(args: argparse.Namespace) -> _Plan:
    text: str = args.text
    if not text.strip():
        raise BadInputError("--text is empty: give the message to send")
    path: Path = args.csv
    try:
        file = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise BadInputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    with file:
        count = _check_csv(path, file, text, args.from_)
    plan = _Plan(path, text, args.from_, count)
    if args.dry_run:
        return plan
    plan.out = args.out if args.out is not None else path.with_suffix(".results.csv")
    plan.journal = plan.out.with_suffix(".journal.db")
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


def _check_csv(path: Path, file: IO[str], text: str, sender: str | None) -> int:
    """Read the whole CSV once; the number of rows, or BadInputError naming the line to fix."""
    reader = csv.DictReader(file)
    try:
        columns = reader.fieldnames
        if not columns:
            raise BadInputError(f"{str(path)!r} is empty: the first line must name the columns")
        if "to" not in columns:
            raise BadInputError(
                f"{str(path)!r} has no 'to' column (columns: {', '.join(columns)}); "
                "name the recipients' column 'to'"
            )
        twice = sorted({name for name in columns if columns.count(name) > 1})
        if twice:
            # csv.DictReader would keep the last of them and silently drop the others.
            raise BadInputError(
                f"{str(path)!r} names the column {', '.join(map(repr, twice))} more than once; "
                "give each column its own name"
            )
        missing = sorted(_placeholders(text) - set(columns))
        if missing:
            raise BadInputError(
                f"--text uses {', '.join('{' + m + '}' for m in missing)} but {str(path)!r} "
                f"has no such column (columns: {', '.join(columns)})"
            )
        if not sender and FROM not in columns and PROFILE not in columns:
            raise BadInputError(
                "say who sends: --from +1..., or a 'from' or 'messaging_profile_id' column"
            )
        count = 0
        for row in reader:
            count += 1
            where = f"{str(path)!r} line {reader.line_num}"
            if None in row:
                raise BadInputError(f"{where} has more values than there are columns")
            if None in row.values():
                # DictReader fills the missing ones with None: "Hi {name}" would send "Hi None".
                raise BadInputError(f"{where} has fewer values than there are columns")
            if not (row["to"] or "").strip():
                raise BadInputError(f"{where} has no 'to'")
            if not (sender or (row.get(FROM) or "").strip() or (row.get(PROFILE) or "").strip()):
                raise BadInputError(f"{where} has no sender: fill 'from', or pass --from")
            try:
                text.format_map(row)
            except (ValueError, TypeError) as exc:
                raise BadInputError(f"{where}: --text cannot be filled in ({exc})") from None
    except csv.Error as exc:
        where = f"{str(path)!r} line {reader.line_num}"
        raise BadInputError(f"{where} is not valid CSV: {exc}") from None
    except UnicodeDecodeError as exc:
        raise BadInputError(
            f"{str(path)!r} is not UTF-8 text ({exc.reason}); save it as UTF-8"
        ) from None
    if not count:
        raise BadInputError(f"{str(path)!r} has no rows below its header: nobody to send to")
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
            (number, kwargs["to"], kind, counted.encoding, counted.units, counted.parts)
        )
    print(
        f"dry run, nothing sent: {plan.count} messages; {gsm + ucs} SMS in {parts} parts "
        f"({gsm} GSM-7, {ucs} UCS-2); {mms} MMS",
        file=err,
    )
    return 0


# -- sending --------------------------------------------------------------------------------


async def _send(plan: _Plan, args: argparse.Namespace, err: IO[str]) -> int:
    from telnyx_messaging import AsyncClient

    started = time.monotonic()
    client = AsyncClient(base_url=args.base_url, max_connections=max(100, args.concurrency))
    show, finish = _progress(err, plan.count)
    inputs = plan.rows()
    failed = 0  # this run's failures and those an earlier run recorded
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
            out: IO[str] | None = None
            try:
                async for result in run:
                    if out is None:
                        # Opened at the first result, not before: a resume refused at its first
                        # row (the CSV or --text changed) leaves the earlier results as they were.
                        out = plan.out.open("w", newline="", encoding="utf-8")
                        writer = csv.writer(out)
                        writer.writerow(RESULT_COLUMNS)
                    failed += not result.ok
                    writer.writerow(
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
                    out.flush()  # a crash loses no result already seen
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
                if out is not None:
                    out.close()
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
