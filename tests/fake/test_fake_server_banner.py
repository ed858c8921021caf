"""What ``telnyx-messaging fake-server`` prints on start: what a user configured is visible."""

from __future__ import annotations

import asyncio

import pytest

from telnyx_messaging._cli import fake_server
from telnyx_messaging._cli.main import build_parser


async def banner(capsys: pytest.CaptureFixture[str], *options: str) -> str:
    """Start fake-server with ``options`` on port 0, return what it printed, and stop it."""
    args = build_parser().parse_args(["fake-server", "--port", "0", *options])
    serving = asyncio.create_task(fake_server.serve(args))
    out = ""
    while "  control " not in out:  # the last line
        await asyncio.sleep(0.01)
        out += capsys.readouterr().out
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    return out


async def test_the_banner_shows_webhooks_and_rate_limits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The webhook URL, its failover and each rate limit given appear in the banner."""
    out = await banner(
        capsys,
        *("--webhook-url", "http://127.0.0.1:8000/telnyx"),
        *("--webhook-failover-url", "http://127.0.0.1:8001/telnyx"),
        *("--account-rate-limit", "50", "--sender-rate-limit", "1", "--mms-rate-limit", "15"),
    )
    assert (
        "  webhooks    http://127.0.0.1:8000/telnyx (failover http://127.0.0.1:8001/telnyx)\n"
        in out
    )
    assert "  rate limits account 50/s, per sender 1/s, MMS 15/s\n" in out


async def test_the_banner_says_what_is_off(capsys: pytest.CaptureFixture[str]) -> None:
    """Without webhook URLs or limits the banner says so, and which option would set them."""
    out = await banner(capsys, "--sender-rate-limit", "1")
    assert "  webhooks    none (--webhook-url sets the default profile's)\n" in out
    assert "  rate limits account none, per sender 1/s, MMS with the account\n" in out
    out = await banner(capsys)
    assert (
        "  rate limits none (--account-rate-limit, --sender-rate-limit, --mms-rate-limit)\n" in out
    )
