"""send_many from sync code: the async run driven by ``with`` and ``for`` from a plain thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from telnyx_messaging import Client, ConfigurationError, SyncBulkSend
from telnyx_messaging.testing import FakeTelnyx, Respond

SENDER = "+18445550001"


def rows(count: int) -> Iterator[dict[str, str]]:
    return ({"to": f"+1312555{n:04d}", "from_": SENDER, "text": f"#{n}"} for n in range(count))


def test_every_row_gets_one_result(sync_client: Client, threaded_fake: FakeTelnyx) -> None:
    """A plain with/for over send_many yields one result per row; each row is sent once."""
    with sync_client.messages.send_many(rows(60), concurrency=8) as run:
        assert isinstance(run, SyncBulkSend)
        results = list(run)
    assert sorted(r.index for r in results) == list(range(60))
    assert all(r.ok for r in results)
    assert {r.message_id for r in results} == set(threaded_fake.messages)
    stats = run.stats
    assert (stats.sent, stats.failed, stats.in_flight) == (60, 0, 0)
    assert (run.not_started, run.unfinished, run.leftover_results) == ([], [], [])
    assert run.pacing.requests == 60  # read on the loop thread, like stats


def test_failed_rows_come_back_as_results(sync_client: Client, threaded_fake: FakeTelnyx) -> None:
    """A row Telnyx refuses is a failed result, not an exception from the loop."""
    threaded_fake.fail_next(Respond(400), path="/messages")
    with sync_client.with_options(max_retries=0).messages.send_many(rows(5), concurrency=1) as run:
        results = list(run)
    assert sorted(r.ok for r in results) == [False, True, True, True, True]
    assert len(threaded_fake.messages) == 4


def test_leaving_the_block_early_stops_the_run(sync_client: Client) -> None:
    """break out of the for: the with block stops the run and says which rows were left."""
    with sync_client.messages.send_many(rows(500), concurrency=4) as run:
        for _ in run:
            break
        run.close()
        leftover = run.not_started + run.unfinished + [r.index for r in run.leftover_results]
    assert run.stats.sent < 500
    assert leftover
    assert len(set(leftover)) == len(leftover)  # each row left over is reported once


def test_a_journal_works_from_sync_code(sync_client: Client, tmp_path: Path) -> None:
    """journal= (SQLite) is opened and used on the loop thread, so a sync run can keep one."""
    journal = tmp_path / "run.db"
    with sync_client.messages.send_many(rows(10), journal=str(journal)) as run:
        first = list(run)
    with sync_client.messages.send_many(rows(10), journal=str(journal)) as run:
        again = list(run)
    assert all(r.ok for r in first)
    assert all(r.resumed for r in again)


def test_iterating_outside_the_block_says_what_to_do(sync_client: Client) -> None:
    """Using the run without entering it raises the async run's ConfigurationError."""
    run = sync_client.messages.send_many(rows(1))
    with pytest.raises(ConfigurationError, match="enter the run first"):
        next(iter(run))
