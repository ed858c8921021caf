"""A real redis-server on a free loopback port, with no persistence, for the Redis extra's tests.

Skipped cleanly where ``redis-server`` (or redis-py) is not installed; CI installs both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_server import RedisServer, running_redis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server started for this test and stopped after it; skipped where absent."""
    yield from running_redis(tmp_path)
