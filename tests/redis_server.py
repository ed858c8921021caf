"""A real redis-server on a free loopback port, for every test that needs Redis.

One helper for the Redis extra's tests (tests/redis/) and the docs' Redis recipes
(tests/webhooks/test_webhooks_recipes.py): ``running_redis(tmp_path, *extra)`` starts one with
no persistence unless ``extra`` asks for it, skips where redis-server or redis-py is absent
(fails instead under ``TELNYX_REQUIRE_REDIS``, as nox sets in CI), and stops it after.
``stop()`` and ``start()`` again take Redis away and bring it back on the same port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["RedisServer", "running_redis"]


class RedisServer:
    """One redis-server process on 127.0.0.1; nothing is written to disk."""

    def __init__(self, binary: str, directory: Path, *options: str) -> None:
        # ``options`` are given on every start, so a restart keeps e.g. its persistence.
        self.binary, self.directory, self.options = binary, directory, options
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
                # Later options win in redis-server's command line: these can turn
                # persistence on.
                *self.options,
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


def running_redis(tmp_path: Path, *extra: str) -> Iterator[RedisServer]:
    """A redis-server started (and restarted) with ``extra`` options, for a fixture to
    ``yield from``."""
    pytest.importorskip("redis")
    binary = shutil.which("redis-server")
    if binary is None:
        why = "redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)"
        if os.environ.get("TELNYX_REQUIRE_REDIS"):  # nox -s tests: a silent skip would hide it
            pytest.fail(why)
        pytest.skip(why)
    server = RedisServer(binary, tmp_path, *extra)
    server.start()
    try:
        yield server
    finally:
        server.stop()
