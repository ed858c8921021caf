"""``send-bulk --redis``: one campaign in Redis, worked on by several send-bulk processes.

Every process reads the same CSV and plans it the same way (checked, normalised); the rows to
send are loaded into the campaign (the same rows again are a no-op, other rows are refused),
this process works on it with ``telnyx_messaging.redis.run_campaign`` until every row has an
outcome, and the results file is written from the campaign's report: the whole list, the
rows the plan refused or skipped included. ``--report-only`` writes that file without
sending (rows with no outcome yet are ``pending``).

The redis extra is imported here only, and only when ``--redis`` is given.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from telnyx_messaging._cli._campaign import PlannedRow
from telnyx_messaging._cli._csv_input import BadInputError
from telnyx_messaging._cli._results_csv import ResultsFile
from telnyx_messaging._cli._words import plural

if TYPE_CHECKING:
    from pathlib import Path

    from telnyx_messaging import AsyncClient
    from telnyx_messaging.redis import CampaignReport

__all__ = ["PENDING", "check_redis_args", "run_in_redis"]

#: status of a row the campaign has no outcome for yet (--report-only).
PENDING = "pending"

#: Flags that belong to the journal, which a Redis campaign replaces.
_NOT_WITH_REDIS = (
    ("resume", "--resume"),
    ("only_failed_from", "--only-failed-from"),
)


def check_redis_args(args: argparse.Namespace) -> None:
    """Refuse what does not go with --redis, and --report-only without it."""
    if args.redis is None:
        if args.report_only:
            raise BadInputError("--report-only goes with --redis URL --campaign NAME")
        return
    if not args.campaign:
        raise BadInputError(
            "--redis needs --campaign NAME: the campaign every worker works on (give each "
            "list its own name)"
        )
    for attribute, flag in _NOT_WITH_REDIS:
        if getattr(args, attribute):
            raise BadInputError(
                f"{flag} does not go with --redis: the campaign in Redis keeps every row's "
                "outcome, so running the same command again continues it (add "
                "--retry-failed to send the rows that failed again)"
            )


async def run_in_redis(
    rows: list[PlannedRow],
    args: argparse.Namespace,
    out: Path,
    new_client: Callable[[], AsyncClient],
    err: IO[str],
) -> tuple[int, int, int, int]:
    """Work on (or only report) the campaign; write ``out``. Returns the rows sent, failed,
    skipped and pending."""
    from telnyx_messaging.redis import RedisCampaign, run_campaign

    sendable = [row for row in rows if row.kwargs is not None]
    url = args.redis or None  # '--redis' alone: TELNYX_REDIS_URL
    if args.report_only:
        async with await RedisCampaign.connect(args.campaign, url) as campaign:
            report = await campaign.report()
        if report.total != len(sendable):
            raise BadInputError(
                f"campaign {args.campaign!r} holds {plural(report.total, 'row')} to send, "
                f"but this CSV plans {len(sendable):,}: run --report-only with the CSV and "
                "options the workers were given"
            )
    else:
        print(
            f"send-bulk: campaign {args.campaign!r} in Redis: {plural(len(sendable), 'row')} "
            "to send; this worker sends until every row has an outcome",
            file=err,
        )
        async with new_client() as client:
            report = await run_campaign(
                client,
                campaign=args.campaign,
                url=url,
                rows=[row.kwargs for row in sendable if row.kwargs is not None],
                rate=args.rate,
                per_sender_rate=args.per_sender_rate,
                concurrency=args.concurrency,
                retry_failed=args.retry_failed,
            )
    return _write(rows, report, out)


def _write(rows: list[PlannedRow], report: CampaignReport, out: Path) -> tuple[int, int, int, int]:
    outcomes = {row.index: row for row in report.rows}
    sent = failed = skipped = pending = 0
    results = ResultsFile(out, replacing=out.exists())  # the report anew, in one piece
    index = 0  # the row's place among the rows sent: its index in the campaign
    try:
        for planned in rows:
            to = planned.to or planned.written_to or ""
            line: tuple[Any, ...]
            if planned.kwargs is None:
                refusal = planned.refusal
                assert refusal is not None  # a row not sent says why
                failed += refusal.status == "failed"
                skipped += refusal.status != "failed"
                line = (planned.number, to, refusal.status, "", refusal.code, refusal.title, 0)
            else:
                outcome = outcomes.get(index)
                index += 1
                if outcome is None:
                    pending += 1
                    line = (planned.number, to, PENDING, "", "", "", 0)
                else:
                    sent += outcome.ok
                    failed += not outcome.ok
                    line = (
                        planned.number,
                        to,
                        "sent" if outcome.ok else "failed",
                        outcome.message_id or "",
                        outcome.error_code or "",
                        outcome.error_title or "",
                        outcome.attempts,
                    )
            results.write(line)
    finally:
        results.close()
    return sent, failed, skipped, pending
