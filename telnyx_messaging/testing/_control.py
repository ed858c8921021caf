"""The fake's control API: `FakeTelnyx`'s own test methods over HTTP, for other processes.

It lives under ``/_fake/``, a prefix the real API never uses (Telnyx serves ``/v2/...``), and
takes the same ``Authorization: Bearer <api key>`` as the API. Control requests are not API
traffic: they are not recorded in `FakeTelnyx.requests`, not faulted and not rate-limited.

Each route calls one public method of the fake, so a test in another process
(`FakeTelnyxControl`) sees exactly what a test beside the fake sees. The wire forms of
`DeliveryAttempt` and `RecordedRequest` are defined here and read back by ``_control_client``.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from telnyx_messaging._errors import InvalidArgumentError
from telnyx_messaging.testing._delivery import DeliveryAttempt
from telnyx_messaging.testing._wire import (
    FakeAnswer,
    FakeApiError,
    RecordedRequest,
    iso,
    json_answer,
    not_found,
)

if TYPE_CHECKING:  # the fake hands itself in; nothing here constructs one
    from telnyx_messaging.testing._server import FakeTelnyx

__all__ = ["CONTROL_PREFIX", "attempt_to_json", "handle_control", "request_to_json"]

#: Where the control API lives: outside ``/v2``, where Telnyx has nothing.
CONTROL_PREFIX = "/_fake/"


def attempt_to_json(attempt: DeliveryAttempt) -> dict[str, Any]:
    """A webhook attempt as the control API serves it (the body is the fake's own JSON text)."""
    return {
        "event_type": attempt.event_type,
        "event_id": attempt.event_id,
        "message_id": attempt.message_id,
        "url": attempt.url,
        "attempt": attempt.attempt,
        "status": attempt.status,
        "error": attempt.error,
        "body": attempt.body.decode(),
        "headers": dict(attempt.headers),
        "at": attempt.at.isoformat(),  # to the microsecond: reads back equal
    }


def request_to_json(request: RecordedRequest) -> dict[str, Any]:
    """A recorded API request; the body in base64 because a client may send any bytes."""
    return {
        "method": request.method,
        "path": request.path,
        "query": [list(pair) for pair in request.query],
        "headers": [list(pair) for pair in request.headers.items()],
        "body_base64": base64.b64encode(request.body).decode(),
        "json": request.json,
        "idempotency_key": request.idempotency_key,
    }


def _refused(detail: str) -> FakeApiError:
    return FakeApiError(422, "10015", "Bad Request", detail)


def _body(request: RecordedRequest) -> Mapping[str, Any]:
    if request.body and not isinstance(request.json, dict):
        raise FakeApiError(400, "10015", "Bad Request", "The request body must be a JSON object.")
    return request.json or {}


def _field(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _refused(f"'{name}' is required here, as a {_kind_name(kind)}; got {value!r}.")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        {str: "string", list: "list", int: "number", float: "number"}[k] for k in kinds
    )


def _data(payload: Any) -> FakeAnswer:
    return json_answer(200, {"data": payload})


async def _messages(fake: FakeTelnyx, _: RecordedRequest, ident: str) -> FakeAnswer:
    if not ident:
        return _data(list(fake.messages.values()))
    message = fake.messages.get(ident)
    if message is None:
        raise not_found("message")
    return _data(message)


async def _receive(fake: FakeTelnyx, request: RecordedRequest, _: str) -> FakeAnswer:
    body = _body(request)
    media_urls = body.get("media_urls") or []
    if not isinstance(media_urls, list) or not all(isinstance(u, str) for u in media_urls):
        raise _refused(f"'media_urls' must be a list of URLs; got {media_urls!r}.")
    message = fake.receive(
        from_=_field(body, "from", str),
        to=_field(body, "to", str),
        text=body.get("text"),
        media_urls=media_urls,
        subject=body.get("subject"),
    )
    return _data(message)


async def _click_link(fake: FakeTelnyx, request: RecordedRequest, _: str) -> FakeAnswer:
    body = _body(request)
    return _data(fake.click_link(_field(body, "message_id", str), _field(body, "url", str)))


async def _fail_delivery(fake: FakeTelnyx, request: RecordedRequest, _: str) -> FakeAnswer:
    body = _body(request)
    numbers = _field(body, "numbers", list)
    if not all(isinstance(number, str) for number in numbers):
        raise _refused(f"'numbers' must be a list of phone numbers; got {numbers!r}.")
    fake.fail_delivery(*numbers, status=body.get("status", "delivery_failed"))
    return _data({"failing_numbers": fake.failing_numbers})


async def _advance(fake: FakeTelnyx, request: RecordedRequest, _: str) -> FakeAnswer:
    seconds = _field(_body(request), "seconds", (int, float))
    if seconds < 0:
        raise _refused(f"'seconds' must be 0 or more: the clock only moves forward; got {seconds}.")
    fake.advance(seconds)
    return _data({"now": iso(fake.now())})


async def _settled(fake: FakeTelnyx, request: RecordedRequest, _: str) -> FakeAnswer:
    body = _body(request)
    timeout = None if body.get("timeout") is None else _field(body, "timeout", (int, float))
    try:
        await fake.deliveries_settled(timeout)
    except TimeoutError as exc:
        raise FakeApiError(504, "10011", "Gateway timeout", str(exc)) from None
    return _data({"now": iso(fake.now())})


async def _deliveries(fake: FakeTelnyx, _: RecordedRequest, __: str) -> FakeAnswer:
    return _data([attempt_to_json(attempt) for attempt in fake.deliveries])


async def _requests(fake: FakeTelnyx, _: RecordedRequest, __: str) -> FakeAnswer:
    return _data([request_to_json(request) for request in fake.requests])


async def _reset(fake: FakeTelnyx, _: RecordedRequest, __: str) -> FakeAnswer:
    await fake.reset()
    return _data({"now": iso(fake.now())})


async def _info(fake: FakeTelnyx, _: RecordedRequest, __: str) -> FakeAnswer:
    return _data(
        {
            "public_key": fake.public_key,
            "default_profile_id": fake.default_profile_id,
            "now": iso(fake.now()),
            "failing_numbers": fake.failing_numbers,
        }
    )


_Route = Callable[["FakeTelnyx", RecordedRequest, str], Awaitable[FakeAnswer]]

#: (method, first path segment) -> route; ``messages`` alone takes an id after it.
_ROUTES: Mapping[tuple[str, str], _Route] = {
    ("GET", "info"): _info,
    ("GET", "messages"): _messages,
    ("GET", "deliveries"): _deliveries,
    ("GET", "requests"): _requests,
    ("POST", "receive"): _receive,
    ("POST", "click_link"): _click_link,
    ("POST", "fail_delivery"): _fail_delivery,
    ("POST", "advance"): _advance,
    ("POST", "deliveries_settled"): _settled,
    ("POST", "reset"): _reset,
}


async def handle_control(fake: FakeTelnyx, request: RecordedRequest) -> FakeAnswer:
    """Answer one ``/_fake/...`` request, in Telnyx's JSON error shape when refused."""
    try:
        if request.headers.get("Authorization") != f"Bearer {fake.api_key}":
            raise FakeApiError(
                401,
                "10009",
                "Authentication failed",
                "The control API takes the fake's own API key: "
                "'Authorization: Bearer <the key fake-server printed>'.",
            )
        name, _, ident = request.path.removeprefix(CONTROL_PREFIX).partition("/")
        route = _ROUTES.get((request.method, name))
        if route is None or (ident and name != "messages"):
            allowed = sorted(method for method, known in _ROUTES if known == name)
            if allowed and not ident:
                raise FakeApiError(
                    405,
                    "10015",
                    "Method not allowed",
                    f"{request.method} is not allowed here; use {', '.join(allowed)}.",
                )
            raise not_found("control URL (see docs/testing.md, 'The control API')")
        return await route(fake, request, ident)
    except FakeApiError as error:
        return error.answer
    except InvalidArgumentError as exc:
        # The fake's own argument checks, e.g. receive() with a malformed number.
        return _refused(str(exc)).answer
