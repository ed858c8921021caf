"""What a kept Message costs in memory, against the dict ``json.loads`` makes of its answer.

Builds N answers of a send (the spec's example message, each with its own id, as bytes that
arrived from the network), reads each one as a contender would, keeps only what the contender
keeps, and reads the memory still held (``tracemalloc``, after a full collection) per answer.
Everything retained counts: for a ``Message``, its fields and whatever it holds for ``raw``.

    python benchmarks/bench_memory.py [--count 20000]

Run it with ``PYTHONPATH`` pointing at another checkout to measure that version's models.
"""

from __future__ import annotations

import argparse
import gc
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from telnyx_messaging import Message
from telnyx_messaging._http.codec import Response, decode_model

SPEC = Path(__file__).parent.parent / "telnyx_messaging/testing/_spec/telnyx-messaging-openapi.json"
URL = "https://api.telnyx.com/v2/messages"


def answer_template() -> tuple[bytes, bytes]:
    """The send answer the benchmarks serve, split around its message id."""
    spec = json.loads(SPEC.read_text())
    example = spec["components"]["schemas"]["OutboundMessage"]["example"]["payload"]
    body = json.dumps({"data": example}).encode()
    head, _, tail = body.partition(example["id"].encode())
    return head, tail


def message_of(body: bytes) -> Message:
    """What ``client.messages.send`` returns for ``body``."""
    return decode_model(Response(200, {}, body, "POST", URL), Message)


def retained_per_answer(keep: Callable[[bytes], object], count: int) -> float:
    """Bytes still allocated per answer after keeping ``keep(body)`` for ``count`` bodies."""
    head, tail = answer_template()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [keep(b"%s%08d-0000-4000-8000-000000000000%s" % (head, i, tail)) for i in range(count)]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(kept) == count
    del kept
    return (after - before) / count


CONTENDERS: dict[str, Callable[[bytes], object]] = {
    "the answer's dict (json.loads(body)['data'])": lambda body: json.loads(body)["data"],
    "Message (what send returns)": message_of,
    "Message.id only": lambda body: message_of(body).id,
    "the answer's bytes": lambda body: body,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    args, _ = parser.parse_known_args()  # nox -s bench passes every script the same args

    message_of(answer_template()[0] + b"x" + answer_template()[1])  # warm up: generated code
    results = {name: retained_per_answer(keep, args.count) for name, keep in CONTENDERS.items()}
    floor = results["the answer's dict (json.loads(body)['data'])"]
    print(f"memory kept per answer, {args.count} answers (ratio to the dict):")
    for name, size in results.items():
        print(f"  {name:46} {size:8.0f} B  {size / floor:5.2f}x")
    total = results["Message (what send returns)"] * args.count / 1e6
    print(f"  {args.count} kept Messages: {total:.0f} MB")


if __name__ == "__main__":
    main()
