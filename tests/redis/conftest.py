"""A real redis-server on a free loopback port, with no persistence, for the Redis extra's tests.

Skipped cleanly where ``redis-server`` (or redis-py) is not installed; CI installs both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_fixtures import RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server started for this test and stopped after it; skipped where absent."""
    pytest.importorskip("redis")
    binary = shutil.which("redis-server")
    if binary is None:
        why = "redis-server is not installed (Debian/Ubuntu: apt-get install redis-server)"
        if os.environ.get("TELNYX_REQUIRE_REDIS"):  # nox -s tests: a silent skip would hide it
            pytest.fail(why)
        pytest.skip(why)
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
