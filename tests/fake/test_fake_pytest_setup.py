"""docs/testing.md's pytest setup works as printed, in a suite that treats warnings as errors.

The page's TOML block is the config and its conftest.py is the conftest of a fresh suite,
run by pytest in its own process with ``-W error`` (a user's CI often runs that way).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs" / "testing.md"
SECTION = "## In a pytest suite"

USER_TEST = """
from telnyx_messaging import AsyncClient
from telnyx_messaging.testing import FakeTelnyx


async def test_a_send_reaches_the_fake(telnyx: FakeTelnyx) -> None:
    async with AsyncClient() as client:
        await client.messages.send(to="+13125550002", from_="+18445550001", text="Hi")
    (request,) = telnyx.requests
    assert request.json["text"] == "Hi"
"""


def section_block(language: str) -> str:
    """The first ``language`` code block of the pytest section of docs/testing.md."""
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    match = re.search(rf"^```{language}\n(.*?)^```", section, re.M | re.S)
    assert match is not None, f"no {language} block under {SECTION!r}"
    return match.group(1)


def test_the_documented_pytest_setup_runs_with_warnings_as_errors(tmp_path: Path) -> None:
    """The config and conftest shown run a test under -W error, with no deprecation warning."""
    (tmp_path / "pyproject.toml").write_text(section_block("toml"), encoding="utf-8")
    conftest = section_block("python").split("# test_shipping.py")[0]
    (tmp_path / "conftest.py").write_text(conftest, encoding="utf-8")
    (tmp_path / "test_user.py").write_text(USER_TEST, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    for name in ("TELNYX_API_KEY", "TELNYX_BASE_URL", "TELNYX_PUBLIC_KEY", "PYTEST_ADDOPTS"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
