"""The aiohttp face of a :class:`~telnyx_messaging.webhooks.WebhookReceiver`.

aiohttp is imported when a handler is built, never when ``webhooks`` is imported: code that
only verifies, or serves Starlette or Django, does not load ``aiohttp.web``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telnyx_messaging.webhooks._policy import Answer

if TYPE_CHECKING:
    from aiohttp import web

    from telnyx_messaging.webhooks._policy import WebhookGate

__all__ = ["aiohttp_handler"]


def aiohttp_handler(gate: WebhookGate) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An ``aiohttp.web`` handler that reads the body within the cap and asks ``gate``."""
    # Imported here so code that only verifies (Django, Starlette) never loads aiohttp.web.
    from aiohttp import web
    from aiohttp.http_exceptions import HttpProcessingError
    from aiohttp.web_protocol import RequestPayloadError

    limit = gate.max_body_size

    async def read_all(request: web.Request) -> bytes:
        # aiohttp has already undone gzip/deflate here, so the cap is on the real size, and
        # reading stops one byte past it: a gzip bomb is never inflated in full.
        body = bytearray()
        while len(body) <= limit:
            chunk = await request.content.read(limit + 1 - len(body))
            if not chunk:
                break
            body += chunk
        return bytes(body)

    async def read_body(request: web.Request) -> bytes | Answer:
        try:
            # One deadline for the whole body: a client that trickles it holds a descriptor.
            body = await asyncio.wait_for(read_all(request), gate.body_timeout)
        except asyncio.TimeoutError:
            return gate.slow_body(request.path)
        except (RequestPayloadError, HttpProcessingError, ConnectionError) as exc:
            # aiohttp says "Connection lost" with ConnectionResetError; a bad gzip is a
            # payload error on a connection that is still open.
            transport = request.transport
            if isinstance(exc, ConnectionError) or transport is None or transport.is_closing():
                return gate.disconnected(request.path)  # gone: not a bad body, and no answer
            # A body that is not the gzip/deflate it claims to be.
            return gate.refuse(
                "bad_encoding",
                400,
                f"could not read the body ({type(exc).__name__}): is it the Content-Encoding "
                "it claims?",
                request.path,
            )
        if len(body) > limit:
            return gate.too_large(request.path)
        return body

    async def handle_telnyx_webhook(request: web.Request) -> web.Response:
        started = time.perf_counter()
        headers = request.headers
        where = request.path
        answer = gate.head(
            request.method, headers.get("Content-Length"), headers.get("Content-Encoding"), where
        )
        body = await read_body(request) if answer is None else answer
        if isinstance(body, bytes):
            # Content-Encoding is not passed on: aiohttp has undone it already.
            answer = await gate.dispatch(gate.open(body, headers, None, where), where)
            answer = gate.answered(answer, started)
            return web.Response(status=answer.status, text=answer.text, headers=answer.headers)
        # Refused without reading the whole body: mark it read, or aiohttp drains it after
        # the answer (and logs a bad gzip's error again, as an "Unhandled exception"), and
        # close the connection, so what is left of the body is never read as a next request.
        request.content.feed_eof()
        answer = gate.answered(body, started)
        response = web.Response(status=answer.status, text=answer.text, headers=answer.headers)
        response.force_close()
        return response

    return handle_telnyx_webhook
