"""Free when off: without the switch, OpenTelemetry is never imported (a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent.parent / "spec" / "webhook-examples" / "message.sent.json"

SEND = """
import asyncio, json, sys
{setup}
import telnyx_messaging.telemetry
from telnyx_messaging import AsyncClient, MockTransport

ANSWER = {{"data": json.load(open({example!r}))["data"]["payload"]}}

async def main(**options):
    transport = MockTransport(lambda request: request.respond(json=ANSWER))
    async with AsyncClient(api_key="k", transport=transport, **options) as client:
        await client.messages.send(to="+13125550002", from_="+18445550001", text="hi")

{run}
print(sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry" or "_telemetry." in m))
"""


def _loaded(run: str, setup: str = "") -> str:
    code = SEND.format(setup=setup, run=run, example=str(EXAMPLE))
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    "run",
    [
        "asyncio.run(main())",
        "asyncio.run(main(telemetry=False))",
        "telnyx_messaging.telemetry.Telemetry(record_phone_numbers=True); asyncio.run(main())",
    ],
    ids=["default", "telemetry=False", "options-made-not-used"],
)
def test_off_imports_no_opentelemetry(run: str) -> None:
    """A client with telemetry off sends without importing opentelemetry or our OTel code."""
    assert _loaded(run) == "[]"


def test_receiving_and_tracking_off_import_no_opentelemetry() -> None:
    """A receiver, a tracker and a send_many run made with telemetry off import nothing of it."""
    run = """
from telnyx_messaging import webhooks
from telnyx_messaging.testing import WebhookSigner

receiver = webhooks.WebhookReceiver(public_key=WebhookSigner().public_key, on_event=print)

async def track_and_run():
    tracker = webhooks.DeliveryTracker(None)
    try:
        await tracker.wait("m-1", timeout=0.01)
    except webhooks.DeliveryTimeoutError:
        pass
    transport = MockTransport(lambda request: request.respond(json=ANSWER))
    async with AsyncClient(api_key="k", transport=transport) as client:
        rows = [dict(to="+13125550002", from_="+18445550001", text="hi")]
        async with client.messages.send_many(rows) as bulk:
            [result async for result in bulk]

asyncio.run(track_and_run())
"""
    assert _loaded(run) == "[]"


def test_on_imports_it() -> None:
    """The same script with telemetry on does import it (the check above can fail)."""
    loaded = _loaded("asyncio.run(main(telemetry=True))")
    assert "opentelemetry.trace" in loaded
    assert "telnyx_messaging._telemetry.client" in loaded


def test_switching_on_without_the_extra_says_what_to_install() -> None:
    """Without opentelemetry-api installed, switching on is refused with the pip command, and a
    client left off works."""
    script = """
import sys
sys.modules["opentelemetry"] = None  # as if the otel extra were not installed
from telnyx_messaging import AsyncClient, ConfigurationError
import telnyx_messaging.telemetry as telemetry
AsyncClient(api_key="k")
for switch in (telemetry.enable, lambda: AsyncClient(api_key="k", telemetry=True)):
    try:
        switch()
    except ConfigurationError as exc:
        print(exc)
"""
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert "pip install 'telnyx-messaging[otel]'" in line
