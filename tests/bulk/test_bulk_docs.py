"""docs/bulk.md's runnable examples run against FakeTelnyx, as tests/package/test_docs_examples.py
does for the other pages (a ```python block after a ``<!-- runnable -->`` line runs; the others
compile)."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from telnyx_messaging import AsyncClient
from telnyx_messaging.testing import FakeTelnyx

PAGE = Path(__file__).parents[2] / "docs" / "bulk.md"
BLOCK = re.compile(r"^(?P<mark><!-- runnable -->\n)?```python\n(?P<code>.*?)^```", re.M | re.S)


def blocks() -> list[tuple[int, str, bool]]:
    text = PAGE.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start("code")) + 1, m.group("code"), m.group("mark") is not None)
        for m in BLOCK.finditer(text)
    ]


def compiled(line: int, source: str) -> Any:
    padded = "\n" * (line - 1) + source
    return compile(padded, str(PAGE), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


async def test_bulk_page_examples_run(
    fake: FakeTelnyx, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every runnable block of bulk.md runs in order, and what it prints is what it promises."""
    monkeypatch.setenv("TELNYX_API_KEY", fake.api_key)
    monkeypatch.setenv("TELNYX_BASE_URL", fake.base_url)
    runnable = [(line, code) for line, code, run in blocks() if run]
    assert len(runnable) >= 5
    async with AsyncClient() as client:
        namespace: dict[str, Any] = {"__name__": "__docs__", "client": client}
        for line, code in runnable:
            result = eval(compiled(line, code), namespace)  # noqa: S307 - our own docs
            if inspect.iscoroutine(result):
                await result
    out = capsys.readouterr().out
    assert "3 sent, 0 failed" in out
    assert "0 failed\n" in out
    assert "100/100 sent=100 failed=0" in out
    assert "True True" in out
    assert "200 True" in out


def test_every_python_block_compiles() -> None:
    """The page's other Python blocks are valid Python too."""
    for line, code, _ in blocks():
        compiled(line, code)
