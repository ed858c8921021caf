"""The command line: ``python -m telnyx_messaging demo`` and ``... fake-server``.

``demo`` runs the SDK's main job against an in-process :class:`~telnyx_messaging.testing.FakeTelnyx`
(no account, no network): send messages concurrently, read them back, page through lists.
``fake-server`` serves the same fake on a port of your choosing, for other processes to test
against.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from . import AsyncClient, TelnyxError
from .testing import FakeTelnyx

__all__ = ["main"]


async def demo() -> None:
    """Send, read back and list against a local fake of the Telnyx API."""
    say = print

    async with (
        FakeTelnyx() as fake,
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client,
    ):
        say(f"Fake Telnyx API on {fake.base_url}\n")

        recipients = [f"+1312555{n:04d}" for n in range(5)]
        sent = await asyncio.gather(
            *(
                client.messages.send(to=to, from_="+18445550001", text=f"Hello #{i}")
                for i, to in enumerate(recipients)
            )
        )
        say(f"Sent {len(sent)} messages concurrently:")
        for msg in sent:
            recipient = msg.to[0]
            cost = f"{msg.cost.amount} {msg.cost.currency}" if msg.cost else "n/a"
            say(f"  {msg.id}  to {recipient.phone_number}  {recipient.status}  cost {cost}")

        again = await client.messages.retrieve(sent[0].id)
        say(f"\nRead back {again.id}: {again.text!r}, received at {again.received_at}")

        try:
            await client.messages.send(to="+13125550000", from_="+18445550001", text="")
        except TelnyxError as exc:
            say(f"\nBad input is refused before sending: {exc}")

        page = await client.messaging_optouts.list(page_size=10)
        meta = page.meta
        if meta is not None:
            say(
                f"\nOpt-outs, page {meta.page_number} of {meta.total_pages} "
                f"({meta.total_results} in all):"
            )
        for optout in page.data[:3]:
            say(f"  {optout.to} opted out of {optout.from_} with {optout.keyword!r}")
        total = 0
        async for _ in client.messaging_optouts.list(page_size=10):
            total += 1
        say(f"  ... async for walked all {total} across pages, fetched lazily")

        longcodes = [
            n.phone_number
            async for n in client.phone_numbers.messaging.list(filter_type="longcode")
        ]
        say(f"\n{len(longcodes)} long-code numbers with messaging settings, e.g. {longcodes[:3]}")
        say(f"\n{len(fake.requests)} HTTP requests made; every send carried an Idempotency-Key.")


async def serve(host: str, port: int, api_key: str) -> None:
    """Serve FakeTelnyx until interrupted."""
    async with FakeTelnyx(host=host, port=port, api_key=api_key) as fake:
        print(f"FakeTelnyx on {fake.base_url} (API key {fake.api_key!r}); Ctrl-C stops it")
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m telnyx_messaging`` and the ``telnyx-messaging`` script."""
    parser = argparse.ArgumentParser(
        prog="telnyx-messaging",
        description="Try telnyx-messaging against a local fake of the Telnyx API, or serve it.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="send, read back and list against a local fake API")
    server = commands.add_parser("fake-server", help="serve the fake Telnyx API on a port")
    server.add_argument("--host", default="127.0.0.1")
    server.add_argument("--port", type=int, default=8765)
    server.add_argument("--api-key", default="KEY_fake_test_key")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            asyncio.run(demo())
        else:  # pragma: no cover - runs until interrupted; exercised by hand
            asyncio.run(serve(args.host, args.port, args.api_key))
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
