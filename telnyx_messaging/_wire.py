"""The values that cross the transport seam: one ``Request`` in, one ``Response`` out.

Plain values with no I/O and no aiohttp: the bottom floor that the request loop, the
transports, the errors and the testing tools all share.
"""

from __future__ import annotations

import json as _json
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import define, field, frozen

__all__ = ["Request", "Response", "picklable_headers"]

_NO_JSON: Any = object()


@frozen
class Response:
    """An HTTP answer exactly as it arrived: status, headers and the raw body bytes.

    Reach it through ``APIError.response`` or :func:`telnyx_messaging.capture_responses`;
    a :class:`~telnyx_messaging.MockTransport` handler returns one (see
    :meth:`Request.respond <telnyx_messaging.Request.respond>`).
    """

    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    method: str
    url: str
    attempt: int = 1
    elapsed: float = field(default=0.0, repr=False)

    @property
    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` when it is not JSON)."""
        return _json.loads(self.body)

    def __reduce__(self) -> tuple[Any, ...]:
        # aiohttp hands over read-only header views that do not pickle; responses travel with
        # their errors across process boundaries (task queues, process pools).
        fields = {
            "status": self.status,
            "headers": picklable_headers(self.headers),
            "body": self.body,
            "method": self.method,
            "url": self.url,
            "attempt": self.attempt,
            "elapsed": self.elapsed,
        }
        return (_rebuild_response, (fields,))


def _rebuild_response(fields: dict[str, Any]) -> Response:
    return Response(**fields)


def picklable_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    """Headers as a value that pickles, still case-insensitive (aiohttp's proxies do not pickle)."""
    if isinstance(headers, dict):
        return headers
    from multidict import CIMultiDict  # only pickling pays for it; it arrives with aiohttp

    if isinstance(headers, CIMultiDict):
        return headers
    return CIMultiDict(headers)


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
