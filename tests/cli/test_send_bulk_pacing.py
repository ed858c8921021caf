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
    assert "3 requests;" in err
