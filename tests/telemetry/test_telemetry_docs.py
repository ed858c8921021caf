"""docs/observability.md: its Python blocks compile, its runnable ones run, and it names every
span, event and metric the SDK reports."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import re
from pathlib import Path
from typing import Any

import pytest

from telnyx_messaging._telemetry import _instruments as names
from telnyx_messaging._telemetry._routes import _STATIC, _WITH_ID
from telnyx_messaging.testing import FakeTelnyx

DOC = Path(__file__).parents[2] / "docs" / "observability.md"
BLOCK = re.compile(r"^(?P<mark><!-- runnable -->\n)?```python\n(?P<code>.*?)^```", re.M | re.S)
FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _blocks() -> list[tuple[int, str, bool]]:
    text = DOC.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start("code")) + 1, m.group("code"), m.group("mark") is not None)
        for m in BLOCK.finditer(text)
    ]


def _compiled(line: int, code: str) -> Any:
    return compile("\n" * (line - 1) + code, str(DOC), "exec", flags=FLAGS)


def test_every_python_block_compiles() -> None:
    """Every Python block on the page is valid Python (top-level await allowed)."""
    assert len(_blocks()) >= 3
    for line, code, _ in _blocks():
        _compiled(line, code)


async def test_runnable_blocks_print_what_they_say(
    fake: FakeTelnyx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runnable example sends through FakeTelnyx and prints the spans its comment shows."""
    monkeypatch.setenv("TELNYX_API_KEY", fake.api_key)
    monkeypatch.setenv("TELNYX_BASE_URL", fake.base_url)
    runnable = [(line, code) for line, code, run in _blocks() if run]
    assert runnable
    for line, code in runnable:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            result = eval(_compiled(line, code), {})  # noqa: S307 - our own docs
            if asyncio.iscoroutine(result):
                await result
        expected = [c.removeprefix("# ") for c in code.splitlines() if c.startswith("# ")]
        assert printed.getvalue().splitlines() == expected


def test_every_name_is_documented() -> None:
    """Each span, event, metric and attribute name the SDK writes appears on the page."""
    text = DOC.read_text(encoding="utf-8")
    written = [
        value
        for name, value in vars(names).items()
        if name.isupper() and isinstance(value, str) and name not in {"SCOPE", "SCHEMA_URL"}
    ]
    missing = [n for n in written if f"`{n}`" not in text]
    # Operations are listed as `phone_numbers.messaging.list` / `.retrieve`.
    operations = [r.operation for r in (*_STATIC.values(), *_WITH_ID.values())]
    missing += [
        n for n in operations if f"`{n}`" not in text and f"`.{n.rsplit('.', 1)[-1]}`" not in text
    ]
    assert not missing
