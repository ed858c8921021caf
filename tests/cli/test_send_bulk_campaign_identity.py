"""send-bulk with send_many's derived keys (issue 18): --campaign, damaged journals and a
full disk, each said in the command's own terms."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from telnyx_messaging._cli.main import main
from telnyx_messaging.testing import FakeTelnyx
from tests.cli.test_send_bulk_cli import fake, people, read, write_csv

__all__ = ["fake"]  # the fixture, used by name

SENDER = ["--from", "+18445550001"]
LIBRARY_WORDS = ("campaign=", "journal=", "retry_failed=")


def test_a_campaign_run_again_on_new_files_creates_nothing_twice(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --campaign, the same list sent again with another --out (a fresh journal) creates
    no message twice: the keys come from the campaign, and Telnyx replays its answers."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(12))
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi {name}"]
    command += ["--campaign", "spring-sale"]
    assert main([*command, "--out", str(tmp_path / "a.csv")]) == 0
    assert len(fake.messages) == 12
    assert main([*command, "--out", str(tmp_path / "b.csv")]) == 0
    assert len(fake.messages) == 12
    first = {r["row"]: r["message_id"] for r in read(tmp_path / "a.csv")}
    assert {r["row"]: r["message_id"] for r in read(tmp_path / "b.csv")} == first


def test_a_resume_under_another_campaign_is_refused_in_the_commands_terms(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--resume with another --campaign exits 2 naming --campaign, not send_many's keyword."""
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"]])
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi"]
    command += ["--out", str(tmp_path / "o.csv")]
    assert main([*command, "--campaign", "a"]) == 0
    capsys.readouterr()
    assert main([*command, "--campaign", "b", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "--campaign" in err
    assert not any(word in err for word in LIBRARY_WORDS), err


def test_a_damaged_journal_is_refused_in_the_commands_terms(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A journal truncated to nothing: --resume exits 2 saying what to do with the command's
    flags; running again after moving it aside sends nothing twice."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(5))
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--out", str(out)]
    assert main(command) == 0
    journal = tmp_path / "o.journal.db"
    journal.write_bytes(b"")
    capsys.readouterr()
    assert main([*command, "--resume"]) == 2
    err = capsys.readouterr().err
    assert "o.journal.db" in err
    assert not any(word in err for word in LIBRARY_WORDS), err
    journal.unlink()  # moved aside, as the message says
    assert main([*command, "--resume"]) == 0
    assert "starting a new one there" in capsys.readouterr().err
    assert len(fake.messages) == 5
    assert {r["status"] for r in read(out)} == {"sent"}


DISK_FULL = """
import resource, signal, sys
from telnyx_messaging._cli.main import main

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
# The disk is full from here on: no file may grow past 40 kB.
resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, resource.RLIM_INFINITY))
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE as a full disk")
def test_a_full_disk_under_the_journal_stops_the_run_and_says_so(
    fake: FakeTelnyx, tmp_path: Path
) -> None:
    """Files that cannot grow (the journal or the results): exit 3 with a message that says
    the disk is full and to resume; every result written names a message Telnyx created; a
    resume with room sends the rest, nothing twice."""
    script = tmp_path / "disk_full.py"
    script.write_text(textwrap.dedent(DISK_FULL))
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(2000))
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi {name}", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(script), *command, "--concurrency", "10"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    assert "full" in done.stderr or "File too large" in done.stderr
    assert "--resume" in done.stderr
    written = read(out)
    assert len(written) < 2000
    assert all(r["message_id"] in fake.messages for r in written if r["status"] == "sent")
    assert main([*command, "--resume"]) == 0
    assert len(fake.messages) == 2000
    assert sorted(int(r["row"]) for r in read(out)) == list(range(1, 2001))


def test_a_row_already_sent_with_other_content_gets_its_own_code() -> None:
    """send_many's AlreadySentError is written as error_code already_sent, the title without
    its 'row N:' prefix, and counted as failed."""
    from telnyx_messaging import AlreadySentError
    from telnyx_messaging._bulk import SendResult
    from telnyx_messaging._cli.send_bulk import _result_row, _Totals

    error = AlreadySentError("row 4: already sent with other content: ...", "key")
    result = SendResult(
        index=4,
        params={"to": "+13125550001"},
        ok=False,
        message=None,
        error=error,
        attempts=1,
        idempotency_key="key",
        message_id=None,
        error_code=None,
        error_title=str(error),
    )
    totals = _Totals()
    row = _result_row(result, None, totals)
    assert row[:5] == (5, "+13125550001", "failed", "", "already_sent")
    assert row[5] == "already sent with other content: ..."
    assert totals.failed == 1
