"""The transport seam: the client over MockTransport, custom transports, and the Request value."""

from __future__ import annotations

import asyncio
import json
import pickle
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from telnyx_messaging import (
    AiohttpTransport,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncClient,
    AsyncTransport,
    ConfigurationError,
    InvalidArgumentError,
    Message,
    MockTransport,
    Request,
    Response,
    UnprocessableEntityError,
    capture_responses,
)
from telnyx_messaging.testing import FakeTelnyx

EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
#: A message exactly as Telnyx describes one (the payload of a real message.sent webhook).
MESSAGE = json.loads((EXAMPLES / "message.sent.json").read_text())["data"]["payload"]
SEND = {"to": "+13125550002", "from_": "+18445550001", "text": "Hello"}


def _client(handler: Any, **options: Any) -> AsyncClient:
    return AsyncClient(api_key="KEY_test", transport=MockTransport(handler), **options)


async def test_a_send_over_mock_transport() -> None:
    """The handler sees the request the client built, and its answer becomes a Message."""
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return request.respond(200, json={"data": MESSAGE})

    async with _client(handler) as client:
        msg = await client.messages.send(**SEND)

    assert isinstance(msg, Message)
    assert msg.id == MESSAGE["id"]
    (request,) = seen
    assert request.method == "POST"
    assert request.url == "https://api.telnyx.com/v2/messages"
    assert request.headers["authorization"] == "Bearer KEY_test"
    assert request.headers["Content-Type"] == "application/json"
    assert len(request.headers["Idempotency-Key"]) == 36
    assert request.json() == {"to": "+13125550002", "from": "+18445550001", "text": "Hello"}
    assert request.attempt == 1
    assert request.timeout == 60.0
    assert request.connect_timeout == 5.0


async def test_an_async_handler_and_a_query() -> None:
    """A coroutine handler works too; list calls hand over their query pairs."""

    queries: list[Any] = []

    async def handler(request: Request) -> Response:
        await asyncio.sleep(0)
        queries.append(request.query)
        return request.respond(json={"data": [], "meta": {"total_pages": 1}})

    async with _client(handler) as client:
        with capture_responses() as responses:
            page = await client.messaging_optouts.list(page_size=5)

    assert page.data == ()
    assert queries == [[("page[size]", "5"), ("page[number]", "1")]]
    assert responses[0].status == 200
    assert responses[0].headers["Content-Type"] == "application/json"


async def test_error_status_becomes_its_exception() -> None:
    """An error status from the handler raises the same exception as over HTTP."""

    def handler(request: Request) -> Response:
        errors = [{"code": "40310", "title": "Invalid 'to' address"}]
        return request.respond(422, json={"errors": errors})

    async with _client(handler) as client:
        with pytest.raises(UnprocessableEntityError) as caught:
            await client.messages.send(**SEND)

    assert caught.value.codes == ("40310",)
    assert caught.value.attempts == 1


async def test_dropped_connections_are_retried_with_one_key() -> None:
    """A ConnectionError from the handler is a lost answer: retried with the same key."""
    keys: list[str] = []

    def handler(request: Request) -> Response:
        keys.append(request.headers["Idempotency-Key"])
        if request.attempt < 3:
            raise ConnectionResetError("reset by peer")
        return request.respond(json={"data": MESSAGE})

    async with _client(handler) as client:
        msg = await client.messages.send(**SEND)

    assert msg.id == MESSAGE["id"]
    assert len(keys) == 3
    assert len(set(keys)) == 1


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (ConnectionRefusedError("refused"), APIConnectionError),
        (TimeoutError(), APITimeoutError),
        (asyncio.TimeoutError(), APITimeoutError),
    ],
)
async def test_handler_failures_become_connection_errors(
    raised: Exception, expected: type[APIConnectionError]
) -> None:
    """Network failures acted out by the handler surface as our connection errors."""

    def handler(request: Request) -> Response:
        raise raised

    async with _client(handler, max_retries=1) as client:
        with pytest.raises(expected) as caught:
            await client.messages.retrieve("msg-1")

    assert type(caught.value) is expected
    assert caught.value.attempts == 2
    assert caught.value.__cause__ is raised


async def test_handler_must_answer_with_a_response() -> None:
    """A handler that returns something else gets an error saying what to return."""

    def handler(request: Request) -> Any:
        return {"data": MESSAGE}

    async with _client(handler) as client:
        with pytest.raises(InvalidArgumentError, match=r"request\.respond"):
            await client.messages.retrieve("msg-1")


def test_mock_transport_needs_a_function() -> None:
    """MockTransport refuses a handler it cannot call."""
    with pytest.raises(InvalidArgumentError, match="function of the request"):
        MockTransport({"data": {}})  # type: ignore[arg-type]


def test_transport_must_be_an_async_transport() -> None:
    """An object that is not an AsyncTransport is refused when the client is made."""
    with pytest.raises(InvalidArgumentError, match="AsyncTransport"):
        AsyncClient(api_key="KEY_test", transport=object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options",
    [pytest.param({"max_connections": 5}, id="max_connections"), {"session": object()}],
)
def test_transport_excludes_the_default_transports_options(options: dict[str, Any]) -> None:
    """session and max_connections configure aiohttp, so they cannot come with transport=."""
    with pytest.raises(ConfigurationError, match="set them on that transport"):
        _client(lambda r: r.respond(), **options)


def test_a_transport_without_the_method_cannot_be_made() -> None:
    """AsyncTransport is abstract: a subclass must implement handle_async_request."""

    class Incomplete(AsyncTransport):
        pass

    with pytest.raises(TypeError, match="handle_async_request"):
        Incomplete()  # type: ignore[abstract]


class Recording(AsyncTransport):
    """A transport of one's own, wrapping the default one."""

    def __init__(self) -> None:
        self.inner = AiohttpTransport(max_connections=4)
        self.statuses: list[int] = []
        self.closed = 0

    async def handle_async_request(self, request: Request) -> Response:
        response = await self.inner.handle_async_request(request)
        self.statuses.append(response.status)
        return response

    async def aclose(self) -> None:
        self.closed += 1
        await self.inner.aclose()


async def test_a_custom_transport_over_real_http(fake: FakeTelnyx) -> None:
    """A wrapping transport carries real requests; copies share it; close() closes it once."""
    transport = Recording()
    client = AsyncClient(api_key=fake.api_key, base_url=fake.base_url, transport=transport)
    copy = client.with_options(max_retries=0)

    await client.messages.send(**SEND)
    await copy.messages.send(**SEND)
    await copy.close()
    assert transport.closed == 0  # a copy never closes what it borrows
    await client.close()
    await client.close()

    assert transport.statuses == [200, 200]
    assert transport.closed == 1
    assert copy.is_closed
    assert len(fake.messages) == 2


async def test_the_default_transport_closes_nothing_it_borrowed(fake: FakeTelnyx) -> None:
    """AiohttpTransport(session=...) leaves the lender's session open."""
    async with aiohttp.ClientSession() as session:
        transport = AiohttpTransport(session=session)
        async with AsyncClient(
            api_key=fake.api_key, base_url=fake.base_url, transport=transport
        ) as client:
            await client.messages.send(**SEND)
        assert not session.closed


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_default_transport_checks_max_connections(bad: Any) -> None:
    """max_connections must be a whole number >= 1, checked where it is used."""
    with pytest.raises(InvalidArgumentError, match="max_connections must be a whole number >= 1"):
        AiohttpTransport(max_connections=bad)


@pytest.mark.parametrize("bad", ["oops", 3, object()])
def test_client_refuses_a_session_that_is_not_an_aiohttp_session(bad: Any) -> None:
    """A wrong session= is refused when the client is built, not later as an AttributeError."""
    with pytest.raises(InvalidArgumentError, match=r"session must be an aiohttp\.ClientSession"):
        AsyncClient(api_key="KEY_test", session=bad)


def test_request_respond_and_json() -> None:
    """respond() fills in what the request knows; text bodies are encoded; no body is None."""
    request = Request("GET", "https://x.test/v2/messages/1", {}, None, attempt=2)
    assert request.json() is None

    answer = request.respond(503, body="busy", headers={"Retry-After": "1"})
    assert (answer.status, answer.body, answer.attempt) == (503, b"busy", 2)
    assert (answer.method, answer.url) == ("GET", "https://x.test/v2/messages/1")
    assert answer.headers == {"Retry-After": "1"}
    assert "Content-Type" not in answer.headers


def test_request_repr_hides_headers() -> None:
    """A Request's repr leaves out the headers, which hold the API key."""
    request = Request("GET", "https://x.test/v2", {"Authorization": "Bearer KEY_secret"}, None)
    assert "KEY_secret" not in repr(request)


async def test_response_from_aiohttp_pickles(fake: FakeTelnyx) -> None:
    """A Response with aiohttp's read-only headers pickles itself, headers still case-blind."""
    async with AsyncClient(api_key=fake.api_key, base_url=fake.base_url) as client:
        with capture_responses() as responses:
            await client.messages.send(**SEND)

    copy = pickle.loads(pickle.dumps(responses[0]))  # noqa: S301 - our own bytes

    assert copy == responses[0]
    assert copy.headers["content-type"] == responses[0].headers["Content-Type"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Retry-After": "1"}, id="dict"),
        pytest.param(CIMultiDict({"Retry-After": "1"}), id="multidict"),
        pytest.param(CIMultiDictProxy(CIMultiDict({"Retry-After": "1"})), id="read-only-view"),
    ],
)
def test_response_pickles_whatever_its_headers(headers: Any) -> None:
    """Every header mapping a transport may hand over survives pickling, values intact."""
    response = Response(503, headers, b"busy", "GET", "https://x.test/v2", attempt=3, elapsed=0.5)

    copy = pickle.loads(pickle.dumps(response))  # noqa: S301 - our own bytes

    assert copy == response
    assert (copy.attempt, copy.elapsed) == (3, 0.5)
    assert copy.headers["Retry-After"] == "1"


async def test_copies_call_with_their_own_options() -> None:
    """A with_options copy's namespaces use the copy's options, the original keeps its own."""
    statuses = iter([503, 503, 200])

    def handler(request: Request) -> Response:
        return request.respond(next(statuses), json={"data": MESSAGE})

    async with _client(handler) as client:
        once = client.with_options(max_retries=0)
        with pytest.raises(APIStatusError) as caught:
            await once.messages.retrieve("msg-1")
        msg = await client.messages.retrieve("msg-1")

    assert caught.value.attempts == 1
    assert msg.id == MESSAGE["id"]
    assert once.messages is not client.messages


async def test_the_clients_own_call_entry_points() -> None:
    """client._call and client._request, kept for code outside the resources, reach the loop."""

    def handler(request: Request) -> Response:
        assert request.headers["Idempotency-Key"] == "key-1"
        return request.respond(json={"data": MESSAGE})

    async with _client(handler) as client:
        msg = await client._requests.call(
            "POST", "/messages", Message, body={}, idempotency_key="key-1"
        )
        raw = await client._requests.request("POST", "/messages", body={}, idempotency_key="key-1")

    assert msg.id == MESSAGE["id"]
    assert raw.json() == {"data": MESSAGE}
