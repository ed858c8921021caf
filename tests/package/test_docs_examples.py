"""The Python examples in docs/ run as written.

The convention: a ```python block right after a ``<!-- runnable -->`` line (invisible once the
Markdown is rendered) is run. A page's runnable blocks run top to bottom in one namespace, as a
reader would type them into ``python -m asyncio``: top-level ``await`` is allowed, and a
``client`` made with ``AsyncClient()`` is there already. TELNYX_API_KEY and TELNYX_BASE_URL
point at a FakeTelnyx, so every ``AsyncClient()`` in a block talks to it. A block that closes
``client`` leaves the next one a fresh client. Every other Python block is compiled.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from telnyx_messaging import AsyncClient
from telnyx_messaging.testing import FakeTelnyx

DOCS = Path(__file__).parents[2] / "docs"
PAGES = ["index.md", "client.md", "resilience.md", "testing.md", "design.md"]
RUN = ["client.md", "resilience.md", "testing.md"]
MARK = "<!-- runnable -->"
FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
BLOCK = re.compile(r"^(?P<mark><!-- runnable -->\n)?```python\n(?P<code>.*?)^```", re.M | re.S)


@attrs.frozen
class Block:
    page: str
    line: int  # where the code starts in the page, 1-based
    source: str
    runnable: bool

    def compile(self) -> Any:
        # Padded so that a traceback points at the line in the Markdown file.
        padded = "\n" * (self.line - 1) + self.source
        return compile(padded, str(DOCS / self.page), "exec", flags=FLAGS)


def blocks(page: str) -> list[Block]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [
        Block(
            page=page,
            line=text.count("\n", 0, m.start("code")) + 1,
            source=m.group("code"),
            runnable=m.group("mark") is not None,
        )
        for m in BLOCK.finditer(text)
    ]


ALL = [b for page in PAGES for b in blocks(page)]


async def run(block: Block, namespace: dict[str, Any]) -> None:
    """Run a block as top-level-await code in ``namespace``."""
    result = eval(block.compile(), namespace)  # noqa: S307 - our own docs, compiled above
    if inspect.iscoroutine(result):
        await result


@pytest.mark.parametrize("block", ALL, ids=[f"{b.page}:{b.line}" for b in ALL])
def test_every_python_block_compiles(block: Block) -> None:
    """Every Python block in the docs is valid Python (top-level await allowed)."""
    block.compile()


@pytest.mark.parametrize("page", PAGES)
def test_every_runnable_mark_is_on_a_python_block(page: str) -> None:
    """A runnable mark sits right above a Python block, so no example is skipped by a typo."""
    text = (DOCS / page).read_text(encoding="utf-8")
    assert text.count(MARK) == sum(b.runnable for b in blocks(page))


@pytest.fixture
def restore_globals() -> Iterator[None]:
    """Put back the process-wide switches and loggers that examples are allowed to touch."""
    names = ("", "telnyx_messaging")
    loggers = {n: (logging.getLogger(n).level, logging.getLogger(n).handlers[:]) for n in names}
    yield
    for name, (level, handlers) in loggers.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers


@pytest.mark.usefixtures("restore_globals")
@pytest.mark.parametrize("page", RUN)
async def test_runnable_examples_run(
    page: str, fake: FakeTelnyx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's runnable blocks run in order against FakeTelnyx, closing every client."""
    monkeypatch.setenv("TELNYX_API_KEY", fake.api_key)
    monkeypatch.setenv("TELNYX_BASE_URL", fake.base_url)
    runnable = [b for b in blocks(page) if b.runnable]
    assert len(runnable) >= 3, f"{page} should show its API in runnable examples"
    namespace: dict[str, Any] = {"__name__": "__docs__", "client": AsyncClient()}
    made: list[AsyncClient] = []
    try:
        for block in runnable:
            await run(block, namespace)
            made += [v for v in namespace.values() if isinstance(v, AsyncClient) and v not in made]
            if namespace["client"].is_closed:
                namespace["client"] = AsyncClient()
    finally:
        made += [v for v in namespace.values() if isinstance(v, AsyncClient) and v not in made]
        for client in made:
            await client.close()


@pytest.mark.usefixtures("restore_globals")
async def test_the_quickstart_runs(
    fake: FakeTelnyx, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """index.md's quickstart, a script with its own asyncio.run, sends one message."""
    monkeypatch.setenv("TELNYX_API_KEY", fake.api_key)
    monkeypatch.setenv("TELNYX_BASE_URL", fake.base_url)
    (quickstart,) = blocks("index.md")
    code = quickstart.compile()

    # In a thread: asyncio.run needs one without a running loop; this loop serves the fake.
    await asyncio.to_thread(exec, code, {"__name__": "__main__"})

    (msg_id,) = fake.messages
    assert capsys.readouterr().out == f"{msg_id} queued\n"
