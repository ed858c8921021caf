"""The Python examples in docs/webhooks.md run as written (framework ones where installed)."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import telnyx_messaging.testing
from telnyx_messaging import webhooks
from telnyx_messaging.testing._signer import WebhookSigner

DOC = Path(__file__).parents[2] / "docs" / "webhooks.md"
EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def _imports(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _runnable(source: str) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in _imports(source))


@pytest.mark.parametrize("source", BLOCKS)
def test_every_example_compiles(source: str) -> None:
    """Every Python block in the webhook docs is valid Python, installed framework or not."""
    compile(source, str(DOC), "exec")


async def test_examples_run_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runnable blocks run top to bottom, and the aiohttp app they build accepts a webhook."""
    # The package's testing namespace re-exports the signer; make sure it does here too.
    monkeypatch.setattr(telnyx_messaging.testing, "WebhookSigner", WebhookSigner, raising=False)
    signer = WebhookSigner(seed=b"\x09" * 32)
    body = (EXAMPLES / "message.received.json").read_bytes()
    namespace: dict[str, Any] = {
        "__name__": "webhook_docs",  # as in a module of the reader's app (Flask(__name__))
        "TELNYX_PUBLIC_KEY": signer.public_key,
        "body": body,
        "headers": signer.headers(body),
    }
    ran = [source for source in BLOCKS if _runnable(source)]
    assert len(ran) >= 4
    try:
        for source in ran:
            exec(compile(source, str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
    finally:
        client = namespace.get("client")
        if client is not None:
            await client.close()
    assert isinstance(namespace["event"], webhooks.InboundMessage)

    runner = web.AppRunner(namespace["app"])
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}/webhooks/telnyx", data=body, headers=signer.headers(body)
            ) as response,
        ):
            assert response.status == 200
    finally:
        await runner.cleanup()
