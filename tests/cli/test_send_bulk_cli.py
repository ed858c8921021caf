"""`telnyx-messaging send-bulk` end to end: a CSV in, FakeTelnyx sending, a results CSV out."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from telnyx_messaging._cli.main import main
from telnyx_messaging.testing import FakeTelnyx, Hang, RecordedRequest, Respond


class ThreadedFake:
    """FakeTelnyx on its own loop in a thread, so the command's asyncio.run can talk to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = FakeTelnyx()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelnyx]:
    server = ThreadedFake()
    monkeypatch.setenv("TELNYX_API_KEY", server.fake.api_key)
    monkeypatch.setenv("TELNYX_BASE_URL", server.fake.base_url)
    yield server.fake
    server.close()


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def people(count: int) -> list[list[str]]:
    return [[f"+1312555{n:04d}", f"Person {n}"] for n in range(count)]


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_sends_one_message_per_row_and_writes_results(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every row is sent with its placeholders filled; results.csv has one row per input row."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(12))
    out = tmp_path / "results.csv"
    command = ["send-bulk", str(recipients), "--from", "+18445550001", "--text", "Hi {name}"]
    code = main([*command, "--out", str(out), "--concurrency", "4"])
    assert code == 0
    results = read(out)
    assert sorted(int(r["row"]) for r in results) == list(range(1, 13))
    assert {r["status"] for r in results} == {"sent"}
    assert {r["message_id"] for r in results} == set(fake.messages)
    texts = sorted(m["text"] for m in fake.messages.values())
    assert texts == sorted(f"Hi Person {n}" for n in range(12))
    assert (tmp_path / "results.journal.db").exists()
    assert "12 sent, 0 failed" in capsys.readouterr().err


def test_columns_set_sender_media_and_profile(fake: FakeTelnyx, tmp_path: Path) -> None:
    """'from', 'media_urls' (space-separated) and 'messaging_profile_id' columns are used."""
    profile = "4000eba1-a0c0-4563-9925-b25e842a7cb6"
    recipients = write_csv(
        tmp_path / "r.csv",
        ["to", "from", "media_urls", "messaging_profile_id"],
        [
            ["+13125550001", "+18445550002", "https://e.x/a.png https://e.x/b.png", ""],
            ["+13125550002", "", "", profile],
        ],
    )
    code = main(["send-bulk", str(recipients), "--text", "Look", "--out", str(tmp_path / "o.csv")])
    assert code == 0
    bodies = {r.json["to"]: r.json for r in fake.requests}
    assert bodies["+13125550001"]["from"] == "+18445550002"
    assert bodies["+13125550001"]["media_urls"] == ["https://e.x/a.png", "https://e.x/b.png"]
    assert bodies["+13125550002"]["messaging_profile_id"] == profile
    assert "from" not in bodies["+13125550002"]


def test_failed_rows_are_reported_and_exit_1(fake: FakeTelnyx, tmp_path: Path) -> None:
    """A row Telnyx refuses is a 'failed' result with its code and title; exit status 1."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(5))

    def refuse_one(request: RecordedRequest) -> Respond | None:
        if request.json and request.json.get("to") == "+13125550003":
            errors = [{"code": "40300", "title": "Blocked due to STOP message"}]
            return Respond(422, json={"errors": errors})
        return None

    fake.fault_hook = refuse_one
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), "--from", "+18445550001", "--text", "Hi"]
    code = main([*command, "--out", str(out)])
    assert code == 1
    (failed,) = [r for r in read(out) if r["status"] == "failed"]
    assert (failed["row"], failed["to"], failed["error_code"]) == ("4", "+13125550003", "40300")
    assert failed["error_title"] == "Blocked due to STOP message"
    assert failed["attempts"] == "1"


def test_a_row_refused_before_sending_names_no_second_row_number(
    fake: FakeTelnyx, tmp_path: Path
) -> None:
    """A row refused locally has the error text without send_many's 0-based 'row N:' prefix."""
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"], ["notanumber"]])
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), "--from", "+18445550001", "--text", "Hi"]
    assert main([*command, "--out", str(out)]) == 1
    (failed,) = [r for r in read(out) if r["status"] == "failed"]
    assert failed["row"] == "2"
    assert failed["error_title"].startswith("to must be a phone number in E.164 form")
    assert failed["attempts"] == "0"


def test_resume_sends_nothing_twice(fake: FakeTelnyx, tmp_path: Path) -> None:
    """A finished run resumed sends nothing and rewrites the full results; without --resume
    the command refuses to start over the same results."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(6))
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), "--from", "+18445550001", "--text", "Hi"]
    command += ["--out", str(out)]
    assert main(command) == 0
    assert main(command) == 2  # results exist: refused
    assert main([*command, "--resume"]) == 0
    assert len(fake.messages) == 6
    assert len(read(out)) == 6
    assert {r["status"] for r in read(out)} == {"sent"}


def test_a_resume_over_changed_input_keeps_the_earlier_results(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --resume refused because --text changed exits 2, says what --resume needs, and leaves
    the results file intact."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(3))
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), "--from", "+18445550001", "--out", str(out)]
    assert main([*command, "--text", "Hi"]) == 0
    before = out.read_text(encoding="utf-8")
    assert main([*command, "--text", "Hi there", "--resume"]) == 2
    assert "--resume needs the CSV, --text, --from" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == before
    assert len(fake.messages) == 3


def test_interrupted_then_resumed_sends_every_row_once(fake: FakeTelnyx, tmp_path: Path) -> None:
    """Ctrl-C halfway (exit 130, sends in flight let finish), then --resume: 40 rows, 40
    messages, one result each."""
    fake.fault_hook = lambda request: Hang(0.05)
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(40))
    out = tmp_path / "o.csv"
    command = ["send-bulk", str(recipients), "--from", "+18445550001", "--text", "Hi {name}"]
    command += ["--out", str(out), "--concurrency", "2"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "telnyx_messaging", *command],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(fake.messages) < 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "--resume" in err
    sent_before = len(fake.messages)
    assert sent_before < 40
    fake.fault_hook = None
    assert main([*command, "--resume"]) == 0
    assert len(fake.messages) == 40
    assert sorted(int(r["row"]) for r in read(out)) == list(range(1, 41))


def test_dry_run_counts_encoding_and_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run sends nothing (no API key needed) and reports per row and in total."""
    recipients = write_csv(
        tmp_path / "r.csv",
        ["to", "name"],
        [["+13125550001", "Ann"], ["+13125550002", "Zoë"], ["+13125550003", "x" * 200]],
    )
    command = ["send-bulk", str(recipients), "--from", "+1844", "--text", "Hi {name} €"]
    code = main([*command, "--dry-run"])
    assert code == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(captured.out.splitlines()))
    assert [(r["encoding"], r["units"], r["parts"]) for r in rows] == [
        ("GSM-7", "9", "1"),
        ("UCS-2", "8", "1"),  # "Hi Zoë €": ë is not GSM
        ("GSM-7", "206", "2"),
    ]
    assert "3 SMS in 4 parts (2 GSM-7, 1 UCS-2)" in captured.err
    assert not (tmp_path / "r.results.csv").exists()


@pytest.mark.parametrize(
    ("header", "rows", "text", "extra", "message"),
    [
        (["phone"], [["+13125550001"]], "Hi", [], "no 'to' column"),
        (["to"], [["+13125550001"]], "Hi {name}", [], "{name} but"),
        (["to"], [["+13125550001"]], "   ", [], "--text is empty"),
        (["to"], [["+13125550001"]], "Hi {}", [], "with no column name"),
        (["to"], [["+13125550001"]], "Hi {to.x}", [], "an attribute or index"),
        (["to"], [["+13125550001"]], "Hi {", [], "not a valid template"),
        (["to"], [["+13125550001"]], "Hi {to:d}", [], "a format spec"),
        (["to"], [["+13125550001", "extra"]], "Hi", [], "more values"),
        (["to", "name"], [["+13125550001"]], "Hi {name}", [], "row 1 (line 2) has fewer values"),
        (["to", "to"], [["+13125550001", "+13125550002"]], "Hi", [], "'to' more than once"),
        (["to"], [], "Hi", [], "no rows"),
        (["to", "from"], [["+13125550001", ""]], "Hi", ["--no-from"], "has no sender"),
        (["to"], [["+13125550001"]], "Hi", ["--no-from"], "say who sends"),
        (["to"], [["+13125550001"]], "Hi", ["--resume"], "nothing to resume"),
        (["to"], [["+13125550001"]], "Hi", ["--retry-failed"], "goes with --resume"),
    ],
)
def test_bad_input_is_refused_before_sending(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    header: list[str],
    rows: list[list[str]],
    text: str,
    extra: list[str],
    message: str,
) -> None:
    """Each mistake exits 2 with a message saying what to fix, and nothing is sent."""
    recipients = write_csv(tmp_path / "r.csv", header, rows)
    sender = [] if "--no-from" in extra else ["--from", "+18445550001"]
    flags = [e for e in extra if e != "--no-from"]
    assert main(["send-bulk", str(recipients), "--text", text, *sender, *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.results.csv").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), (b"", "is empty"), (b"to\n\xff\xfe\n", "not UTF-8")],
)
def test_unreadable_files_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    """A missing, empty or non-UTF-8 file exits 2 naming the file."""
    path = tmp_path / "r.csv"
    if content is not None:
        path.write_bytes(content)
    assert main(["send-bulk", str(path), "--from", "+1", "--text", "Hi"]) == 2
    assert message in capsys.readouterr().err


def test_a_missing_api_key_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without TELNYX_API_KEY the command says so and exits 2 without writing results."""
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"]])
    assert main(["send-bulk", str(recipients), "--from", "+1", "--text", "Hi"]) == 2
    assert "TELNYX_API_KEY" in capsys.readouterr().err


def test_progress_lines_when_not_a_terminal(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Off a terminal, progress comes as plain lines with counts, rate and ETA."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(3))
    command = ["send-bulk", str(recipients), "--from", "+18445550001", "--text", "Hi"]
    assert main([*command, "--out", str(tmp_path / "o.csv")]) == 0
    err = capsys.readouterr().err
    assert "3/3: 3 sent, 0 failed, 0 skipped;" in err
    assert "ETA" in err


def test_the_script_entry_point_knows_send_bulk() -> None:
    """`python -m telnyx_messaging send-bulk --help` describes the command."""
    done = subprocess.run(
        [sys.executable, "-m", "telnyx_messaging", "send-bulk", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "--dry-run" in done.stdout
    assert "--resume" in done.stdout


def test_a_field_too_large_for_csv_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row the csv module cannot read is refused naming the line."""
    path = tmp_path / "r.csv"
    path.write_text("to,name\n+13125550001," + "x" * (csv.field_size_limit() + 1) + "\n")
    assert main(["send-bulk", str(path), "--from", "+1", "--text", "Hi"]) == 2
    assert "line" in capsys.readouterr().err


def test_dry_run_counts_mms_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A row with media_urls is an MMS: counted as such, not in SMS parts."""
    recipients = write_csv(
        tmp_path / "r.csv",
        ["to", "media_urls"],
        [["+13125550001", "https://e.x/a.png"], ["+13125550002", ""]],
    )
    assert main(["send-bulk", str(recipients), "--from", "+1", "--text", "Hi", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert [r["type"] for r in csv.DictReader(captured.out.splitlines())] == ["MMS", "SMS"]
    assert "1 SMS in 1 part (1 GSM-7, 0 UCS-2); 1 MMS" in captured.err


def test_options_the_run_refuses_exit_2(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--concurrency 0 or --rate 0 is refused naming the flag, and no results file is left."""
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"]])
    command = ["send-bulk", str(recipients), "--from", "+1", "--text", "Hi"]
    bad = [("--concurrency", "0"), ("--rate", "0"), ("--per-sender-rate", "x")]
    for flag, value in [*bad, ("--max-attempts", "x")]:
        with pytest.raises(SystemExit) as exit_:
            main([*command, flag, value])
        assert exit_.value.code == 2
        assert f"argument {flag}: must be" in capsys.readouterr().err
    assert not (tmp_path / "r.results.csv").exists()


def test_a_terminal_gets_a_progress_bar() -> None:
    """On a terminal, with rich installed, the hook draws a bar with counts and rate."""
    pytest.importorskip("rich")
    from telnyx_messaging._bulk import BulkStats
    from telnyx_messaging._cli._progress import progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    show, finish = progress(screen, 10)
    show(BulkStats(10, 10, 9, 1, 0, 0, 0, 11, 1.0, 10.0, False, 0.0, 0))
    finish()
    assert "10/10" in screen.getvalue()
    assert "9 sent, 1 failed, 0 done before" in screen.getvalue()
