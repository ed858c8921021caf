"""The server's retry headers, however a transport spells them, as the client's retries see them.

HTTP header names are case-insensitive (RFC 9110 5.1). aiohttp hands over a case-insensitive
mapping, but a ``MockTransport`` handler or a transport of one's own may answer with a plain
dict keyed ``Retry-After``: the client must honour it all the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from telnyx_messaging import (
    APIError,
    APIStatusError,
    AsyncClient,
    AsyncTransport,
    MockTransport,
    RateLimitError,
    Request,
    Response,
    capture_responses,
)

SEND: dict[str, Any] = {"to": "+13125550002", "from_": "+18445550001", "text": "Hello"}
EXAMPLES = Path(__file__).parents[1] / "spec" / "webhook-examples"
#: A message exactly as Telnyx describes one (the payload of a real message.sent webhook).
MESSAGE = {"data": json.loads((EXAMPLES / "message.sent.json").read_text())["data"]["payload"]}


class PlainDictTransport(AsyncTransport):
    """A transport of one's own that answers with plain-dict headers, as a user might write."""

    def __init__(self, *answers: tuple[int, Mapping[str, str]]) -> None:
        self.answers = list(answers)
        self.requests: list[Request] = []

    async def handle_async_request(self, request: Request) -> Response:
        self.requests.append(request)
        status, headers = self.answers.pop(0)
        body = json.dumps(MESSAGE).encode() if status < 300 else b""
        return Response(status, dict(headers), body, request.method, request.url, request.attempt)


def _waits() -> tuple[list[float], Callable[[APIError, float], None]]:
    waits: list[float] = []

    def on_retry(_: APIError, wait: float) -> None:
        waits.append(wait)

    return waits, on_retry


@pytest.mark.parametrize("name", ["Retry-After", "RETRY-AFTER", "retry-after", "rEtRy-AfTeR"])
async def test_a_mock_answer_asks_for_a_wait_in_any_case(name: str) -> None:
    """A MockTransport 429 with ``Retry-After: 7`` (spelt any way) makes the client wait 7 s."""
    answers = [(429, {name: "7"}), (200, {})]

    def handler(request: Request) -> Response:
        status, headers = answers.pop(0)
        return request.respond(status, json=MESSAGE, headers=headers)

    waits, on_retry = _waits()
    async with AsyncClient(
        api_key="KEY_test", transport=MockTransport(handler), on_retry=on_retry
    ) as client:
        await client.messages.send(**SEND)
    assert waits == [7.0]


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        pytest.param({"Retry-After-Ms": "1500"}, 1.5, id="Retry-After-Ms"),
        pytest.param({"Retry-After": "7"}, 7.0, id="Retry-After"),
        pytest.param({"X-RateLimit-Reset": "12"}, 12.0, id="X-RateLimit-Reset"),
    ],
)
async def test_a_custom_transport_answer_asks_for_a_wait_in_any_case(
    headers: dict[str, str], wait: float
) -> None:
    """A transport of one's own answering with a plain dict gets its waits honoured too."""
    transport = PlainDictTransport((503, headers), (200, {}))
    waits, on_retry = _waits()
    async with AsyncClient(api_key="KEY_test", transport=transport, on_retry=on_retry) as client:
        await client.messages.send(**SEND)
    assert waits == [wait]
    assert len(transport.requests) == 2


async def test_a_rate_limit_error_reads_a_capitalised_retry_after() -> None:
    """When the retries run out, RateLimitError.retry_after is the wait the answer named."""
    transport = PlainDictTransport((429, {"Retry-After": "30"}))
    async with AsyncClient(api_key="KEY_test", transport=transport, max_retries=0) as client:
        with pytest.raises(RateLimitError) as info:
            await client.messages.send(**SEND)
    assert info.value.retry_after == 30.0
    assert info.value.headers["retry-after"] == "30"  # the error's headers: any case too


async def test_x_should_retry_false_is_final_in_any_case() -> None:
    """``X-Should-Retry: false`` on a 503 from a plain-dict answer ends the call at once."""
    transport = PlainDictTransport((503, {"X-Should-Retry": "false"}), (200, {}))
    async with AsyncClient(api_key="KEY_test", transport=transport) as client:
        with pytest.raises(APIStatusError) as info:
            await client.messages.send(**SEND)
    assert len(transport.requests) == 1
    assert info.value.retryable is False


async def test_x_should_retry_true_retries_in_any_case() -> None:
    """``X-Should-Retry: true`` on a 400 from a plain-dict answer is retried."""
    transport = PlainDictTransport((400, {"X-Should-Retry": "true"}), (200, {}))
    async with AsyncClient(api_key="KEY_test", transport=transport) as client:
        await client.messages.send(**SEND)
    assert len(transport.requests) == 2


async def test_the_request_id_of_a_plain_dict_answer_is_kept() -> None:
    """``X-Request-Id`` in any case becomes the error's request_id, for support."""
    transport = PlainDictTransport((422, {"X-Request-Id": "req-42"}))
    async with AsyncClient(api_key="KEY_test", transport=transport) as client:
        with pytest.raises(APIStatusError) as info:
            await client.messages.send(**SEND)
    assert info.value.request_id == "req-42"


async def test_captured_mock_answers_have_case_insensitive_headers() -> None:
    """capture_responses() hands back a MockTransport answer whose headers ignore case."""

    def handler(request: Request) -> Response:
        return request.respond(200, json=MESSAGE, headers={"X-Request-Id": "req-7"})

    async with AsyncClient(api_key="KEY_test", transport=MockTransport(handler)) as client:
        with capture_responses() as responses:
            await client.messages.send(**SEND)
    assert responses[-1].headers["x-request-id"] == "req-7"
    assert responses[-1].headers["content-type"] == "application/json"
