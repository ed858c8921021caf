"""Shared fixtures: a FakeTelnyx on loopback, a client pointed at it, and Prism for contracts."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from telnyx_messaging import AsyncClient, Client, set_instant_retries
from telnyx_messaging.testing import FakeTelnyx

SPEC = (
    Path(__file__).parent.parent
    / "telnyx_messaging"
    / "testing"
    / "_spec"
    / "telnyx-messaging-openapi.json"
)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's real Telnyx settings."""
    for name in ("TELNYX_API_KEY", "TELNYX_BASE_URL", "TELNYX_PUBLIC_KEY", "TELNYX_LOG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _instant_retries() -> Iterator[None]:
    """Retries keep their attempt counts but skip the sleeps."""
    with set_instant_retries():
        yield


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelnyx]:
    # Messages stay "queued" (sent only after an hour of the fake's clock): these tests pin
    # what the client sends and reads back, not the lifecycle (tests/fake/test_fake_lifecycle.py).
    async with FakeTelnyx(send_seconds=3600) as server:
        yield server


@pytest.fixture
async def client(fake: FakeTelnyx) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as c:
        yield c


# -- the sync Client's tests: a fake the blocking test thread can call --------------------


class FakeInThread:
    """A FakeTelnyx serving from a loop thread of its own, so the test thread may block."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = FakeTelnyx()
        self.call(self.fake.__aenter__())

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.call(self.fake.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.fixture
def threaded_fake() -> Iterator[FakeTelnyx]:
    server = FakeInThread()
    yield server.fake
    server.stop()


@pytest.fixture
def sync_client(threaded_fake: FakeTelnyx) -> Iterator[Client]:
    with Client(api_key=threaded_fake.api_key, base_url=threaded_fake.base_url) as client:
        yield client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prism mocking the copied OpenAPI spec on loopback; started here, stopped after."""
    binary = os.environ.get("PRISM_BIN")
    if not binary:
        if os.environ.get("TELNYX_REQUIRE_CONTRACT"):
            pytest.fail("PRISM_BIN is not set but contract tests are required")
        pytest.skip("set PRISM_BIN (nox -s tests does) to run the contract tests")
    port = _free_port()
    # A file, not a pipe: Prism logs every request, and a full pipe would stall it.
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(  # noqa: S603 - our own pinned binary and arguments
        [binary, "mock", "--host", "127.0.0.1", "--port", str(port), str(SPEC)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"Prism exited early:\n{log_path.read_text()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("Prism did not start listening within 60 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if Prism ignores SIGTERM
            proc.kill()
            proc.wait()
        log.close()
