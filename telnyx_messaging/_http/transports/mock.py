"""``MockTransport``: answer the client's requests in-process with a function of yours."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

from telnyx_messaging._errors import APIConnectionError, APITimeoutError, InvalidArgumentError
from telnyx_messaging._http.transports.base import AsyncTransport, case_insensitive_answer
from telnyx_messaging._wire import Request, Response

__all__ = ["MockTransport"]

Handler = Callable[[Request], "Response | Awaitable[Response]"]


class MockTransport(AsyncTransport):
    """A transport that calls ``handler(request)`` instead of opening a connection.

    ::

        def handler(request: Request) -> Response:
            assert request.json()["to"] == "+13125550002"
            return request.respond(200, json={"data": {"id": "msg-1"}})

        client = AsyncClient(api_key="KEY_test", transport=MockTransport(handler))

    The handler may be a plain function or a coroutine function. Everything above the
    transport runs as it does over HTTP: argument checks, headers, the ``Idempotency-Key``,
    retries and their waits, parsing, the exception for an error status. Answer headers are
    matched in any case, as over HTTP (``{"Retry-After": "2"}`` is honoured). To act out a lost
    connection, raise ``ConnectionError`` (it becomes :class:`~telnyx_messaging.APIConnectionError`)
    or ``TimeoutError`` (:class:`~telnyx_messaging.APITimeoutError`) from the handler.

    .. versionadded:: 0.2.0
    """

    def __init__(self, handler: Handler) -> None:
        if not callable(handler):
            raise InvalidArgumentError(
                f"MockTransport needs a function of the request, got {type(handler).__name__}"
            )
        self.handler = handler

    async def handle_async_request(self, request: Request) -> Response:
        """Answer with what the handler returns; its connection failures become ours."""
        try:
            answer = self.handler(request)
            if inspect.isawaitable(answer):
                answer = await answer
        except (TimeoutError, asyncio.TimeoutError) as exc:  # distinct classes before 3.11
            raise APITimeoutError(
                f"{request.method} {request.url} timed out (in the MockTransport handler)",
                method=request.method,
                url=request.url,
                attempts=request.attempt,
            ) from exc
        except OSError as exc:  # ConnectionResetError, ConnectionRefusedError...
            raise APIConnectionError(
                f"{request.method} {request.url} failed: {type(exc).__name__}: {exc}",
                method=request.method,
                url=request.url,
                attempts=request.attempt,
            ) from exc
        if not isinstance(answer, Response):
            raise InvalidArgumentError(
                "a MockTransport handler must return a Response (request.respond(...) makes "
                f"one), got {type(answer).__name__}"
            )
        # A handler writes headers as a dict: `Retry-After` must count as `retry-after`.
        return case_insensitive_answer(answer)
