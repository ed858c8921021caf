"""The ASGI face of a :class:`~telnyx_messaging.webhooks.WebhookReceiver` (Starlette, FastAPI).

Plain ASGI, so it needs no framework import: Starlette and FastAPI route to it as to any ASGI
app. The body is read here, with the size cap applied while reading, and handed to the
receiver; ASGI servers pass ``Content-Encoding`` through untouched, so gzip/deflate is undone
here, within the same cap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from telnyx_messaging.webhooks._policy import Answer

if TYPE_CHECKING:
    from telnyx_messaging.webhooks._policy import WebhookGate

__all__ = ["ASGIWebhookApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ASGIWebhookApp:
    """An ASGI app that answers Telnyx webhooks through one receiver."""

    def __init__(self, gate: WebhookGate, close: Callable[[], Awaitable[None]]) -> None:
        self.gate = gate
        self._close = close  # the receiver's close(), run at lifespan shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # a websocket scope: nothing here speaks it, so it is refused by closing
        started = time.perf_counter()
        gate = self.gate
        where = scope.get("path", "")
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers", ()):
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            # Repeats joined as a WSGI server joins them: the gate refuses two signatures.
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        encoding = headers.get("content-encoding")
        answer = gate.head(scope["method"], headers.get("content-length"), encoding, where)
        if answer is None:
            try:
                # The server's receive() waits as long as the client trickles: bound it here.
                raw = await asyncio.wait_for(_read(receive, gate.max_body_size), gate.body_timeout)
            except asyncio.TimeoutError:
                answer = gate.slow_body(where)
            else:
                if raw is None:
                    gate.disconnected(where)
                    return  # the client went away: nobody to answer
                answer = await gate.dispatch(gate.open(raw, headers, encoding, where), where)
        answer = gate.answered(answer, started)
        await _answer(send, answer)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        # Only when served on its own: mounted in Starlette or FastAPI, the outer app's
        # lifespan runs instead, and that is where `async with receiver:` goes.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:  # "lifespan.shutdown", the only other lifespan message
                await self._close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The body, or ``limit + 1`` bytes of it when it is longer; ``None`` on disconnect."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > limit or not message.get("more_body", False):
            return bytes(body[: limit + 1])


async def _answer(send: Send, answer: Answer) -> None:
    content = answer.text.encode("utf-8")
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(content)).encode("ascii")),
    ]
    headers.extend((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers)
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
