"""The transport seam: one ``Request`` value in, one ``Response`` value out.

Like httpx's ``AsyncBaseTransport.handle_async_request`` and gidgethub's one abstract
``_request``: everything above a transport (arguments, headers, the time budget, retries,
parsing) is the same whichever transport carries the bytes. :class:`AiohttpTransport` is the
default; :class:`MockTransport` answers in-process, for tests.
"""

from __future__ import annotations

import abc
import json as _json
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import define, field

from ._response import Response

__all__ = ["AsyncTransport", "Request"]

_NO_JSON: Any = object()


@define
class Request:
    """One attempt of an API call, as a transport sends it.

    ``url`` is absolute with the path already percent-escaped; ``query`` holds the query
    pairs (``None``: no query string). ``timeout`` is what this attempt may take and
    ``connect_timeout`` what opening a connection may take, in seconds (``None``: no limit).
    ``attempt`` counts tries of the same call, from 1. Treat it as read-only: the client
    builds a new one for every attempt.

    .. versionadded:: 0.2.0
    """

    # Not frozen: a frozen attrs class sets each field through object.__setattr__, which
    # cost ~7K instructions a send (callgrind), and nothing keeps a Request after its attempt.

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)  # they hold the API key
    body: bytes | None = field(repr=False)
    query: Sequence[tuple[str, str]] | None = None
    timeout: float | None = None
    connect_timeout: float | None = None
    attempt: int = 1

    def json(self) -> Any:
        """The body parsed as JSON (``None`` when there is no body)."""
        return None if self.body is None else _json.loads(self.body)

    def respond(
        self,
        status: int = 200,
        *,
        json: Any = _NO_JSON,
        body: bytes | str = b"",
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The :class:`Response` to this request: what a :class:`MockTransport` handler returns.

        ``json=`` encodes a value as the body and sets ``Content-Type: application/json``;
        ``body=`` gives the bytes (or text) as they are.
        """
        answer_headers = dict(headers or {})
        if json is not _NO_JSON:
            body = _json.dumps(json)
            answer_headers.setdefault("Content-Type", "application/json")
        return Response(
            status=status,
            headers=answer_headers,
            body=body.encode() if isinstance(body, str) else body,
            method=self.method,
            url=self.url,
            attempt=self.attempt,
        )


class AsyncTransport(abc.ABC):
    """What carries a request to Telnyx and its answer back: subclass it to replace aiohttp.

    ::

        client = AsyncClient(api_key="KEY", transport=MyTransport())

    Implement :meth:`handle_async_request`; override :meth:`aclose` if the transport holds
    anything to release. The client calls the one for every attempt and the other from its
    own ``close()``.

    .. versionadded:: 0.2.0
    """

    @abc.abstractmethod
    async def handle_async_request(self, request: Request) -> Response:
        """Send one attempt and return the whole answer, whatever its status.

        A status is never an error here (the client decides what a 4xx means); a request
        that gets no usable answer raises :class:`~telnyx_messaging.APIConnectionError`
        (:class:`~telnyx_messaging.APITimeoutError` when out of time), built with
        ``method=request.method, url=request.url, attempts=request.attempt``.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional to override, so not abstract
        """Release what the transport holds (connections, sessions); nothing by default."""
