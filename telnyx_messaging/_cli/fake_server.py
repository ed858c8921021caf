"""``telnyx-messaging fake-server``: FakeTelnyx on a port, for other processes to test against."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any
from urllib.parse import urlsplit

from telnyx_messaging._cli._argtypes import _positive
from telnyx_messaging.testing import FakeTelnyx, RateLimits, WebhookSigner
from telnyx_messaging.testing._delivery import LOOPBACK_HOSTS

__all__ = ["add_fake_server", "serve"]


async def serve(args: argparse.Namespace) -> None:
    """Serve FakeTelnyx until interrupted."""
    limits = RateLimits(
        account_per_second=args.account_rate_limit,
        per_sender_per_second=args.sender_rate_limit,
        mms_per_second=args.mms_rate_limit,
    )
    fake = FakeTelnyx(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        webhook_url=args.webhook_url,
        webhook_failover_url=args.webhook_failover_url,
        allowed_webhook_hosts={*LOOPBACK_HOSTS, *args.webhook_host},
        rate_limits=limits,
        signer=WebhookSigner(seed=args.signing_seed) if args.signing_seed else None,
        send_seconds=args.send_seconds,
        delivery_seconds=args.delivery_seconds,
    )
    if args.fail_delivery:
        fake.fail_delivery(*args.fail_delivery)
    if args.fail_sending:
        fake.fail_delivery(*args.fail_sending, status="sending_failed")
    async with fake:
        # The first line is the URL to use: tests that start fake-server read it (port 0).
        print(f"FakeTelnyx on {fake.base_url}; Ctrl-C stops it", flush=True)
        print(f"  API key     {fake.api_key}")
        print(f"  public key  {fake.public_key}  (verifies its webhooks)")
        # What the user configured, so a typo or a missing option shows before the first test.
        print(f"  webhooks    {_webhooks_line(args.webhook_url, args.webhook_failover_url)}")
        print(f"  rate limits {_rate_limits_line(fake.rate_limits)}")
        control = fake.base_url.removesuffix("/v2") + "/_fake/"
        print(f"  control     {control}  (FakeTelnyxControl; docs/testing.md)", flush=True)
        await asyncio.Event().wait()


def _webhooks_line(url: str | None, failover: str | None) -> str:
    if url is None and failover is None:
        return "none (--webhook-url sets the default profile's)"
    return f"{url or 'none'}" + (f" (failover {failover})" if failover else "")


def _rate_limits_line(limits: RateLimits) -> str:
    account, sender, mms = (
        limits.account_per_second,
        limits.per_sender_per_second,
        limits.mms_per_second,
    )
    if account is None and sender is None and mms is None:
        return "none (--account-rate-limit, --sender-rate-limit, --mms-rate-limit)"

    def rate(limit: int | None) -> str:
        return "none" if limit is None else f"{limit}/s"

    # Without an MMS limit, MMS count against the account's limit (RateLimits' rule).
    return (
        f"account {rate(account)}, per sender {rate(sender)}, "
        f"MMS {'with the account' if mms is None else rate(mms)}"
    )


def _run_server(args: argparse.Namespace) -> int:
    try:
        asyncio.run(serve(args))
    except OSError as exc:  # most often: the port is taken, by an earlier fake-server say
        print(
            f"telnyx-messaging fake-server: cannot listen on {args.host}:{args.port}: "
            f"{exc.strerror or exc}; check --host, or free the port or choose another --port",
            file=sys.stderr,
        )
        return 1
    return 0  # pragma: no cover - serve() runs until interrupted


def _webhook_host_refused(args: argparse.Namespace) -> str | None:
    """Why a webhook URL given to fake-server would never be posted to, or None."""
    allowed = {*LOOPBACK_HOSTS, *args.webhook_host}
    for option, url in (
        ("--webhook-url", args.webhook_url),
        ("--webhook-failover-url", args.webhook_failover_url),
    ):
        host = urlsplit(url).hostname if url else None
        if url and host not in allowed:
            # The fake would skip every delivery to it, and the app would see no webhooks.
            return f"{option} {url}: the fake posts only to this machine; add --webhook-host {host}"
    return None


def _port(text: str) -> int:
    # Otherwise 70000 surfaces as an OverflowError traceback from bind().
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, not {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds, 0 or more, not {text!r}")
    return seconds


def _seed(text: str) -> bytes:
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise argparse.ArgumentTypeError("must be 64 hex digits (32 bytes)")
    return seed


def add_fake_server(commands: Any) -> None:
    """Add ``fake-server`` to the CLI's subcommands."""
    server = commands.add_parser("fake-server", help="serve the fake Telnyx API on a port")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    server.add_argument("--port", type=_port, default=8765, help="port to listen on (8765)")
    server.add_argument(
        "--api-key", default="KEY_fake_test_key", help="the API key it accepts (KEY_fake_test_key)"
    )
    server.add_argument(
        "--webhook-url",
        metavar="URL",
        help="the default messaging profile's webhook URL (none: no webhooks)",
    )
    server.add_argument(
        "--webhook-failover-url", metavar="URL", help="the default profile's failover URL"
    )
    server.add_argument(
        "--webhook-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a host it may post webhooks to besides this machine (repeatable)",
    )
    server.add_argument(
        "--account-rate-limit",
        type=_positive,
        metavar="N",
        help="answer 429 past N sends a second for the account (Telnyx: about 50)",
    )
    server.add_argument(
        "--sender-rate-limit",
        type=_positive,
        metavar="N",
        help="answer 429 past N sends a second per sender (a long code: 1)",
    )
    server.add_argument(
        "--mms-rate-limit",
        type=_positive,
        metavar="N",
        help="answer 429 past N MMS a second, counted apart from SMS (Telnyx: about 15)",
    )
    server.add_argument(
        "--signing-seed",
        type=_seed,
        metavar="HEX",
        help="64 hex digits: sign webhooks with the same key every run (default: a new key)",
    )
    server.add_argument(
        "--fail-delivery",
        action="append",
        default=[],
        metavar="NUMBER",
        help="messages to NUMBER end delivery_failed (repeatable; also FakeTelnyxControl)",
    )
    server.add_argument(
        "--fail-sending",
        action="append",
        default=[],
        metavar="NUMBER",
        help="messages to NUMBER end sending_failed (repeatable)",
    )
    server.add_argument(
        "--send-seconds",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="a message stays queued S seconds of the fake's clock before it is sent (0)",
    )
    server.add_argument(
        "--delivery-seconds",
        type=_seconds,
        default=0.0,
        metavar="S",
        help="a sent message is delivered S seconds of the fake's clock later (0)",
    )
    server.set_defaults(run=_run_server)
    server.set_defaults(refuse=_webhook_host_refused)
