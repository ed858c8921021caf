"""The Python examples in docs/tracking.md run as written, against FakeTelnyx and real webhooks.

The runnable blocks (a ``<!-- runnable -->`` line before them) run top to bottom in one
namespace, as in tests/package/test_docs_examples.py; the rest are compiled. Between the first block
(which builds ``app``) and the next, ``app`` is served on loopback at ``WEBHOOK_URL`` (in
place of the page's example.com), which becomes the URL of FakeTelnyx's messaging profile:
the fake then delivers its own signed ``message.sent`` and ``message.finalized`` there.
"""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from telnyx_messaging import AsyncClient
from telnyx_messaging.testing import FakeTelnyx

DOC = Path(__file__).parents[2] / "docs" / "tracking.md"
BLOCK = re.compile(r"^(?P<mark><!-- runnable -->\n)?```python\n(?P<code>.*?)^```", re.M | re.S)
FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def blocks() -> list[tuple[int, str, bool]]:
    text = DOC.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start("code")) + 1, m.group("code"), m.group("mark") is not None)
        for m in BLOCK.finditer(text)
    ]


def compiled(line: int, code: str) -> Any:
    # Padded so that a traceback points at the line in the Markdown file.
    return compile("\n" * (line - 1) + code, str(DOC), "exec", flags=FLAGS)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelnyx]:
    """FakeTelnyx moving each message to delivered at once, as the page's prose expects."""
    async with FakeTelnyx() as server:
        yield server


def test_every_python_block_compiles() -> None:
    """Every Python block on the page is valid Python (top-level await allowed)."""
    assert len(blocks()) >= 4  # the pub/sub recipe moved to docs/redis.md
    for line, code, _ in blocks():
        compiled(line, code)


async def test_runnable_blocks_run_against_fake_telnyx(
    fake: FakeTelnyx, capsys: pytest.CaptureFixture[str]
) -> None:
    """The page's runnable blocks send, receive signed webhooks and print the outcome."""
    runnable = [(line, code) for line, code, run in blocks() if run]
    assert len(runnable) == 4
    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        namespace: dict[str, Any] = {
            "client": client,
            "PUBLIC_KEY": fake.public_key,
            "numbers": [f"+1312555{n:04d}" for n in range(10, 20)],
        }
        runner: web.AppRunner | None = None
        try:
            for line, code in runnable:
                result = eval(compiled(line, code), namespace)  # noqa: S307 - our own docs
                if asyncio.iscoroutine(result):
                    await asyncio.wait_for(result, timeout=30)
                if runner is None:
                    runner = web.AppRunner(namespace["app"])
                    await runner.setup()
                    await web.TCPSite(runner, "127.0.0.1", 0).start()
                    url = f"http://127.0.0.1:{runner.addresses[0][1]}/telnyx"
                    namespace["WEBHOOK_URL"] = url
                    fake.messaging_profiles[fake.default_profile_id].webhook_url = url
        finally:
            if runner is not None:
                await runner.cleanup()
    assert capsys.readouterr().out.split() == ["delivered", "webhook"]
    assert namespace["missed"] == []
    assert namespace["delivered"] == 10
    assert [d.ok for d in fake.deliveries] == [True] * 2 * 12
    assert namespace["tracker"].is_closed
