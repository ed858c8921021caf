"""The transport seam: one ``Request`` value in, one ``Response`` value out.

Like httpx's ``AsyncBaseTransport.handle_async_request`` and gidgethub's one abstract
``_request``: everything above a transport (arguments, headers, the time budget, retries,
parsing) is the same whichever transport carries the bytes. :class:`AiohttpTransport` is the
default; :class:`MockTransport` answers in-process, for tests.
"""

from __future__ import annotations

import abc

from attrs import evolve
from multidict import CIMultiDict, CIMultiDictProxy

from telnyx_messaging._wire import Request, Response

__all__ = ["AsyncTransport", "case_insensitive_answer"]

_CASE_INSENSITIVE = (CIMultiDict, CIMultiDictProxy)


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
        ``method=request.method, url=request.url, attempts=request.attempt``. The answer's
        headers may be any mapping: the client looks them up in any case.
        """

    @property
    def pool_size(self) -> int | None:
        """How many requests it can have in flight at once, when it limits them (else None).

        ``send_many`` refuses a ``concurrency`` above it: those sends would only queue for a
        connection with their timeout running.
        """
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional to override, so not abstract
        """Release what the transport holds (connections, sessions); nothing by default."""


def case_insensitive_answer(response: Response) -> Response:
    """``response`` with headers that answer to any case, as aiohttp's do (RFC 9110 5.1).

    A MockTransport handler or a transport of one's own may answer with a plain dict keyed
    ``Retry-After``; the retry policy and the errors look headers up in lower case.
    """
    if isinstance(response.headers, _CASE_INSENSITIVE):
        return response
    return evolve(response, headers=CIMultiDict(response.headers))
