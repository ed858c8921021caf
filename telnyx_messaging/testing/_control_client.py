"""Clients of the fake's control API, so a test in another process reads like one beside it.

`FakeTelnyxControl` (blocking, standard library only) and `AsyncFakeTelnyxControl` (aiohttp)
share everything but the HTTP call: `_Calls` builds each request and reads each answer back
into the values `FakeTelnyx` itself returns (dicts, `DeliveryAttempt`, `RecordedRequest`).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from telnyx_messaging._errors import InvalidArgumentError
from telnyx_messaging.testing._control import CONTROL_PREFIX
from telnyx_messaging.testing._delivery import DeliveryAttempt
from telnyx_messaging.testing._wire import RecordedRequest, parse_datetime

__all__ = ["AsyncFakeTelnyxControl", "FakeTelnyxControl"]

DEFAULT_BASE_URL = "http://127.0.0.1:8765/v2"
DEFAULT_API_KEY = "KEY_fake_test_key"


class _Call(NamedTuple):
    method: str
    path: str  # below the control prefix, e.g. "messages"
    body: dict[str, Any] | None = None


def _control_root(base_url: str) -> str:
    """``http://host:port/v2`` (what API clients are given) -> ``http://host:port/_fake/``."""
    root = base_url.rstrip("/").removesuffix("/v2")
    if not root.startswith(("http://", "https://")):
        raise InvalidArgumentError(
            f"base_url must be the fake-server's URL, like {DEFAULT_BASE_URL!r}; got {base_url!r}"
        )
    return root + CONTROL_PREFIX


def _read(call: _Call, status: int, body: bytes) -> Any:
    """The answer's ``data`` (None for a message the fake does not have), or the exception
    that says what went wrong."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if 200 <= status < 300 and isinstance(parsed, dict):
        return parsed["data"]
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    error = errors[0] if isinstance(errors, list) and errors else {}
    detail = error.get("detail") or body[:200].decode(errors="replace")
    if status == 404 and call.path.startswith("messages/"):
        return None
    if status == 504:
        raise TimeoutError(detail)
    raise InvalidArgumentError(
        f"fake-server refused {call.method} {CONTROL_PREFIX}{call.path} "
        f"({status} {error.get('title', '')}): {detail}"
    )


def _attempt(item: dict[str, Any]) -> DeliveryAttempt:
    return DeliveryAttempt(
        event_type=item["event_type"],
        event_id=item["event_id"],
        message_id=item["message_id"],
        url=item["url"],
        attempt=item["attempt"],
        status=item["status"],
        error=item["error"],
        body=item["body"].encode(),
        headers=item["headers"],
        at=_moment(item["at"]),
    )


def _recorded(item: dict[str, Any]) -> RecordedRequest:
    return RecordedRequest(
        method=item["method"],
        path=item["path"],
        query=tuple((name, value) for name, value in item["query"]),
        headers=CIMultiDictProxy(CIMultiDict([(name, value) for name, value in item["headers"]])),
        body=base64.b64decode(item["body_base64"]),
        json=item["json"],
        idempotency_key=item["idempotency_key"],
    )


def _moment(text: str) -> datetime:
    moment = parse_datetime(text)
    assert moment is not None, text  # the fake writes these with iso()
    return moment


def _message_call(message_id: str) -> _Call:
    if not isinstance(message_id, str) or not message_id or "/" in message_id:
        raise InvalidArgumentError(f"message_id must be a message's id; got {message_id!r}")
    return _Call("GET", f"messages/{message_id}")


def _receive_call(
    from_: str, to: str, text: str | None, media_urls: Sequence[str], subject: str | None
) -> _Call:
    body = {"from": from_, "to": to, "text": text, "media_urls": list(media_urls)}
    return _Call("POST", "receive", {**body, "subject": subject})


def _messages(data: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {message["id"]: message for message in data}


class FakeTelnyxControl:
    """Drive a `FakeTelnyx` in another process (``telnyx-messaging fake-server``), blocking.

    ::

        fake = FakeTelnyxControl("http://127.0.0.1:8765/v2", api_key="KEY_fake_test_key")
        fake.fail_delivery("+13125550099")
        ...  # run the app or the campaign under test against the fake-server
        fake.deliveries_settled(timeout=30)
        assert len(fake.messages()) == 2000  # each message created once

    The methods are `FakeTelnyx`'s, over the fake's control API (docs/testing.md, "The
    control API"); what `FakeTelnyx` has as attributes (`messages`, `deliveries`, `requests`)
    are calls here, as each one asks the server. Uses only the standard library, so it works
    from any test, threaded or not. A refused call raises `InvalidArgumentError` saying why.

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str = DEFAULT_API_KEY,
        timeout: float = 60.0,
    ) -> None:
        self._root = _control_root(base_url)
        self._api_key = api_key
        self._timeout = timeout

    def __repr__(self) -> str:  # never the key
        return f"FakeTelnyxControl({self._root!r})"

    def _call(self, call: _Call, *, timeout: float | None = None) -> Any:
        data = None if call.body is None else json.dumps(call.body).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL's scheme is checked above
            self._root + call.path,
            data=data,
            method=call.method,
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "Content-Type": "application/json",
            },
        )
        # _read outside the try: the TimeoutError it may raise is an OSError too.
        try:
            with urllib.request.urlopen(request, timeout=timeout or self._timeout) as answer:  # noqa: S310
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as refused:
            status, body = refused.code, refused.read()
        except OSError as exc:
            raise ConnectionError(
                f"no fake-server answering at {self._root}: {exc}; "
                "is `telnyx-messaging fake-server` running there?"
            ) from exc
        return _read(call, status, body)

    def messages(self) -> dict[str, dict[str, Any]]:
        """Every message created or received, by id, as ``GET /messages/{id}`` answers it."""
        return _messages(self._call(_Call("GET", "messages")))

    def message(self, message_id: str) -> dict[str, Any] | None:
        """One message as stored, or None if the fake has no such message."""
        found: dict[str, Any] | None = self._call(_message_call(message_id))
        return found

    def receive(
        self,
        *,
        from_: str,
        to: str,
        text: str | None = None,
        media_urls: Sequence[str] = (),
        subject: str | None = None,
    ) -> dict[str, Any]:
        """``from_`` texts ``to``: deliver ``message.received`` (`FakeTelnyx.receive`)."""
        return self._call(_receive_call(from_, to, text, media_urls, subject))  # type: ignore[no-any-return]

    def click_link(self, message_id: str, url: str) -> dict[str, Any]:
        """The recipient clicks ``url`` in a sent message (`FakeTelnyx.click_link`)."""
        return self._call(_Call("POST", "click_link", {"message_id": message_id, "url": url}))  # type: ignore[no-any-return]

    def fail_delivery(self, *numbers: str, status: str = "delivery_failed") -> None:
        """Make messages to ``numbers`` fail (`FakeTelnyx.fail_delivery`)."""
        self._call(_Call("POST", "fail_delivery", {"numbers": list(numbers), "status": status}))

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (`FakeTelnyx.advance`)."""
        self._call(_Call("POST", "advance", {"seconds": seconds}))

    def now(self) -> datetime:
        """The fake's time (`FakeTelnyx.now`)."""
        return _moment(self._call(_Call("GET", "info"))["now"])

    def public_key(self) -> str:
        """The key that verifies the fake's webhooks (`FakeTelnyx.public_key`)."""
        return str(self._call(_Call("GET", "info"))["public_key"])

    def deliveries(self) -> list[DeliveryAttempt]:
        """Every webhook attempt so far, in order (`FakeTelnyx.deliveries`)."""
        return [_attempt(item) for item in self._call(_Call("GET", "deliveries"))]

    def requests(self) -> list[RecordedRequest]:
        """Every API request so far, in order; control calls are not among them."""
        return [_recorded(item) for item in self._call(_Call("GET", "requests"))]

    def deliveries_settled(self, timeout: float | None = None) -> None:
        """Wait until the work due by the fake's time is done (`FakeTelnyx.deliveries_settled`)."""
        wait = None if timeout is None else timeout + self._timeout
        self._call(_Call("POST", "deliveries_settled", {"timeout": timeout}), timeout=wait)

    def reset(self) -> None:
        """Start the fake over, as if just started (`FakeTelnyx.reset`)."""
        self._call(_Call("POST", "reset"))


class AsyncFakeTelnyxControl:
    """`FakeTelnyxControl` for async tests: the same methods, awaited.

    ::

        async with AsyncFakeTelnyxControl("http://127.0.0.1:8765/v2") as fake:
            await fake.receive(from_="+13125550002", to="+18445550001", text="STOP")
            await fake.deliveries_settled(timeout=10)

    .. versionadded:: 0.2.0
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str = DEFAULT_API_KEY,
        timeout: float = 60.0,
    ) -> None:
        self._root = _control_root(base_url)
        self._api_key = api_key
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:  # never the key
        return f"AsyncFakeTelnyxControl({self._root!r})"

    async def __aenter__(self) -> AsyncFakeTelnyxControl:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool; safe to call twice."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _call(self, call: _Call, *, timeout: float | None = None) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self._api_key}"}
            )
        try:
            async with self._session.request(
                call.method,
                self._root + call.path,
                json=call.body,
                timeout=aiohttp.ClientTimeout(total=timeout or self._timeout),
            ) as answer:
                status, body = answer.status, await answer.read()
        except (aiohttp.ClientConnectionError, OSError) as exc:
            raise ConnectionError(
                f"no fake-server answering at {self._root}: {exc}; "
                "is `telnyx-messaging fake-server` running there?"
            ) from exc
        return _read(call, status, body)

    async def messages(self) -> dict[str, dict[str, Any]]:
        """Every message created or received, by id."""
        return _messages(await self._call(_Call("GET", "messages")))

    async def message(self, message_id: str) -> dict[str, Any] | None:
        """One message as stored, or None if the fake has no such message."""
        found: dict[str, Any] | None = await self._call(_message_call(message_id))
        return found

    async def receive(
        self,
        *,
        from_: str,
        to: str,
        text: str | None = None,
        media_urls: Sequence[str] = (),
        subject: str | None = None,
    ) -> dict[str, Any]:
        """Someone at ``from_`` texts ``to``: deliver ``message.received``."""
        return await self._call(_receive_call(from_, to, text, media_urls, subject))  # type: ignore[no-any-return]

    async def click_link(self, message_id: str, url: str) -> dict[str, Any]:
        """The recipient clicks ``url`` in a sent message."""
        return await self._call(_Call("POST", "click_link", {"message_id": message_id, "url": url}))  # type: ignore[no-any-return]

    async def fail_delivery(self, *numbers: str, status: str = "delivery_failed") -> None:
        """Make messages to ``numbers`` fail."""
        await self._call(
            _Call("POST", "fail_delivery", {"numbers": list(numbers), "status": status})
        )

    async def advance(self, seconds: float) -> None:
        """Move the fake's clock forward."""
        await self._call(_Call("POST", "advance", {"seconds": seconds}))

    async def now(self) -> datetime:
        """The fake's time."""
        return _moment((await self._call(_Call("GET", "info")))["now"])

    async def public_key(self) -> str:
        """The key that verifies the fake's webhooks."""
        return str((await self._call(_Call("GET", "info")))["public_key"])

    async def deliveries(self) -> list[DeliveryAttempt]:
        """Every webhook attempt so far, in order."""
        return [_attempt(item) for item in await self._call(_Call("GET", "deliveries"))]

    async def requests(self) -> list[RecordedRequest]:
        """Every API request so far, in order; control calls are not among them."""
        return [_recorded(item) for item in await self._call(_Call("GET", "requests"))]

    async def deliveries_settled(self, timeout: float | None = None) -> None:
        """Wait until the work due by the fake's time is done."""
        wait = None if timeout is None else timeout + self._timeout
        await self._call(_Call("POST", "deliveries_settled", {"timeout": timeout}), timeout=wait)

    async def reset(self) -> None:
        """Start the fake over, as if just started."""
        await self._call(_Call("POST", "reset"))
