"""send-bulk cannot harm its input: files, pipes, templates, formulas, full disks (issue 18)."""

from __future__ import annotations

import csv
import errno
import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from telnyx_messaging._cli import _results_csv
from telnyx_messaging._cli._csv_input import BadInputError, CsvSource
from telnyx_messaging._cli._results_csv import spreadsheet_safe, unescape
from telnyx_messaging._cli.main import main
from telnyx_messaging.testing import FakeTelnyx
from tests.cli.test_send_bulk_cli import fake, people, read, write_csv

__all__ = ["fake"]  # the fixture, used by name

SENDER = ["--from", "+18445550001"]


def test_out_may_not_be_the_input(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out naming the input (also through another spelling of its path) is refused, and
    the recipient list keeps every line, with --resume too."""
    recipients = write_csv(tmp_path / "list.csv", ["to", "name"], people(20))
    before = recipients.read_bytes()
    other_spelling = tmp_path / "sub" / ".." / "list.csv"
    (tmp_path / "sub").mkdir()
    for out in (recipients, other_spelling):
        for extra in ([], ["--resume"]):
            command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--out", str(out)]
            assert main([*command, *extra]) == 2
            assert "is the input" in capsys.readouterr().err
    assert recipients.read_bytes() == before
    assert not fake.messages


def test_the_journal_may_not_be_the_input(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An input that is where the journal would go is refused before anything is written."""
    recipients = write_csv(tmp_path / "o.journal.db", ["to"], [["+13125550001"]])
    before = recipients.read_bytes()
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi"]
    assert main([*command, "--out", str(tmp_path / "o.csv")]) == 2
    assert "journal" in capsys.readouterr().err
    assert recipients.read_bytes() == before
    assert not fake.messages


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_out_may_not_be_a_device(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out /dev/null (a device) is refused: the results would be lost."""
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"]])
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--out", "/dev/null"]
    assert main(command) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert not fake.messages


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-x", "'-x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("+13125550001", "+13125550001"),
        ("-5", "-5"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_formula_cells_are_escaped(cell: str, written: str) -> None:
    """A cell a spreadsheet would run as a formula gets OWASP's leading quote; E.164 stays."""
    assert spreadsheet_safe(cell) == written


def test_results_escape_formulas_from_the_input(fake: FakeTelnyx, tmp_path: Path) -> None:
    """A `to` of =HYPERLINK(...) is written escaped in results.csv; real numbers stay."""
    recipients = write_csv(
        tmp_path / "r.csv", ["to"], [["+13125550001"], ['=HYPERLINK("http://e.x","hi")']]
    )
    out = tmp_path / "o.csv"
    assert main(["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--out", str(out)]) == 1
    tos = {r["row"]: r["to"] for r in read(out)}
    assert tos == {"1": "+13125550001", "2": '\'=HYPERLINK("http://e.x","hi")'}


def _run_with_stdin(args: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "telnyx_messaging", *args],
        input=data,
        capture_output=True,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("name", ["-", "/dev/stdin"])
def test_a_piped_csv_is_read_whole_and_sent(fake: FakeTelnyx, tmp_path: Path, name: str) -> None:
    """`cat list.csv | send-bulk - ...` (or /dev/stdin) sends every row once."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(3))
    out = tmp_path / "o.csv"
    done = _run_with_stdin(
        ["send-bulk", name, *SENDER, "--text", "Hi {name}", "--out", str(out)],
        recipients.read_bytes(),
    )
    assert done.returncode == 0, done.stderr.decode()
    assert len(fake.messages) == 3
    assert sorted(r["row"] for r in read(out)) == ["1", "2", "3"]


def test_a_piped_csv_needs_out(fake: FakeTelnyx, tmp_path: Path) -> None:
    """From a pipe there is no file name to put results beside: --out is required, exit 2."""
    done = _run_with_stdin(["send-bulk", "-", *SENDER, "--text", "Hi"], b"to\n+13125550001\n")
    assert done.returncode == 2
    assert b"--out" in done.stderr
    assert not fake.messages


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("{name:{x}}", "format spec"),
        ("{name:>600}", "format spec"),
        ("{name!r}", "conversion"),
        ("{name.upper}", "attribute or index"),
        ("{name[0]}", "attribute or index"),
        ("{0}", "column name"),
        ("{}", "column name"),
    ],
)
def test_text_takes_column_placeholders_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, what: str
) -> None:
    """Anything but {column} in --text is refused with exit 2 and says what to write."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name", "x"], [["+13125550001", "A", "9"]])
    assert main(["send-bulk", str(recipients), *SENDER, "--text", text, "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert what in err
    assert "{column}" in err


def test_a_cell_cannot_set_the_message_length(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cell's text goes in as it is: a cell holding braces is not read as a template."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], [["+13125550001", "{to:>600}"]])
    out = tmp_path / "o.csv"
    assert (
        main(["send-bulk", str(recipients), *SENDER, "--text", "Hi {name}", "--out", str(out)]) == 0
    )
    (message,) = fake.messages.values()
    assert message["text"] == "Hi {to:>600}"


def test_csv_errors_name_the_line_of_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A field too large on line 5 (after a quoted field spanning two lines) is named line 5."""
    path = tmp_path / "r.csv"
    big = "x" * (csv.field_size_limit() + 1)
    path.write_text(f'to,name\n+13125550001,a\n+13125550002,"b\nc"\n+13125550003,{big}\n')
    assert main(["send-bulk", str(path), *SENDER, "--text", "Hi", "--dry-run"]) == 2
    assert "line 5" in capsys.readouterr().err


def test_row_errors_name_the_row_and_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row short of values after a two-line cell is row 3, on line 5 of the file."""
    path = tmp_path / "r.csv"
    path.write_text('to,name\n+13125550001,a\n+13125550002,"b\nc"\n+13125550004\n')
    assert main(["send-bulk", str(path), *SENDER, "--text", "Hi", "--dry-run"]) == 2
    assert "row 3 (line 5) has fewer values" in capsys.readouterr().err


class FillsUp:
    """A results file on a disk with room for ``room`` more bytes: writes past it fail as a
    full disk does (ENOSPC), after the bytes that fit are on disk."""

    def __init__(self, path: Path, room: int) -> None:
        self._file = path.open("w", newline="", encoding="utf-8")
        self._room = room

    def write(self, text: str) -> int:
        if len(text.encode()) > self._room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(text.encode())
        return self._file.write(text)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def test_a_full_disk_stops_the_run_and_says_so(
    fake: FakeTelnyx,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Results that cannot be written stop the run with a message naming the full disk and a
    non-zero exit; the rows written before are in the file; --resume later completes it
    without sending anything twice."""
    recipients = write_csv(tmp_path / "r.csv", ["to", "name"], people(30))
    out = tmp_path / "o.csv"
    room = 60 + 10 * 75  # the header and about ten rows
    command = ["send-bulk", str(recipients), *SENDER, "--text", "Hi", "--out", str(out)]
    with monkeypatch.context() as patch:
        patch.setattr(_results_csv, "open_results", lambda path: FillsUp(path, room))
        code = main([*command, "--concurrency", "1"])
    assert code == 3
    err = capsys.readouterr().err
    assert "No space left on device" in err
    assert "--resume" in err
    written = read(out)
    assert 1 <= len(written) < 30
    assert all(r["message_id"] in fake.messages for r in written)
    assert main([*command, "--resume"]) == 0
    assert len(fake.messages) == 30  # each row once
    assert sorted(int(r["row"]) for r in read(out)) == list(range(1, 31))


class Terminal(io.BytesIO):
    def isatty(self) -> bool:
        return True


def test_input_read_once_is_read_whole_or_refused(tmp_path: Path) -> None:
    """'-' reads the stream whole; a terminal, a folder and non-UTF-8 bytes are refused."""
    source = CsvSource.open("-", io.BytesIO(b"to\n+13125550001\n"))
    assert source.path is None
    with source.lines() as file:
        assert file.read() == "to\n+13125550001\n"
    with pytest.raises(BadInputError, match="is a terminal"):
        CsvSource.open("-", Terminal())
    with pytest.raises(BadInputError, match="not UTF-8"):
        CsvSource.open("-", io.BytesIO(b"to\n\xff\n"))
    with pytest.raises(BadInputError, match="is a directory"):
        CsvSource.open(str(tmp_path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_read_whole(
    fake: FakeTelnyx, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FIFO is read once, whole, and every row is sent from what was read."""
    fifo = tmp_path / "list.csv"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w") as pipe:
            pipe.write("to,name\n+13125550001,A\n+13125550002,B\n")

    writer = threading.Thread(target=feed)
    writer.start()
    out = tmp_path / "o.csv"
    code = main(["send-bulk", str(fifo), *SENDER, "--text", "Hi {name}", "--out", str(out)])
    writer.join(10)
    assert code == 0, capsys.readouterr().err
    assert sorted(m["text"] for m in fake.messages.values()) == ["Hi A", "Hi B"]


def test_escaped_cells_read_back_as_written() -> None:
    """unescape undoes spreadsheet_safe, and leaves a quote that was data."""
    for cell in ("=1+2", "@x", "+13125550001", "'quoted", "plain"):
        assert unescape(spreadsheet_safe(cell)) == cell


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--price-per-part", "cheap", "must be a number"),
        ("--price-per-part", "-1", "must be 0 or more"),
        ("--price-per-mms", "nan", "must be 0 or more"),
        ("--delimiter", ";;", "must be one character"),
    ],
)
def test_option_values_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    """A price that is not a number, or a delimiter that is not one character: exit 2."""
    recipients = write_csv(tmp_path / "r.csv", ["to"], [["+13125550001"]])
    with pytest.raises(SystemExit) as exit_:
        main(["send-bulk", str(recipients), *SENDER, "--text", "Hi", flag, value, "--dry-run"])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_tab_separated_file_with_delimiter_tab(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--delimiter tab reads a TSV."""
    path = tmp_path / "r.tsv"
    path.write_text("to\tname\n+13125550001\tAnn\n", encoding="utf-8")
    command = ["send-bulk", str(path), *SENDER, "--text", "Hi {name}", "--dry-run"]
    assert main([*command, "--delimiter", "tab"]) == 0
    assert "1 row: 1 to send" in capsys.readouterr().err
