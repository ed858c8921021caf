"""Helpers for the Redis extra's tests: a redis-server process, and webhook bodies.

``stop()`` and ``start()`` again take Redis away and bring it back on the same port, empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from telnyx_messaging.testing import WebhookSigner

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
HERE = Path(__file__).parent
SIGNER = WebhookSigner(seed=b"\x21" * 32)


def delivery_webhook(message_id: str, status: str = "delivered", event_id: str = "") -> bytes:
    """A ``message.finalized`` body for ``message_id`` (the spec's example, renamed)."""
    body = json.loads((EXAMPLES / "message.finalized.json").read_bytes())
    body["data"]["id"] = event_id or f"event-{message_id}-{status}"
    body["data"]["payload"]["id"] = message_id
    body["data"]["payload"]["to"][0]["status"] = status
    return json.dumps(body).encode()


def start_replica(
    url: str, mode: str, handle_seconds: float = 0.0
) -> tuple[subprocess.Popen[str], int]:
    """A receiver_process.py replica (see there for the modes) and the port it serves."""
    script = str(HERE / "receiver_process.py")
    process = subprocess.Popen(  # noqa: S603 - our own helper, run by this interpreter
        [sys.executable, script, url, SIGNER.public_key, mode, str(handle_seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:  # pragma: no cover - only if the replica failed to start
        process.wait()
        pytest.fail("a receiver replica did not start")
    return process, int(line)


def stop_replicas(replicas: list[tuple[subprocess.Popen[str], int]]) -> None:
    """SIGTERM each replica and wait for it to exit."""
    for process, _ in replicas:
        process.terminate()
    for process, _ in replicas:
        process.wait(timeout=20)
        assert process.stdout is not None
        process.stdout.close()
