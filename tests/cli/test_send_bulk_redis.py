"""send-bulk --redis: several send-bulk processes on one campaign in a real redis-server,
against FakeTelnyx; each message created once, the results file written from the report."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_server import RedisServer, running_redis

from telnyx_messaging._cli.main import main
from telnyx_messaging.testing import FakeTelnyx
from tests.cli.test_send_bulk_cli import fake, people, read, write_csv

__all__ = ["fake"]  # the fixture, used by name

ROOT = Path(__file__).parents[2]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    yield from running_redis(tmp_path)


def send_bulk(*arguments: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - this interpreter, our arguments
        [sys.executable, "-m", "telnyx_messaging", "send-bulk", *arguments],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def by_row(path: Path) -> dict[str, dict[str, str]]:
    return {r["row"]: r for r in read(path)}


def test_two_processes_on_one_campaign_create_each_message_once(
    fake: FakeTelnyx, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Two send-bulk processes, one given the URL and one TELNYX_REDIS_URL, work on the same
    campaign: every row is created once, both write the whole list (a refused row with its
    reason), and --report-only from a third writes the same file without sending."""
    rows = people(60)
    rows[7][0] = "+1312555000a"  # refused before sending, by every process alike
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], rows)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [str(recipients), "--from", "+18445550001", "--text", "Hi {name}"]
    campaign = ["--campaign", "spring", "--concurrency", "2"]
    first = send_bulk(
        *command,
        *campaign,
        "--redis",
        redis_server.url,
        "--out",
        str(tmp_path / "a.csv"),
        env=env,
    )
    second = send_bulk(
        *command,
        *campaign,
        "--redis",
        "--out",
        str(tmp_path / "b.csv"),
        env={**env, "TELNYX_REDIS_URL": redis_server.url},
    )
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert [first.returncode, second.returncode] == [1, 1], outputs  # row 8 failed
    assert len(fake.messages) == 59
    assert len({str(m["to"]) for m in fake.messages.values()}) == 59  # each person once
    a, b = by_row(tmp_path / "a.csv"), by_row(tmp_path / "b.csv")
    assert a == b
    assert (a["8"]["status"], a["8"]["error_code"]) == ("failed", "invalid_argument")
    assert {r["status"] for n, r in a.items() if n != "8"} == {"sent"}
    assert {r["message_id"] for r in a.values() if r["message_id"]} == set(fake.messages)
    for _, err in outputs:
        assert "60 rows: 59 sent, 1 failed, 0 skipped (by every worker)" in err
        assert redis_server.url not in err
    report = tmp_path / "report.csv"
    code = main(
        [
            "send-bulk",
            *command,
            "--campaign",
            "spring",
            "--redis",
            redis_server.url,
            "--report-only",
            "--out",
            str(report),
        ]
    )
    assert code == 1
    assert by_row(report) == a
    assert len(fake.messages) == 59


async def load(url: str, rows: list[list[str]]) -> None:
    """Load rows as send-bulk plans them, with no worker to send them."""
    from telnyx_messaging.redis import RedisCampaign

    async with await RedisCampaign.connect("c", url) as campaign:
        await campaign.load({"to": to, "from_": sender, "text": text} for to, sender, text in rows)


def test_report_only_before_the_workers_finish_says_pending(
    fake: FakeTelnyx,
    redis_server: RedisServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--report-only on a campaign not loaded yet is refused (another CSV, or too early);
    loaded but not worked on, its rows are 'pending'; the same CSV run again after the run
    sends nothing; flags of the journal are refused with --redis."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(3))
    command = [str(recipients), "--from", "+18445550001", "--text", "Hi"]
    redis = ["send-bulk", *command, "--campaign", "c", "--redis", redis_server.url]
    out = ["--out", str(tmp_path / "o.csv")]
    assert main([*redis, "--report-only", *out]) == 2
    assert "holds 0 rows to send, but this CSV plans 3" in capsys.readouterr().err
    asyncio.run(load(redis_server.url, [[n, "+18445550001", "Hi"] for n, _ in people(3)]))
    assert main([*redis, "--report-only", *out]) == 1  # loaded, no worker yet
    assert {r["status"] for r in read(tmp_path / "o.csv")} == {"pending"}
    assert "3 pending (no outcome yet)" in capsys.readouterr().err
    assert len(fake.messages) == 0
    assert main([*redis, *out]) == 0
    assert main([*redis, *out]) == 0  # every row has its outcome: nothing sent again
    assert len(fake.messages) == 3
    assert main([*redis, "--retry-failed", *out]) == 0  # no row failed: nothing to resend
    assert len(fake.messages) == 3
    assert main([*redis, "--resume", *out]) == 2
    assert "--resume does not go with --redis" in capsys.readouterr().err
    assert main(["send-bulk", *command, "--redis", redis_server.url, *out]) == 2
    assert "--redis needs --campaign NAME" in capsys.readouterr().err
    assert main(["send-bulk", *command, "--report-only", *out]) == 2
    assert "--report-only goes with --redis" in capsys.readouterr().err


def test_redis_is_imported_only_with_the_redis_flag(fake: FakeTelnyx, tmp_path: Path) -> None:
    """A send-bulk run without --redis does not load redis-py."""
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"]])
    out = tmp_path / "o.csv"
    code = (
        "import sys\n"
        "from telnyx_messaging._cli.main import main\n"
        f"status = main(['send-bulk', {str(recipients)!r}, '--from', '+18445550001', "
        f"'--text', 'Hi', '--out', {str(out)!r}])\n"
        "assert status == 0, status\n"
        "assert 'redis' not in sys.modules\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert len(fake.messages) == 1


def test_retry_failed_with_redis_sends_the_failed_rows_again(
    fake: FakeTelnyx, redis_server: RedisServer, tmp_path: Path
) -> None:
    """A row Telnyx refused is failed; the same command with --retry-failed sends it again
    with its key, and only it; the results file then has every row sent."""
    from telnyx_messaging.testing import Respond

    refusal = {"code": "40310", "title": "Invalid 'to' address"}
    fake.fail_next(Respond(422, json={"errors": [refusal]}), method="POST", path="/messages")
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(3))
    command = ["send-bulk", str(recipients), "--from", "+18445550001", "--text", "Hi"]
    redis = [*command, "--campaign", "r", "--redis", redis_server.url, "--concurrency", "1"]
    out = ["--out", str(tmp_path / "o.csv")]
    assert main([*redis, *out]) == 1
    failed = [r for r in read(tmp_path / "o.csv") if r["status"] == "failed"]
    assert [(r["error_code"], r["error_title"]) for r in failed] == [
        ("40310", "Invalid 'to' address")
    ]
    assert main([*redis, "--retry-failed", *out]) == 0
    assert {r["status"] for r in read(tmp_path / "o.csv")} == {"sent"}
    assert len(fake.messages) == 3
    assert len(fake.seen_idempotency_keys) == 3  # the failed row went again with its key


def test_two_processes_at_telnyx_limits_fail_no_row_with_default_settings(
    fake: FakeTelnyx, redis_server: RedisServer, tmp_path: Path
) -> None:
    """The reported bug, scaled down: two default workers against an account of 10/s whose
    sender takes 4/s. No row fails for rate limits, a 429 costs no row a try, few requests
    are refused (the sender's limit is learned and shared), each message created once."""
    from telnyx_messaging.testing import RateLimits

    fake.rate_limits = RateLimits(account_per_second=10, per_sender_per_second=4)
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(24))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [str(recipients), "--from", "+18445550001", "--text", "Hi {name}"]
    workers = [
        send_bulk(
            *command,
            *["--campaign", "limits", "--redis", redis_server.url],
            *["--out", str(tmp_path / f"{name}.csv")],
            env=env,
        )
        for name in "ab"
    ]
    outputs = [process.communicate(timeout=120) for process in workers]
    assert [process.returncode for process in workers] == [0, 0], outputs
    results = read(tmp_path / "a.csv")
    assert {r["status"] for r in results} == {"sent"}
    assert {r["attempts"] for r in results} == {"1"}
    assert len(fake.messages) == 24
    posts = sum(1 for r in fake.requests if r.method == "POST")
    assert posts <= 24 * 1.15
