"""Telemetry fixtures: the OpenTelemetry SDK's in-memory span exporter and metric reader."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from otel_exported import Exported

from telnyx_messaging import AsyncClient
from telnyx_messaging import telemetry as telemetry_module
from telnyx_messaging.testing import FakeTelnyx


@pytest.fixture
def exported() -> Iterator[Exported]:
    found = Exported()
    yield found
    found.close()


@pytest.fixture(autouse=True)
def _telemetry_switched_off() -> Iterator[None]:
    """Each test starts with the global switch off, and leaves it off."""
    telemetry_module.disable()
    yield
    telemetry_module.disable()


@pytest.fixture
async def traced(fake: FakeTelnyx, exported: Exported) -> AsyncIterator[AsyncClient]:
    """A client on the fake with telemetry reporting to the in-memory exporters."""
    async with AsyncClient(
        api_key=fake.api_key, base_url=fake.base_url, telemetry=exported.telemetry()
    ) as client:
        yield client
