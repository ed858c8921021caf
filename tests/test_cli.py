"""The command line: the README's first command must work on a fresh machine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from telnyx_messaging.__main__ import main


def test_demo_sends_reads_back_and_pages(capsys: pytest.CaptureFixture[str]) -> None:
    """`demo` sends, reads back and walks every page against the in-process fake."""
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Sent 5 messages concurrently" in out
    assert out.count(" queued ") == 5
    assert "Read back" in out
    assert "refused before sending" in out
    assert "walked all 45 across pages" in out


def test_python_dash_m_runs_the_demo() -> None:
    """`python -m telnyx_messaging demo` exits 0 in a fresh interpreter with no env vars."""
    done = subprocess.run(
        [sys.executable, "-m", "telnyx_messaging", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Idempotency-Key" in done.stdout


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing or unknown command prints usage and exits 2."""
    with pytest.raises(SystemExit) as caught:
        main(["nope"])
    assert caught.value.code == 2
    assert "usage" in capsys.readouterr().err
