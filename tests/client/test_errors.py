"""Error answers become the right exception with everything Telnyx said; bad 2xx answers become
APIResponseValidationError; raw responses stay reachable."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any

import pytest

from telnyx_messaging import (
    APIError,
    APIResponseValidationError,
    APIStatusError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorDetail,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    TelnyxError,
    UnprocessableEntityError,
    capture_responses,
)
from telnyx_messaging.testing import FakeTelnyx, Respond

Call = Callable[[AsyncClient], Awaitable[Any]]

SMS: dict[str, Any] = {"to": "+13125550002", "from_": "+18445550001", "text": "Hello"}
DETAIL = "The 'to' parameter is not a valid phone number."
ERROR = {
    "code": "10015",
    "title": "Invalid parameter",
    "detail": DETAIL,
    "source": {"pointer": "/to"},
    "meta": {"url": "https://developers.telnyx.com/docs/overview/errors/10015"},
}


@pytest.fixture
def once(client: AsyncClient) -> AsyncClient:
    """The client without retries, so a retryable status is what the caller sees."""
    return client.with_options(max_retries=0)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (418, APIStatusError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (451, APIStatusError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (599, InternalServerError),
    ],
)
async def test_status_maps_to_its_class(
    once: AsyncClient, fake: FakeTelnyx, status: int, cls: type[APIStatusError]
) -> None:
    """Each error status raises its own class carrying status, headers, errors and the response."""
    body = json.dumps({"errors": [ERROR]}).encode()
    fake.fail_next(Respond(status, body=body, headers={"x-request-id": "req-42"}))

    with pytest.raises(APIStatusError) as caught:
        await once.messages.send(**SMS)

    exc = caught.value
    assert type(exc) is cls
    assert isinstance(exc, APIError)
    assert isinstance(exc, TelnyxError)
    url = f"{fake.base_url}/messages"
    assert (exc.method, exc.url, exc.status, exc.attempts) == ("POST", url, status, 1)
    assert exc.headers["x-request-id"] == "req-42"
    assert exc.errors == (
        ErrorDetail(
            code="10015",
            title="Invalid parameter",
            detail=DETAIL,
            source={"pointer": "/to"},
            meta={"url": "https://developers.telnyx.com/docs/overview/errors/10015"},
        ),
    )
    assert exc.errors[0].raw == ERROR
    assert exc.codes == ("10015",)
    assert exc.response is not None
    assert exc.response.status == status
    assert exc.response.headers["X-Request-Id"] == "req-42"
    assert exc.response.body == body
    message = str(exc)
    for part in ("POST", url, str(status), DETAIL, "at /to"):
        assert part in message
    assert fake.api_key not in message
    assert fake.api_key not in repr(exc)
    assert len(fake.requests) == 1


async def test_wrong_key_is_authentication_error_without_the_key(fake: FakeTelnyx) -> None:
    """A rejected key raises AuthenticationError whose text never contains the key."""
    secret = "KEY_0123456789abcdef_do_not_leak"
    async with AsyncClient(api_key=secret, base_url=fake.base_url) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.messages.send(**SMS)

    exc = caught.value
    assert exc.codes == ("10009",)
    assert exc.status == 401
    for text in (str(exc), repr(exc), exc.message, *map(str, exc.args)):
        assert secret not in text
    assert exc.response is not None
    assert secret not in exc.response.text


@pytest.mark.parametrize(
    ("call", "cls", "code", "where"),
    [
        pytest.param(
            lambda c: c.messages.retrieve("no-such-message"),
            NotFoundError,
            "10005",
            "could not be found",
            id="unknown-message",
        ),
        pytest.param(
            lambda c: c.messaging_numbers_bulk_updates.retrieve("no-such-order"),
            NotFoundError,
            "10005",
            "bulk update",
            id="unknown-order",
        ),
        pytest.param(
            lambda c: c.phone_numbers.messaging.list(sort_phone_number="sideways"),
            BadRequestError,
            "10015",
            "at sort[phone_number]",
            id="bad-sort",
        ),
    ],
)
async def test_errors_from_the_server(
    client: AsyncClient,
    fake: FakeTelnyx,
    call: Call,
    cls: type[APIStatusError],
    code: str,
    where: str,
) -> None:
    """Errors the fake produces itself come through with Telnyx's code and detail."""
    with pytest.raises(cls) as caught:
        await call(client)

    assert caught.value.codes == (code,)
    assert where in str(caught.value)
    assert len(fake.requests) == 1


async def test_schedule_without_send_at_is_left_to_telnyx(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """schedule() without send_at sends none, and Telnyx's 422 pointing at it comes back."""
    with pytest.raises(UnprocessableEntityError) as caught:
        await client.messages.schedule(to="+13125550002", from_="+18445550001", text="Hi")

    assert "send_at" not in fake.requests[-1].json
    assert caught.value.errors[0].source == {"pointer": "/send_at"}


async def test_cancelling_a_sent_message_is_unprocessable(
    client: AsyncClient, fake: FakeTelnyx
) -> None:
    """Cancelling a message that is not scheduled raises UnprocessableEntityError."""
    msg = await client.messages.send(**SMS)

    with pytest.raises(UnprocessableEntityError) as caught:
        await client.messages.cancel_scheduled(msg.id or "")

    assert caught.value.errors[0].title == "Message not scheduled"
    assert caught.value.method == "DELETE"


async def test_several_errors(once: AsyncClient, fake: FakeTelnyx) -> None:
    """Every entry of errors is kept in order; codes skips entries without a code."""
    errors = [
        {"code": "10004", "title": "Missing required parameter", "source": {"parameter": "to"}},
        {"title": "Something else", "detail": "no code here"},
        {"code": "40300", "detail": "Blocked"},
    ]
    fake.fail_next(Respond(422, json={"errors": errors}))

    with pytest.raises(UnprocessableEntityError) as caught:
        await once.messages.send(**SMS)

    exc = caught.value
    assert [e.title for e in exc.errors] == ["Missing required parameter", "Something else", None]
    assert exc.codes == ("10004", "40300")
    assert "[10004] Missing required parameter at to; Something else - no code here; " in str(exc)
    assert "[40300] Blocked" in str(exc)


@pytest.mark.parametrize(("status", "cls"), [(404, NotFoundError), (503, InternalServerError)])
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"<html><body>502 Bad Gateway</body></html>", "text/html", id="html"),
        pytest.param(b"", "application/json", id="empty"),
        pytest.param(b"upstream connect error", "text/plain", id="plain-text"),
        pytest.param(b'{"errors": [{"code": "1"', "application/json", id="truncated-json"),
        pytest.param(b"[1, 2]", "application/json", id="json-list"),
        pytest.param(b'{"errors": "oops"}', "application/json", id="errors-string"),
        pytest.param(b'{"errors": null}', "application/json", id="errors-null"),
        pytest.param(b'{"errors": [1, "x", null]}', "application/json", id="errors-not-objects"),
        pytest.param(b'{"message": "Internal"}', "application/json", id="no-errors-key"),
        pytest.param(b"\xff\xfe\x00garbage", "application/octet-stream", id="binary"),
    ],
)
async def test_unreadable_error_bodies(
    once: AsyncClient,
    fake: FakeTelnyx,
    status: int,
    cls: type[APIStatusError],
    body: bytes,
    content_type: str,
) -> None:
    """An error body that is not Telnyx's JSON still gives the right class, with no errors."""
    fake.fail_next(Respond(status, body=body, content_type=content_type))

    with pytest.raises(cls) as caught:
        await once.messages.retrieve("m1")

    exc = caught.value
    assert exc.errors == ()
    assert exc.codes == ()
    assert exc.response is not None
    assert exc.response.body == body
    assert str(status) in str(exc)
    if not body:
        assert "no body" in str(exc)


async def test_attempts_count_retries(client: AsyncClient, fake: FakeTelnyx) -> None:
    """After retries the error says how many attempts were made and keeps the last response."""
    fake.fail_next(Respond(503), Respond(502), Respond(500, json={"errors": [ERROR]}))

    with pytest.raises(InternalServerError) as caught:
        await client.messages.send(**SMS)

    exc = caught.value
    assert exc.attempts == 3
    assert exc.status == 500
    assert exc.codes == ("10015",)
    assert "(after 3 attempts)" in str(exc)
    assert len(fake.requests) == 3


@pytest.mark.parametrize(
    ("status", "should_retry", "attempts"),
    [(503, "false", 1), (400, "true", 3), (409, None, 3), (403, None, 1)],
)
async def test_x_should_retry_has_the_last_word(
    client: AsyncClient, fake: FakeTelnyx, status: int, should_retry: str | None, attempts: int
) -> None:
    """x-should-retry overrides the status's own retry policy; .attempts shows what happened."""
    headers = {} if should_retry is None else {"x-should-retry": should_retry}
    fake.fault_hook = lambda _: Respond(status, headers=headers)

    with pytest.raises(APIStatusError) as caught:
        await client.messages.send(**SMS)

    assert caught.value.status == status
    assert caught.value.attempts == attempts
    assert len(fake.requests) == attempts
    assert len({r.idempotency_key for r in fake.requests}) == 1


async def test_final_status_is_not_retried(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A 404 is raised on the first attempt even when retries are allowed."""
    with pytest.raises(NotFoundError) as caught:
        await client.messages.retrieve("missing")

    assert caught.value.attempts == 1
    assert "attempts" not in str(caught.value)
    assert len(fake.requests) == 1


def _in(seconds: float) -> str:
    return formatdate(time.time() + seconds, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param({"retry-after": "7"}, 7.0, id="seconds"),
        pytest.param({"Retry-After": "1.5"}, 1.5, id="fractional-seconds"),
        pytest.param({"retry-after-ms": "2500"}, 2.5, id="milliseconds"),
        pytest.param({"retry-after-ms": "250", "retry-after": "9"}, 0.25, id="ms-wins"),
        pytest.param({"x-ratelimit-reset": "30"}, 30.0, id="ratelimit-reset"),
        pytest.param({"retry-after": "soon"}, None, id="unparseable"),
        pytest.param({"retry-after": "-3"}, None, id="negative"),
        pytest.param({}, None, id="absent"),
    ],
)
async def test_rate_limit_retry_after(
    once: AsyncClient, fake: FakeTelnyx, headers: dict[str, str], expected: float | None
) -> None:
    """RateLimitError.retry_after is the wait the server asked for, in seconds."""
    fake.fail_next(Respond(429, json={"errors": []}, headers=headers))

    with pytest.raises(RateLimitError) as caught:
        await once.messages.send(**SMS)

    assert caught.value.retry_after == expected


async def test_rate_limit_retry_after_http_date(once: AsyncClient, fake: FakeTelnyx) -> None:
    """A Retry-After given as an HTTP date becomes the seconds until then."""
    fake.fail_next(Respond(429, headers={"Retry-After": _in(120)}))

    with pytest.raises(RateLimitError) as caught:
        await once.messages.send(**SMS)

    assert caught.value.retry_after == pytest.approx(120, abs=2)


# --- successful statuses with bodies that are not what the spec promises

BAD_ANSWERS = [
    pytest.param(b"<html>Welcome to nginx</html>", "text/html", id="html"),
    pytest.param(b'{"data": {"id": "m1", "to": [', "application/json", id="truncated-json"),
    pytest.param(b"", "application/json", id="empty"),
    pytest.param(b'{"data": "string"}', "application/json", id="data-string"),
    pytest.param(b'{"data": null}', "application/json", id="data-null"),
    pytest.param(b'{"data": {"to": "not-a-list"}}', "application/json", id="to-not-a-list"),
    pytest.param(b'{"data": {"to": ["+1312"]}}', "application/json", id="to-items-not-objects"),
    pytest.param(b'{"data": [{"id": "m1"}]}', "application/json", id="data-list"),
    pytest.param(b'[{"data": {"id": "m1"}}]', "application/json", id="top-level-list"),
    pytest.param(b'{"id": "m1", "to": []}', "application/json", id="no-envelope"),
    pytest.param(b'{"data": {"received_at": "yesterday"}}', "application/json", id="bad-date"),
    pytest.param(b'{"data": {"received_at": 1700000000}}', "application/json", id="epoch-date"),
    pytest.param(b'{"data": {"cost": {"amount": "cheap"}}}', "application/json", id="bad-amount"),
    pytest.param(b'{"data": {"from": "+18445550001"}}', "application/json", id="from-string"),
    pytest.param(b'{"data": {"parts": "many"}}', "application/json", id="bad-int"),
    pytest.param(b'{"data": {"errors": {"code": "1"}}}', "application/json", id="errors-object"),
]


@pytest.mark.parametrize(("body", "content_type"), BAD_ANSWERS)
async def test_unreadable_success_answer(
    client: AsyncClient, fake: FakeTelnyx, body: bytes, content_type: str
) -> None:
    """A 2xx answer that does not fit the model raises APIResponseValidationError with the body."""
    fake.fail_next(Respond(200, body=body, content_type=content_type))

    with pytest.raises(APIResponseValidationError) as caught:
        await client.messages.retrieve("m1")

    exc = caught.value
    assert not isinstance(exc, (KeyError, TypeError, APIStatusError))
    assert exc.response is not None
    assert exc.response.status == 200
    assert exc.response.body == body
    assert (exc.method, exc.url, exc.attempts) == ("GET", f"{fake.base_url}/messages/m1", 1)
    assert "GET" in str(exc)
    assert ".response.body" in str(exc)
    assert fake.api_key not in str(exc)
    assert len(fake.requests) == 1  # not retried: asking again would get the same answer


@pytest.mark.parametrize(
    ("call", "body"),
    [
        pytest.param(
            lambda c: c.messages.send(**SMS), b'{"data": {"to": {}}}', id="send-to-object"
        ),
        pytest.param(lambda c: c.messages.cancel_scheduled("m1"), b'["m1"]', id="cancel-list"),
        pytest.param(
            lambda c: c.messages.cancel_scheduled("m1"), b'"cancelled"', id="cancel-string"
        ),
        pytest.param(
            lambda c: c.messages.send_whatsapp(
                from_="+18445550001", to="+13125550002", whatsapp_message={"type": "text"}
            ),
            b'{"data": {"body": "hi"}}',
            id="whatsapp-body-string",
        ),
        pytest.param(
            lambda c: c.phone_numbers.messaging.retrieve("1"),
            b'{"data": []}',
            id="settings-list",
        ),
        pytest.param(
            lambda c: c.messaging_numbers_bulk_updates.retrieve("o1"),
            b'{"data": "o1"}',
            id="bulk-string",
        ),
    ],
)
async def test_unreadable_answers_on_other_endpoints(
    client: AsyncClient, fake: FakeTelnyx, call: Call, body: bytes
) -> None:
    """Every endpoint turns an answer that does not fit into APIResponseValidationError."""
    fake.fail_next(Respond(200, body=body))

    with pytest.raises(APIResponseValidationError) as caught:
        await call(client)

    assert caught.value.response is not None
    assert caught.value.response.body == body


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"id": {"nested": "object"}}, id="object-as-id"),
        pytest.param({"text": ["a", "list"]}, id="list-as-text"),
        pytest.param({"tcr_campaign_billable": "no"}, id="string-as-bool"),
        pytest.param({"tags": ["vip", 7]}, id="number-in-string-list"),
    ],
)
async def test_wrong_scalar_types_are_not_coerced(
    client: AsyncClient, fake: FakeTelnyx, data: dict[str, Any]
) -> None:
    """A scalar of the wrong JSON type is a validation error, not silently converted."""
    fake.fail_next(Respond(200, json={"data": data}))

    with pytest.raises(APIResponseValidationError):
        await client.messages.retrieve("m1")


# --- raw responses


async def test_capture_responses_of_successful_calls(client: AsyncClient, fake: FakeTelnyx) -> None:
    """capture_responses() collects the raw answer of every successful call in the block."""
    with capture_responses() as responses:
        sent = await client.messages.send(**SMS)
        got = await client.messages.retrieve(sent.id or "")
    await client.messages.retrieve(sent.id or "")

    assert [(r.method, r.status, r.attempt) for r in responses] == [
        ("POST", 200, 1),
        ("GET", 200, 1),
    ]
    assert responses[0].url == f"{fake.base_url}/messages"
    assert responses[1].url == f"{fake.base_url}/messages/{sent.id}"
    assert responses[0].json()["data"] == sent.raw
    assert json.loads(responses[1].text)["data"] == got.raw
    assert responses[1].headers["content-type"].startswith("application/json")
    assert responses[1].elapsed >= 0


async def test_capture_responses_sees_every_attempt(client: AsyncClient, fake: FakeTelnyx) -> None:
    """A retried call leaves one captured response per attempt, failures included."""
    fake.fail_next(Respond(503, headers={"x-request-id": "first"}))

    with capture_responses() as responses:
        await client.messages.send(**SMS)

    assert [(r.status, r.attempt) for r in responses] == [(503, 1), (200, 2)]
    assert responses[0].headers["x-request-id"] == "first"


async def test_capture_responses_in_error_and_tasks(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Responses of failed calls and of tasks started in the block are captured too."""
    with capture_responses() as responses:
        with pytest.raises(NotFoundError) as caught:
            await client.messages.retrieve("missing")
        await asyncio.gather(client.messages.send(**SMS), client.messages.send(**SMS))

    assert responses[0] is caught.value.response
    assert sorted(r.status for r in responses) == [200, 200, 404]


def test_the_drawn_tree_names_every_exception() -> None:
    """The tree in _errors' docstring and in docs/client.md lists every exception class."""
    # (_errors also exports Attempt, the record of one try, which is no exception.)
    from pathlib import Path

    from telnyx_messaging import _errors, webhooks

    page = (Path(__file__).parents[2] / "docs" / "client.md").read_text(encoding="utf-8")
    drawn = re.compile(r"^\s*(?:[│ ]*[├└]── )?(\w+Error)\b", re.M)
    for text in (_errors.__doc__ or "", page):
        public = [*_errors.__all__, *webhooks.__all__]
        errors = {name for name in public if name.endswith("Error")}
        assert errors <= set(drawn.findall(text))
