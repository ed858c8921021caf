"""Webhook verify + parse CPU per call: ours against the floor and the official SDK.

Measured on a typical delivery receipt (``tests/spec/webhook-examples/message.finalized.json``):

- floor: one PyNaCl ``VerifyKey.verify`` and one ``json.loads`` of the same body, with the key
  and signature decoded beforehand: the least any verifying parser can do;
- ours: ``webhooks.unwrap(body, headers, public_key=KEY)``, called as users call it (key as
  base64 text, headers as a dict, the clock read on every call) and returning a typed event;
- telnyx: the official SDK's ``client.webhooks.unwrap(payload, headers=...)`` (``telnyx`` 4.x),
  when it is importable.

Contenders take turns, round by round, so machine noise hits them alike; each number is CPU
time (``time.process_time``) per call, the median over the rounds.

    python benchmarks/bench_webhooks.py [--calls 2000] [--rounds 9]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from nacl.signing import SigningKey, VerifyKey

from telnyx_messaging import webhooks

HERE = Path(__file__).parent
BODY = (HERE.parent / "tests" / "spec" / "webhook-examples" / "message.finalized.json").read_bytes()
TARGET = 1.5


def contenders() -> tuple[dict[str, Callable[[], object]], str | None]:
    """The calls to time, each verifying and parsing BODY, and why telnyx is absent if it is."""
    signing_key = SigningKey(b"\x42" * 32)
    public_key = base64.b64encode(bytes(signing_key.verify_key)).decode()
    # Signed "now" and re-used: every run takes well under the 300 s both SDKs tolerate.
    timestamp = str(int(time.time()))
    signature = signing_key.sign(f"{timestamp}|".encode() + BODY).signature
    headers = {
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        "telnyx-timestamp": timestamp,
    }
    verify_key = VerifyKey(bytes(signing_key.verify_key))
    prefix = f"{timestamp}|".encode()

    def floor() -> object:
        verify_key.verify(prefix + BODY, signature)
        return json.loads(BODY)

    def ours() -> object:
        return webhooks.unwrap(BODY, headers, public_key=public_key)

    calls: dict[str, Callable[[], object]] = {"floor": floor, "ours": ours}
    try:
        import telnyx
    except ImportError:
        return calls, "telnyx is not installed (pip install 'telnyx>=4,<5')"
    client = telnyx.Telnyx(api_key="KEY_benchmark", public_key=public_key)
    # Its unwrap takes the body as str and signs f"{timestamp}|{payload}".encode().
    payload = BODY.decode("utf-8")

    def official() -> object:
        return client.webhooks.unwrap(payload, headers=headers)

    try:
        official()  # once first: a wrong call is reported, not timed
    except Exception as exc:  # noqa: BLE001 - report why, and measure the rest
        return calls, f"telnyx's unwrap failed: {type(exc).__name__}: {exc}"
    calls["telnyx"] = official
    return calls, None


def per_call(call: Callable[[], object], calls: int) -> float:
    start = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per contender per round")
    parser.add_argument("--rounds", type=int, default=9)
    # `nox -s bench -- ...` passes the same arguments to every benchmark: ignore the others'.
    args, _ = parser.parse_known_args()

    calls, missing = contenders()
    for call in calls.values():  # warm up: caches, the converter's generated code
        per_call(call, 200)
    results: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(args.rounds):
        for name, call in calls.items():
            results[name].append(per_call(call, args.calls))

    floor = statistics.median(results["floor"])
    print(f"webhook verify + parse of {len(BODY)} bytes, CPU per call, median of {args.rounds}")
    print(f"{'':8} {'median':>10} {'min':>10} {'x floor':>8}")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"{name:8} {median * 1e6:8.1f}us {min(times) * 1e6:8.1f}us {median / floor:7.2f}x")
    if missing:
        print(f"telnyx   not measured: {missing}")
    ratio = statistics.median(results["ours"]) / floor
    verdict = "within" if ratio <= TARGET else "OVER"
    print(f"ours/floor = {ratio:.2f}x ({verdict} the {TARGET}x target)")


if __name__ == "__main__":
    main()
