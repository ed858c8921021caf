"""What every resource is: a family of endpoints over one request loop.

A resource holds the client's :class:`RequestLoop`, not the client, and binds the loop's
``call`` once when it is made (openai-python's ``_resource.py`` binds ``client.post`` the same
way): a send then costs one slot look-up to reach the loop, not three attribute reads
(``self._client._requests.call``), and the resources sit below the client that builds them.
"""

from __future__ import annotations

from telnyx_messaging._http.loop import RequestLoop

__all__ = ["Resource"]


class Resource:
    """Endpoints that send through ``requests``; subclasses add the methods users call."""

    __slots__ = ("_call", "_call_with", "_requests")

    def __init__(self, requests: RequestLoop) -> None:
        self._requests = requests
        self._call = requests.call
        self._call_with = requests.call_with
