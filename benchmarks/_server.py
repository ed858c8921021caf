"""A loopback stand-in for POST /v2/messages, run in its own process by the benchmarks.

It answers every send with the same spec-shaped message (the OpenAPI example of
``OutboundMessagePayload``), prepared once, so the server's own cost stays out of the way and
every client parses exactly the same bytes. Run: ``python _server.py PORT``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from aiohttp import web

SPEC = (
    Path(__file__).parent.parent
    / "telnyx_messaging"
    / "testing"
    / "_spec"
    / "telnyx-messaging-openapi.json"
)


def answer_body() -> bytes:
    spec = json.loads(SPEC.read_text())
    example = spec["components"]["schemas"]["OutboundMessage"]["example"]["payload"]
    return json.dumps({"data": example}).encode()


def main() -> None:
    port = int(sys.argv[1])
    body = answer_body()

    async def send(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v2/messages", send)
    print("ready", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
