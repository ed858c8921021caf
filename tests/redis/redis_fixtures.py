"""Helpers for the Redis extra's tests: a redis-server process, and webhook bodies.

``stop()`` and ``start()`` again take Redis away and bring it back on the same port, empty.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"


class RedisServer:
    """One redis-server process on 127.0.0.1; nothing is written to disk."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary, self.directory = binary, directory
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port: int = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - the system's redis-server, our arguments
            [
                self.binary,
                *("--bind", "127.0.0.1", "--port", str(self.port)),
                *("--dir", str(self.directory), "--save", "", "--appendonly", "no"),
                *extra,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"redis-server exited:\n{(self.directory / 'redis.log').read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith((b"+PONG", b"-NOAUTH")):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail("redis-server did not answer PING within 20 s")  # pragma: no cover

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:  # pragma: no cover - only if Redis hangs
                self.process.kill()
                self.process.wait()
        self.process = None


def delivery_webhook(message_id: str, status: str = "delivered", event_id: str = "") -> bytes:
    """A ``message.finalized`` body for ``message_id`` (the spec's example, renamed)."""
    body = json.loads((EXAMPLES / "message.finalized.json").read_bytes())
    body["data"]["id"] = event_id or f"event-{message_id}-{status}"
    body["data"]["payload"]["id"] = message_id
    body["data"]["payload"]["to"][0]["status"] = status
    return json.dumps(body).encode()
