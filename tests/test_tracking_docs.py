"""The Python examples in docs/tracking.md run as written, against FakeTelnyx and real webhooks.

The runnable blocks (a ``<!-- runnable -->`` line before them) run top to bottom in one
namespace, as in tests/test_docs_examples.py; the rest are compiled. Between the first block
(which builds ``app``) and the next, ``app`` is served on loopback at ``WEBHOOK_URL`` (in
place of the page's example.com), and a stand-in for Telnyx's side posts signed
``message.sent`` and ``message.finalized`` webhooks there for every message FakeTelnyx stores:
to its ``webhook_url``, else to ``WEBHOOK_URL`` (the messaging profile's URL, in Telnyx terms).
"""

from __future__ import annotations

import ast
import asyncio
import copy
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from telnyx_messaging import AsyncClient
from telnyx_messaging.testing import FakeTelnyx, WebhookSigner

DOC = Path(__file__).parent.parent / "docs" / "tracking.md"
EXAMPLES = Path(__file__).parent / "spec" / "webhook-examples"
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


def delivery(message: dict[str, Any], event_type: str, status: str) -> dict[str, Any]:
    """A delivery webhook body for ``message`` in the shape of the spec's example."""
    body: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text())
    payload = copy.deepcopy(message)
    payload["to"] = [{**to, "status": status} for to in payload["to"]]
    body["data"]["payload"] = payload
    return body


@pytest.fixture
async def telnyx_side(fake: FakeTelnyx) -> AsyncIterator[dict[str, Any]]:
    """Posts signed lifecycle webhooks for each new message; yields its settings to fill in."""
    signer = WebhookSigner()
    side: dict[str, Any] = {"signer": signer, "url": None, "posted": 0}

    async def run(session: aiohttp.ClientSession) -> None:
        seen: set[str] = set()
        while True:
            for message_id, message in list(fake.messages.items()):
                if message_id in seen or side["url"] is None:
                    continue
                seen.add(message_id)
                url = message.get("webhook_url") or side["url"]
                for event_type, status in (
                    ("message.sent", "sent"),
                    ("message.finalized", "delivered"),
                ):
                    data, headers = signer.sign(delivery(message, event_type, status))
                    async with session.post(url, data=data, headers=headers) as response:
                        assert response.status == 200
                    side["posted"] += 1
            await asyncio.sleep(0.005)

    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(run(session))
        yield side
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_every_python_block_compiles() -> None:
    """Every Python block on the page is valid Python (top-level await allowed)."""
    assert len(blocks()) >= 5
    for line, code, _ in blocks():
        compiled(line, code)


async def test_runnable_blocks_run_against_fake_telnyx(
    fake: FakeTelnyx, telnyx_side: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The page's runnable blocks send, receive signed webhooks and print the outcome."""
    runnable = [(line, code) for line, code, run in blocks() if run]
    assert len(runnable) == 4
    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        namespace: dict[str, Any] = {
            "client": client,
            "PUBLIC_KEY": telnyx_side["signer"].public_key,
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
                    namespace["WEBHOOK_URL"] = telnyx_side["url"] = url
        finally:
            if runner is not None:
                await runner.cleanup()
    assert capsys.readouterr().out.split() == ["delivered", "webhook"]
    assert namespace["missed"] == []
    assert namespace["delivered"] == 10
    assert telnyx_side["posted"] == 2 * 12
    assert namespace["tracker"].is_closed
