"""send-bulk shows what send_many's pacing is doing: each budget's pace and why it changed,
and the requests the run spent."""

from __future__ import annotations

from pathlib import Path

import pytest

from telnyx_messaging._cli.main import main
from telnyx_messaging.testing import FakeTelnyx, RateLimits
from tests.cli.test_send_bulk_cli import fake, people, read, write_csv

__all__ = ["fake"]  # the fixture, used by name


def test_a_sender_slowed_by_429_is_shown_with_the_reason(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sender Telnyx limits to 10 a second: the 429s slow the run rather than fail rows,
    the change is printed with its reason, and the summary counts the requests spent and
    those pushed back."""
    fake.rate_limits = RateLimits(per_sender_per_second=10)
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(40))
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), "--from", "+13125550100", "--text", "Hi"]
    assert main([*command, "--out", str(out), "--concurrency", "10"]) == 0
    err = capsys.readouterr().err
    assert "pace: sender +13125550100 " in err
    assert "(429, x-ratelimit-limit 10)" in err
    assert {r["status"] for r in read(out)} == {"sent"}
    assert len(fake.messages) == 40
    summary = err.strip().splitlines()[-1]
    assert "pushed back by Telnyx" in summary
    requests = int(summary.split(" requests")[0].rsplit(" ", 1)[1].replace(",", ""))
    assert requests > 40  # the 429s were requests too


def test_a_rate_given_is_shown_as_the_flag(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--per-sender-rate sets the sender's pace; the reason names the flag, not the keyword."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(3))
    command = ["send-bulk", str(recipients), "--from", "+13125550100", "--text", "Hi"]
    command += ["--per-sender-rate", "50", "--out", str(tmp_path / "o.csv")]
    assert main(command) == 0
    err = capsys.readouterr().err
    assert "pace: sender +13125550100 50/s (--per-sender-rate)" in err
    assert "per_sender_rate=" not in err
    assert "3 requests." in err


def test_a_wait_longer_than_max_pause_stops_the_run_for_a_resume(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Telnyx asks for a wait past --max-pause: the run stops with status 4 and a message in
    the command's flags; the results so far are written, and --resume later sends the rest,
    nothing twice."""
    fake.rate_limits = RateLimits(per_sender_per_second=2)
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(20))
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), "--from", "+13125550100", "--text", "Hi"]
    command += ["--out", str(out)]
    assert main([*command, "--max-pause", "0.01"]) == 4
    err = capsys.readouterr().err
    assert "--max-pause" in err
    assert "--resume" in err
    assert not any(word in err for word in ("max_pause=", "journal=", "run.not_started"))
    sent_before = {r["message_id"] for r in read(out) if r["status"] == "sent"}
    assert sent_before <= set(fake.messages)
    assert len(fake.messages) < 20
    fake.rate_limits = RateLimits()
    assert main([*command, "--resume"]) == 0
    assert len(fake.messages) == 20
    assert sorted(int(r["row"]) for r in read(out)) == list(range(1, 21))


def test_the_summary_says_holds_are_of_a_budget_not_of_the_run(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """send_many's paused_seconds is the wall time during which some budget (one sender's, or
    the account's) was held after a 429, while other senders may go on: the summary says
    that, not that the run paused."""
    fake.rate_limits = RateLimits(per_sender_per_second=10)
    rows = [
        [number, "+13125550100" if n % 2 else "+13125550101"]
        for n, (number, _) in enumerate(people(40))
    ]
    recipients = write_csv(tmp_path / "r.csv", ["to", "from"], rows)
    command = ["send-bulk", str(recipients), "--text", "Hi", "--concurrency", "10"]
    assert main([*command, "--out", str(tmp_path / "o.csv")]) == 0
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert "paused" not in summary
    held = summary.split("a budget (a sender's or the account's) was held after a 429 during ")
    assert float(held[1].split("s of the run")[0]) >= 0.0
    assert len(fake.messages) == 40
