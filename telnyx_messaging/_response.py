"""``Response``: an HTTP answer exactly as it arrived. A plain value: no I/O, no aiohttp."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

__all__ = ["Response", "picklable_headers"]


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
        return json.loads(self.body)

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
