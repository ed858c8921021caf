"""Retry safety: does a retried send reach the phone twice? Ours against the official SDK.

`FakeTelnyx` (telnyx_messaging.testing) serves the API in this process, and each logical send
is scripted, attempt by attempt, to misbehave:

- ``lost answer``: the first attempt is processed (the message IS created) and then the
  connection is dropped before the answer (``Disconnect(after_processing=True)``), which is
  what a client sees when a proxy, a NAT or the network loses the response;
- ``503 then ok``: the first attempt is answered 503 without creating anything;
- ``lost answer x2``: the first two attempts are processed and their answers lost;
- ``no fault``: the control.

The fake creates a message for every POST /messages it processes, except a repeat of an
``Idempotency-Key`` whose answer it already gave: exactly what Telnyx documents. Requests
without a key are never de-duplicated. Each client gets ``max_retries=2`` (the default of both
SDKs). From the fake's side we count, per logical send, the attempts, the messages created and
the keys the attempts carried. The faults come from ``fault_hook`` keyed by the send (its text
names it), the same as a ``fail_next(..., method="POST", path="/messages")`` before each send,
but exact when the K sends of a scenario run concurrently (so the backoff waits overlap).

    python benchmarks/bench_retry_safety.py [--safety-sends 20]
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version

import aiohttp

from telnyx_messaging import AsyncClient
from telnyx_messaging.testing import Disconnect, FakeTelnyx, Fault, RecordedRequest, Respond

LOST = Disconnect(after_processing=True)
SCENARIOS: dict[str, tuple[Fault, ...]] = {
    "no fault": (),
    "lost answer": (LOST,),
    "503 then ok": (Respond(503, json={"errors": [{"code": "10011", "title": "Unavailable"}]}),),
    "lost answer x2": (LOST, LOST),
}

Send = Callable[[str], Awaitable[object]]


def faults_by_send(fake: FakeTelnyx) -> None:
    """Give attempt n of each send (named by its text) the n-th fault of its scenario."""
    attempts: Counter[str] = Counter()

    def hook(request: RecordedRequest) -> Fault | None:
        if request.method != "POST" or request.path != "/messages":
            return None
        label = (request.json or {}).get("text", "")
        scenario = label.split("|")[1] if label.count("|") == 2 else None
        if scenario not in SCENARIOS:
            return None
        attempts[label] += 1
        script = SCENARIOS[scenario]
        return script[attempts[label] - 1] if attempts[label] <= len(script) else None

    fake.fault_hook = hook


async def run_scenario(
    fake: FakeTelnyx, client: str, scenario: str, send: Send, sends: int
) -> list[object]:
    """Send ``sends`` messages at once; return, for each, ``None`` or the exception raised."""
    labels = [f"{client}|{scenario}|{i}" for i in range(sends)]

    async def one(label: str) -> object:
        try:
            await send(label)
        except Exception as exc:  # noqa: BLE001 - a failed send is a result to report
            return exc
        return None

    return await asyncio.gather(*(one(label) for label in labels))


def tally(fake: FakeTelnyx, client: str, scenario: str, outcomes: list[object]) -> dict[str, str]:
    prefix = f"{client}|{scenario}|"
    created: Counter[str] = Counter(
        m["text"] for m in fake.messages.values() if str(m.get("text", "")).startswith(prefix)
    )
    keys: defaultdict[str, list[str | None]] = defaultdict(list)
    for request in fake.requests:
        label = (request.json or {}).get("text", "") if isinstance(request.json, dict) else ""
        if request.method == "POST" and str(label).startswith(prefix):
            keys[label].append(request.idempotency_key)
    sends = len(outcomes)
    attempts = sum(len(k) for k in keys.values())
    twice = sum(1 for n in created.values() if n > 1)
    if all(None in k for k in keys.values()):
        reused = "no key sent" if all(set(k) == {None} for k in keys.values()) else "some missing"
    elif all(len(set(k)) == 1 for k in keys.values()):
        reused = "yes, same key"
    else:
        reused = "NO, changes"
    failed = [o for o in outcomes if o is not None]
    errors = Counter(type(o).__name__ for o in failed)
    return {
        "client": client,
        "scenario": scenario,
        "sends": str(sends),
        "created": str(sum(created.values())),
        "dupes": str(sum(created.values()) - len(created)),
        "sent 2x+": str(twice),
        "attempts/send": f"{attempts / sends:.2f}",
        "key on every attempt": reused,
        "send raised": ", ".join(f"{n} {name}" for name, n in errors.items()) or "-",
    }


async def main_async(sends: int) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    async with FakeTelnyx() as fake:
        faults_by_send(fake)
        ours = AsyncClient(api_key=fake.api_key, base_url=fake.base_url, max_retries=2)
        clients: dict[str, Send] = {}

        async def ours_send(label: str) -> object:
            return await ours.messages.send(to="+13125550002", from_="+18445550001", text=label)

        clients["telnyx-messaging"] = ours_send
        official = None
        try:
            from telnyx import AsyncTelnyx
        except ImportError:
            print("(official `telnyx` package not installed: skipping it)")
        else:
            official = AsyncTelnyx(api_key=fake.api_key, base_url=fake.base_url, max_retries=2)

            async def official_send(label: str) -> object:
                return await official.messages.send(
                    to="+13125550002", from_="+18445550001", text=label
                )

            async def official_keyed(label: str) -> object:
                # The opt-in the official SDK offers: a key the caller makes and passes per call.
                return await official.messages.send(
                    to="+13125550002",
                    from_="+18445550001",
                    text=label,
                    idempotency_key=str(uuid.uuid4()),
                )

            clients["telnyx"] = official_send
            clients["telnyx + caller's key"] = official_keyed
        try:
            for client, send in clients.items():
                for scenario in SCENARIOS:
                    outcomes = await run_scenario(fake, client, scenario, send, sends)
                    rows.append(tally(fake, client, scenario, outcomes))
        finally:
            await ours.close()
            if official is not None:
                await official.close()
    return rows


def dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--safety-sends", type=int, default=20, help="logical sends per scenario")
    # `nox -s bench -- ...` passes the same arguments to every benchmark: ignore the others'.
    args, _ = parser.parse_known_args()

    rows = asyncio.run(main_async(args.safety_sends))
    print(
        f"retry safety: {args.safety_sends} concurrent sends per scenario, max_retries=2, against "
        f"FakeTelnyx (aiohttp {aiohttp.__version__}, telnyx {dist_version('telnyx')})"
    )
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())
    unsafe = [r for r in rows if r["dupes"] != "0"]
    for row in unsafe:
        print(
            f"DOUBLE SEND: {row['client']} / {row['scenario']}: {row['created']} messages for "
            f"{row['sends']} sends ({row['sent 2x+']} sends reached the phone more than once)"
        )
    if not unsafe:
        print("no duplicate message in any scenario")


if __name__ == "__main__":
    main()
