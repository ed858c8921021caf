"""``telnyx-messaging send-bulk``: a CSV of recipients in, a CSV of results out.

::

    telnyx-messaging send-bulk recipients.csv --from +18445550001 --text "Hi {name}" \\
        --out results.csv

Everything that can be checked before sending is checked before sending: the file, its
columns, the placeholders in ``--text``, and every row's values with the library's own
argument checks (see :mod:`._campaign`, shared with ``--dry-run``, so the dry run reports what
the live run would refuse). Then ``messages.send_many`` does the sending with a journal beside
the results, so ``--resume`` continues a run that was stopped without sending anything twice.
``rich`` (the ``cli`` extra) draws a progress bar on a terminal; without it, or when output is
not a terminal, progress is printed as plain lines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from attrs import define, field

from telnyx_messaging._cli._argtypes import _delimiter, _positive, _positive_rate, _price
from telnyx_messaging._cli._campaign import (
    INVALID,
    NO_SENDER,
    SENT_EARLIER,
    Earlier,
    PlannedRow,
    Planner,
)
from telnyx_messaging._cli._csv_input import BadInputError, CsvSource, read_rows
from telnyx_messaging._cli._dry_run import write_report
from telnyx_messaging._cli._progress import progress
from telnyx_messaging._cli._redis_run import check_redis_args, run_in_redis
from telnyx_messaging._cli._results_csv import (
    RESULT_COLUMNS,
    CannotWriteError,
    ResultsFile,
    unescape,
)
from telnyx_messaging._cli._template import Template, TemplateError
from telnyx_messaging._cli._words import plural, rows_list
from telnyx_messaging._errors import (
    AlreadySentError,
    InvalidArgumentError,
    JournalError,
    PauseTooLongError,
    TelnyxError,
)

if TYPE_CHECKING:
    from telnyx_messaging import AsyncClient, BulkSend

__all__ = ["add_send_bulk", "send_bulk"]

#: Exit status when Telnyx asked for a wait longer than --max-pause: --resume later.
EXIT_PAUSED = 4
#: error_code of a row Telnyx refused because its key was used with other content.
ALREADY_SENT = "already_sent"
#: Exit status when results cannot be written (a full disk): the run stopped, --resume later.
EXIT_CANNOT_WRITE = 3


def _title_without_row(index: int, title: str | None) -> str:
    """The error title without send_many's 0-based "row N: " prefix."""
    return "" if title is None else title.removeprefix(f"row {index}: ")


def add_send_bulk(commands: Any) -> None:
    """Register ``send-bulk`` on the command line's sub-parsers."""
    parser = commands.add_parser(
        "send-bulk",
        help="send one message per row of a CSV, with a results CSV and a resumable journal",
        description=(
            "Send one message per row of a CSV (column 'to' required; other columns fill "
            "{placeholders} in --text and may set from, messaging_profile_id, media_urls, "
            "send_at, subject, type, webhook_url). Writes one results row per input row; a "
            "journal beside the results lets --resume continue a stopped run without sending "
            "anything twice. The API key is read from TELNYX_API_KEY (or --api-key)."
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
        help="with --resume or --redis, also resend rows that failed (with the keys they had)",
    )
    parser.add_argument(
        "--only-failed-from",
        metavar="RESULTS",
        type=Path,
        help="send only the rows that failed in this earlier results file (after you corrected "
        "them in the CSV); every other row is reported as it was. Needs a new --out",
    )
    parser.add_argument(
        "--campaign",
        metavar="NAME",
        help="the campaign's name: each row's Idempotency-Key is derived from it, so the same "
        "list sent again under the same name (even with another --out) creates no message "
        "twice within 24 hours (default: derived from the journal's path)",
    )
    parser.add_argument(
        "--redis",
        metavar="URL",
        nargs="?",
        const="",
        help="work on the campaign (--campaign NAME) in Redis with every other send-bulk "
        "given the same CSV and name, on any machine: each row is sent once, by one of them "
        "(URL default: TELNYX_REDIS_URL; needs the redis extra)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="with --redis: send nothing, write the campaign's results so far to --out "
        "(rows with no outcome yet are 'pending')",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="send nothing; report per row what would be sent, refused or skipped, the "
        "encoding and SMS parts, duplicates, and the totals",
    )
    parser.add_argument(
        "--price-per-part", type=_price, help="with --dry-run: your price of one SMS part"
    )
    parser.add_argument("--price-per-mms", type=_price, help="with --dry-run: your price of an MMS")
    parser.add_argument(
        "--default-region",
        metavar="REGION",
        help="read numbers without '+' as numbers of this country (e.g. US) and send them in "
        "E.164; needs the phonenumbers extra",
    )
    parser.add_argument(
        "--skip-duplicates",
        action="store_true",
        help="send once to a recipient listed more than once (later rows are skipped)",
    )
    parser.add_argument(
        "--check-optouts",
        action="store_true",
        help="skip recipients who opted out (messaging_optouts), fetched before sending",
    )
    parser.add_argument(
        "--delimiter",
        type=_delimiter,
        default=",",
        help="the CSV's separator (default ','; e.g. ';' or tab)",
    )
    parser.add_argument("--concurrency", type=_positive, default=50, help="requests in flight (50)")
    parser.add_argument("--rate", type=_positive_rate, help="messages per second for the whole run")
    parser.add_argument(
        "--per-sender-rate", type=_positive_rate, help="messages per second per sender"
    )
    parser.add_argument(
        "--max-attempts", type=_positive, default=5, help="attempts per row before it fails (5)"
    )
    parser.add_argument(
        "--max-pause",
        type=_positive_rate,
        default=300.0,
        metavar="SECONDS",
        help="stop (for a --resume later) rather than wait longer than this when Telnyx asks "
        "the run to wait (300)",
    )
    parser.add_argument(
        "--api-key", help="the API key (default: TELNYX_API_KEY, which other users cannot see)"
    )
    parser.add_argument("--base-url", help="API root (default: TELNYX_BASE_URL, then Telnyx)")
    parser.set_defaults(run=send_bulk)


def send_bulk(args: argparse.Namespace) -> int:
    """Run ``send-bulk``; the exit status: 0 all sent, 1 some failed, 2 bad input, 3 results
    could not be written, 4 Telnyx asked for a wait past --max-pause, 130 stopped."""
    err = sys.stderr
    try:
        plan = _plan(args)
        if args.dry_run:
            return _dry_run(plan, args, sys.stdout, err)
        if args.redis is not None:
            return asyncio.run(_send_in_redis(plan, args, err))
        return asyncio.run(_send(plan, args, err))
    except BadInputError as exc:
        print(f"send-bulk: {exc}", file=err)
        return 2
    except KeyboardInterrupt:  # pragma: no cover - tested in a subprocess (SIGINT)
        print(
            "send-bulk: stopped; sends in flight were let finish. Run the same command with "
            "--resume to continue: nothing sent is sent again.",
            file=err,
        )
        return 130
    except TelnyxError as exc:  # a client that cannot start, a journal that does not fit
        print(f"send-bulk: {in_command_terms(str(exc))}", file=err)
        return 2


#: send_many's words for what the command calls otherwise, longest first.
_COMMAND_TERMS = (
    (
        "run the same input again with journal= the same path (or the same campaign=)",
        "run the same command again with --resume (the same --out, or the same --campaign, "
        "gives each row the key it had)",
    ),
    ("run the same input again with the same journal", "run the same command with --resume"),
    ("pass a new journal", "pass another --out"),
    (
        "run.not_started and run.unfinished (with journal=..., run it again later)",
        "left for a --resume later",
    ),
    (
        "run.not_started (with journal=..., run it again tomorrow)",
        "left for a --resume tomorrow",
    ),
    ("max_pause=", "--max-pause "),
    ("pass a larger max_pause", "pass a larger --max-pause"),
    ("campaign=", "--campaign"),
    ("journal=", "--out"),
    ("retry_failed=True", "--retry-failed"),
)


def in_command_terms(message: str) -> str:
    """A library message with its keyword arguments named as this command's flags."""
    for library, command in _COMMAND_TERMS:
        message = message.replace(library, command)
    return message


# -- checking the input ---------------------------------------------------------------------


@define
class _Check:
    """What the checking pass found, for the warnings and the dry run's totals."""

    count: int = 0
    failed: list[int] = field(factory=list)
    skipped: list[int] = field(factory=list)
    duplicates: list[tuple[int, int]] = field(factory=list)
    #: Cells --default-region rewrote, whatever then became of their rows.
    normalised: int = 0
    #: Of those, the rows not sent (skipped as a duplicate or opted out, refused, ...).
    normalised_held: int = 0


class _Plan:
    """What to send, checked: the CSV, its columns, the template, where results go."""

    def __init__(self, source: CsvSource, new_planner: Callable[[], Planner], delimiter: str):
        self.source = source
        self.new_planner = new_planner
        self.delimiter = delimiter
        self.check = _Check()
        self.out = Path()
        self.journal = Path()
        #: --resume found the results but not the journal beside them (lost, or moved aside).
        self.lost_journal = False
        self.api_key = ""

    def rows(self) -> Iterator[PlannedRow]:
        """Each CSV row, planned (a fresh planner per pass: duplicates are found in order)."""
        planner = self.new_planner()
        with self.source.lines() as file:
            _, rows = read_rows(self.source, file, self.delimiter)
            for row in rows:
                yield planner.plan(row)


def _api_key(args: argparse.Namespace) -> str:
    key: str | None = args.api_key or os.environ.get("TELNYX_API_KEY")
    if not key:
        raise BadInputError(
            "no API key: set TELNYX_API_KEY (or pass --api-key); "
            "find yours in the Mission Control Portal under API Keys"
        )
    return key


def _client(args: argparse.Namespace, api_key: str) -> AsyncClient:
    from telnyx_messaging import AsyncClient

    return AsyncClient(
        api_key=api_key, base_url=args.base_url, max_connections=max(100, args.concurrency)
    )


def _plan(args: argparse.Namespace) -> _Plan:
    text: str = args.text
    if not text.strip():
        raise BadInputError("--text is empty: give the message to send")
    try:
        template = Template(text)
    except TemplateError as exc:
        raise BadInputError(str(exc)) from None
    if args.retry_failed and not args.resume and args.redis is None:
        raise BadInputError("--retry-failed goes with --resume (or --redis)")
    check_redis_args(args)
    source = CsvSource.open(args.csv)
    with source.lines() as file:
        _check_header(source, file, template, args.from_, args.delimiter)
    normalize = _normaliser(args.default_region)
    earlier, label = _earlier_results(args, source)
    # Needed first only to fetch opt-outs: otherwise mistakes in the input are said first.
    api_key = _api_key(args) if args.check_optouts else ""
    optouts = asyncio.run(_optouts(args, api_key)) if args.check_optouts else None

    def new_planner() -> Planner:
        return Planner(
            template,
            args.from_,
            normalize=normalize,
            skip_duplicates=args.skip_duplicates,
            optouts=optouts,
            earlier=earlier,
            earlier_label=label,
        )

    plan = _Plan(source, new_planner, args.delimiter)
    plan.api_key = api_key
    if not args.dry_run and args.redis is not None:
        # No journal: Redis keeps the outcomes, and the results file is the report anew.
        plan.out, plan.journal = _where_results_go(args.out, source, None)
    elif not args.dry_run:
        plan.out, plan.journal = _where_results_go(args.out, source, args.only_failed_from)
        if args.resume and not plan.journal.exists() and not plan.out.exists():
            raise BadInputError(
                f"nothing to resume: no journal at {str(plan.journal)!r} and no results at "
                f"{str(plan.out)!r}; run without --resume"
            )
        plan.lost_journal = args.resume and not plan.journal.exists()
        if not args.resume:
            for existing in (plan.out, plan.journal):
                if existing.exists():
                    raise BadInputError(
                        f"{str(existing)!r} exists: add --resume to continue the run it belongs "
                        "to (nothing sent is sent again), or pass another --out"
                    )
    _check_rows(plan)
    if not args.dry_run and not args.report_only and not api_key:
        plan.api_key = _api_key(args)
    if earlier is not None and len(earlier) != plan.check.count:
        raise BadInputError(
            f"{label} has {plural(len(earlier), 'row')} but {source.label} has "
            f"{plan.check.count:,}: --only-failed-from needs the results of this same list, "
            "every row in its place"
        )
    return plan


def _normaliser(region: str | None) -> Callable[[str], str] | None:
    if region is None:
        return None
    from telnyx_messaging.recipients import normalize_number

    try:
        normalize_number("+13125550002", default_region=region)  # the region, checked once
    except InvalidArgumentError as exc:
        raise BadInputError(str(exc).replace("default_region", "--default-region", 1)) from None
    return lambda number: normalize_number(number, default_region=region)


async def _optouts(args: argparse.Namespace, api_key: str) -> dict[str, str]:
    """Recipients who opted out, with what they sent and to whom, from every page."""
    found: dict[str, str] = {}
    async with _client(args, api_key) as client:
        async for item in client.messaging_optouts.list(page_size=250):
            if item.to:
                found[item.to] = f"{item.keyword or 'STOP'} to {item.from_ or 'your number'}"
    return found


def _earlier_results(
    args: argparse.Namespace, source: CsvSource
) -> tuple[dict[int, Earlier] | None, str]:
    """The earlier results file --only-failed-from names, by row number."""
    path: Path | None = args.only_failed_from
    if path is None:
        return None, ""
    results = CsvSource.open(str(path))
    label = results.label
    earlier: dict[int, Earlier] = {}
    with results.lines() as file:
        columns, rows = read_rows(results, file)
        if not {"row", "status", "to", "message_id"} <= set(columns):
            raise BadInputError(
                f"{label} is not a send-bulk results file (it needs the columns "
                f"{', '.join(RESULT_COLUMNS)})"
            )
        for row in rows:
            cells = row.cells
            try:
                number = int(cells["row"])
            except ValueError:
                raise BadInputError(f"{label} line {row.line}: 'row' is not a number") from None
            earlier[number] = Earlier(
                cells["status"],
                unescape(cells["to"]),
                unescape(cells["message_id"]),
                unescape(cells.get("error_code", "")),
                unescape(cells.get("error_title", "")),
            )
    return earlier, label


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)  # a hard link: two names, one file
    except OSError:
        return False  # one of them does not exist yet


def _where_results_go(
    out: Path | None, source: CsvSource, earlier: Path | None
) -> tuple[Path, Path]:
    """The results file and the journal beside it, neither of them an input nor a device."""
    if out is None:
        if source.path is None:
            raise BadInputError(
                f"reading the CSV from {source.label}: say where the results go with --out"
            )
        out = source.path.with_suffix(".results.csv")
    journal = out.with_suffix(".journal.db")
    inputs = [(source.path, f"the input {source.label}")]
    if earlier is not None:
        inputs.append((earlier, f"the --only-failed-from file {str(earlier)!r}"))
    for role, path in (("--out", out), ("the journal (beside --out)", journal)):
        for given, what in inputs:
            if given is not None and _same_file(path, given):
                raise BadInputError(
                    f"{role} {str(path)!r} is {what}: writing it would destroy it; "
                    "pass another --out"
                )
        if path.exists() and not path.is_file():
            raise BadInputError(
                f"{role} {str(path)!r} is not a regular file (a device, pipe or folder): the "
                "results and the journal must be kept to resume; pass --out with a file path"
            )
    return out, journal


def _check_header(
    source: CsvSource, file: IO[str], template: Template, sender: str | None, delimiter: str
) -> None:
    where = source.label
    columns, _ = read_rows(source, file, delimiter)
    if "to" not in columns:
        hint = ""
        if delimiter != ";" and len(columns) == 1 and ";" in columns[0]:
            hint = " It looks separated by ';': pass --delimiter ';' (or save it with commas)."
        raise BadInputError(
            f"{where} has no 'to' column (columns: {', '.join(columns)}); "
            f"name the recipients' column 'to'.{hint}"
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
    if not sender and "from" not in columns and "messaging_profile_id" not in columns:
        raise BadInputError(
            "say who sends: --from +1..., or a 'from' or 'messaging_profile_id' column"
        )


def _check_rows(plan: _Plan) -> None:
    """Read the whole CSV once: count, and stop at a row that cannot be a message at all."""
    where = plan.source.label
    check = plan.check
    for planned in plan.rows():
        check.count += 1
        if planned.refusal is not None and planned.refusal.status == "failed":
            if planned.refusal.title == NO_SENDER:
                here = f"{where} row {planned.number} (line {planned.line})"
                raise BadInputError(f"{here} has no sender: fill 'from', or pass --from")
            check.failed.append(planned.number)
        elif planned.refusal is not None and planned.refusal.code != SENT_EARLIER:
            check.skipped.append(planned.number)
        if planned.duplicate_of is not None:
            check.duplicates.append((planned.number, planned.duplicate_of))
        if planned.written_to is not None:
            check.normalised += 1
            check.normalised_held += planned.kwargs is None
    if not check.count:
        raise BadInputError(f"{where} has no rows below its header: nobody to send to")


def _warnings(plan: _Plan, err: IO[str], *, skipping_duplicates: bool, dry: bool) -> None:
    check = plan.check
    if check.normalised:
        held = ""
        if check.normalised_held:
            would, where = ("would not be", "report") if dry else ("not", "results")
            held = f" ({check.normalised_held:,} of those rows {would} sent: see the {where})"
        print(f"send-bulk: {plural(check.normalised, 'number')} made E.164{held}", file=err)
    if check.duplicates:
        pairs = ", ".join(f"row {n} repeats row {first}" for n, first in check.duplicates[:5])
        more = f" and {len(check.duplicates) - 5} more" if len(check.duplicates) > 5 else ""
        will = "would be" if dry else ("is" if len(check.duplicates) == 1 else "are")
        action = (
            f"{will} skipped (--skip-duplicates)"
            if skipping_duplicates
            else f"{will} sent anyway; pass --skip-duplicates to send once per recipient"
        )
        print(
            f"send-bulk: {plural(len(check.duplicates), 'duplicate recipient')} ({pairs}{more}): "
            f"{action}",
            file=err,
        )
    if check.failed:
        print(
            f"send-bulk: {plural(len(check.failed), 'row')} cannot be sent as written "
            f"({rows_list(check.failed)}): "
            + (
                "the report gives each reason"
                if dry
                else "each is a failed row with its reason; --dry-run lists them first"
            ),
            file=err,
        )


def _dry_run(plan: _Plan, args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    failed, lines = write_report(
        plan.rows(), out, per_part=args.price_per_part, per_mms=args.price_per_mms
    )
    for line in lines:
        print(line, file=err)
    _warnings(plan, err, skipping_duplicates=args.skip_duplicates, dry=True)
    return 1 if failed else 0


# -- sending --------------------------------------------------------------------------------


@define
class _Totals:
    """Rows by outcome across runs: this one, and the earlier ones it continues. The progress
    lines, the summary and the results file all count from here, so they agree."""

    sent: int = 0
    sent_before: int = 0
    failed: int = 0
    failed_before: int = 0
    skipped: int = 0

    @property
    def rows(self) -> int:
        return self.sent + self.sent_before + self.failed + self.failed_before + self.skipped

    def counts(self, *, summary: bool = False) -> str:
        """``2 sent now, 28 sent by an earlier run, 0 failed, 0 skipped`` (just ``2 sent``
        when no earlier run sent anything); the summary says it in sentences."""
        between = "; " if summary else ", "
        sent = f"{self.sent:,} sent"
        if self.sent_before:
            were = "were " if summary else ""
            sent += f" now{between}{self.sent_before:,} {were}sent by an earlier run{between}"
        else:
            sent += ", "
        failed = self.failed + self.failed_before
        failed_before = f" ({self.failed_before:,} in an earlier run)" if self.failed_before else ""
        return f"{sent}{failed:,} failed{failed_before}, {self.skipped:,} skipped"

    def line(self) -> str:
        return f"{plural(self.rows, 'row')}: {self.counts(summary=True)}"


_CHANGED_ROW = re.compile(r"\brow (\d+) of the input\b")


def _changed_input(exc: InvalidArgumentError, plan: _Plan, args: argparse.Namespace) -> str:
    """send_many's refusal of a changed input, in this command's terms and row numbers."""
    found = _CHANGED_ROW.search(str(exc))
    which = f"row {int(found.group(1)) + 1} of {plan.source.label}" if found else plan.source.label
    return (
        f"--resume refused: {which} is not what the run recorded in the journal "
        f"{str(plan.journal)!r} (rows numbered as in results.csv). --resume needs the CSV, "
        "--text, --from and the row options of the run it continues. To send the rows that "
        f"failed with corrected values: --only-failed-from {str(plan.out)!r} --out <new "
        "results file>; to start over: pass another --out."
    )


async def _send(plan: _Plan, args: argparse.Namespace, err: IO[str]) -> int:
    started = time.monotonic()
    _warnings(plan, err, skipping_duplicates=args.skip_duplicates, dry=False)
    if plan.lost_journal:
        print(
            f"send-bulk: no journal at {str(plan.journal)!r}: starting a new one there. Each "
            "row's key is derived from the campaign, as before, so Telnyx does not create "
            "again a message it created in the last 24 hours.",
            file=err,
        )
    client = _client(args, plan.api_key)
    started_run: list[BulkSend] = []  # the hook is made before the run it reports on
    totals = _Totals()
    show, finish = progress(
        err,
        plan.check.count,
        lambda: started_run[0].pacing if started_run else None,
        lambda: (totals.rows, totals.counts()),
    )
    held: dict[int, PlannedRow] = {}  # rows not sent, by index, until their result comes

    def inputs() -> Iterator[dict[str, Any] | None]:
        for planned in plan.rows():
            if planned.kwargs is None:
                held[planned.number - 1] = planned
            # A row not sent still goes in, as None (send_many's failed row), so that
            # send_many numbers every row as the file does and its journal keys stay put.
            yield planned.kwargs

    results = ResultsFile(plan.out, replacing=args.resume)
    try:
        run = client.messages.send_many(
            # send_many fails a row that is not a mapping without sending or journaling it:
            # corrected later, it is sent by a --resume like any row not yet done.
            cast("Iterator[dict[str, Any]]", inputs()),
            concurrency=args.concurrency,
            rate=args.rate,
            per_sender_rate=args.per_sender_rate,
            max_attempts=args.max_attempts,
            journal=plan.journal,
            campaign=args.campaign,
            retry_failed=args.retry_failed,
            on_progress=show,
            progress_interval=0.2,
            total=plan.check.count,
            max_pause=args.max_pause,
        )
        started_run.append(run)
        # The run first: it takes the journal's lock, so a second command on the same files
        # is refused before it could truncate the results of the one running.
        async with run:
            keep = True
            try:
                async for result in run:
                    results.write(_result_row(result, held.pop(result.index, None), totals))
            except InvalidArgumentError as exc:
                # Only a journal that does not match the input gets here (rows a send refuses
                # are failed results), and only --resume reaches an existing journal.
                keep = False
                raise BadInputError(_changed_input(exc, plan, args)) from exc
            finally:
                results.close(keep=keep)
                finish()  # the last pace changes before any message about the end
    except JournalError as exc:
        if results.written == 0 and not (started_run and started_run[0].stats.read):
            raise  # refused when it opened: said as bad input (status 2)
        print(
            f"send-bulk: the run stopped: {in_command_terms(str(exc))} "
            f"{plural(results.written, 'result')} are in {str(plan.out)!r}. If the disk is "
            "full, make room first.",
            file=err,
        )
        return EXIT_CANNOT_WRITE
    except PauseTooLongError as exc:
        print(
            f"send-bulk: the run stopped: {in_command_terms(str(exc))} "
            f"{plural(results.written, 'result')} are in {str(plan.out)!r}.",
            file=err,
        )
        return EXIT_PAUSED
    except CannotWriteError as exc:
        print(
            f"send-bulk: cannot write the results to {str(results.path)!r} ({exc}): the run "
            f"stopped, sends in flight were let finish. {plural(exc.written, 'result')} "
            f"are in {str(plan.out)!r}; the journal {str(plan.journal)!r} knows every row "
            "sent. Make room, then run the same command with --resume: nothing sent is sent "
            "again.",
            file=err,
        )
        return EXIT_CANNOT_WRITE
    finally:
        finish()
        await client.close()
    stats, pacing = run.stats, run.pacing
    pushed = f" ({pacing.refused:,} pushed back by Telnyx)" if pacing.refused else ""
    # paused_seconds is wall time during which SOME budget was held: one sender held while
    # the others send counts too, so it is said as that, never as the run pausing.
    holds = (
        f"; a budget (a sender's or the account's) was held after a 429 during "
        f"{stats.paused_seconds:.1f}s of the run"
        if stats.pauses
        else ""
    )
    print(
        f"done in {time.monotonic() - started:.1f}s: {totals.line()}; "
        f"{plural(pacing.requests, 'request')}{pushed}{holds}. Results: {plan.out}",
        file=err,
    )
    return 1 if totals.failed + totals.failed_before else 0


async def _send_in_redis(plan: _Plan, args: argparse.Namespace, err: IO[str]) -> int:
    """Work on the campaign in Redis with the other workers; the results file from its
    report."""
    started = time.monotonic()
    if not args.report_only:
        _warnings(plan, err, skipping_duplicates=args.skip_duplicates, dry=False)
    try:
        sent, failed, skipped, pending = await run_in_redis(
            list(plan.rows()), args, plan.out, lambda: _client(args, plan.api_key), err
        )
    except CannotWriteError as exc:
        print(
            f"send-bulk: cannot write the results to {str(plan.out)!r} ({exc}); the "
            "outcomes are kept in Redis: make room, then write them with --report-only.",
            file=err,
        )
        return EXIT_CANNOT_WRITE
    rows = plural(sent + failed + skipped + pending, "row")
    waiting = f", {pending:,} pending (no outcome yet)" if pending else ""
    print(
        f"done in {time.monotonic() - started:.1f}s: campaign {args.campaign!r}: {rows}: "
        f"{sent:,} sent, {failed:,} failed, {skipped:,} skipped{waiting} (by every worker). "
        f"Results: {plan.out}",
        file=err,
    )
    return 1 if failed or pending else 0


def _result_row(result: Any, planned: PlannedRow | None, totals: _Totals) -> tuple[Any, ...]:
    """A results.csv row for a row's result, counted in the totals."""
    number = result.index + 1
    if planned is not None and planned.refusal is not None:
        refusal = planned.refusal
        status = refusal.status
        if refusal.code == SENT_EARLIER:
            totals.sent_before += 1
            status = "sent"  # by the earlier run: the file counts it as the summary does
        elif refusal.status == "skipped":
            totals.skipped += 1
        else:
            totals.failed += 1
        to = planned.to or planned.written_to or ""
        return (number, to, status, refusal.message_id, refusal.code, refusal.title, 0)
    if result.ok:
        totals.sent_before += result.resumed
        totals.sent += not result.resumed
    else:
        totals.failed_before += result.resumed
        totals.failed += not result.resumed
    code = result.error_code or ""
    if not code and result.attempts == 0 and isinstance(result.error, InvalidArgumentError):
        code = INVALID  # refused by the library before sending: a stable code to filter on
    elif not code and isinstance(result.error, AlreadySentError):
        code = ALREADY_SENT  # created before from other content: not a failure to retry
    return (
        number,
        result.params.get("to"),
        "sent" if result.ok else "failed",
        result.message_id or "",
        code,
        _title_without_row(result.index, result.error_title),
        result.attempts,
    )
