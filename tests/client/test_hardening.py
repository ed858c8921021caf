"""Defences found in review: redirects, foreign event loops, unsendable input, odd answers."""

from __future__ import annotations

import asyncio
import math
import pickle
from decimal import Decimal

import pytest

from telnyx_messaging import (
    Address,
    APIResponseValidationError,
    APIStatusError,
    AsyncClient,
    ConfigurationError,
    ErrorDetail,
    InvalidArgumentError,
    RateLimitError,
    WhatsAppMessage,
)
from telnyx_messaging.testing import FakeTelnyx, Respond

SEND = {"to": "+13125550002", "from_": "+18445550001", "text": "hi"}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_not_followed(
    client: AsyncClient, fake: FakeTelnyx, status: int
) -> None:
    """A 30x answer is an error, never a silent GET of another message."""
    old = await client.messages.send(**SEND)
    fake.fail_next(Respond(status, headers={"Location": f"/v2/messages/{old.id}"}))

    with pytest.raises(APIStatusError) as caught:
        await client.messages.send(**SEND)

    assert caught.value.status == status
    assert [r.method for r in fake.requests] == ["POST", "POST"]


def test_a_client_is_bound_to_the_loop_that_used_it(fake_url_and_key: tuple[str, str]) -> None:
    """Reusing a client in a second asyncio.run() is a clear error, raised before sending."""
    base_url, key = fake_url_and_key
    client = AsyncClient(api_key=key, base_url=base_url, max_retries=0)

    async def first() -> None:
        with pytest.raises(Exception):  # noqa: B017, PT011 - nothing listens; only the loop matters
            await client.messages.retrieve("x")

    async def second() -> None:
        with pytest.raises(ConfigurationError, match="another event loop"):
            await client.messages.retrieve("x")

    first_loop = asyncio.new_event_loop()
    try:
        first_loop.run_until_complete(first())
        asyncio.run(second())
        first_loop.run_until_complete(client.close())  # the pool is closed where it lives
    finally:
        first_loop.close()


@pytest.fixture
def fake_url_and_key() -> tuple[str, str]:
    return "http://127.0.0.1:9/v2", "KEY_loop"


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("abc\r\nX-Injected: 1", id="header-injection"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("clé", id="non-ascii"),
        pytest.param("x" * 256, id="too-long"),
        pytest.param("", id="empty"),
    ],
)
async def test_idempotency_keys_must_be_header_safe(
    client: AsyncClient, fake: FakeTelnyx, key: str
) -> None:
    """An idempotency key that cannot travel as a header is refused before sending."""
    with pytest.raises(InvalidArgumentError, match="idempotency_key"):
        await client.messages.send(**SEND, idempotency_key=key)
    assert fake.requests == []


@pytest.mark.parametrize(
    "content",
    [
        {"type": "text", "text": {"body": Decimal("1")}},
        {"type": "text", "x": math.nan},
        {"type": "text", "x": math.inf},
    ],
)
async def test_bodies_json_cannot_hold_are_refused(
    client: AsyncClient, fake: FakeTelnyx, content: dict[str, object]
) -> None:
    """Values JSON cannot represent (Decimal, NaN, infinity) are refused, never sent."""
    with pytest.raises(InvalidArgumentError, match="JSON"):
        await client.messages.send_whatsapp(from_="+1", to="+2", whatsapp_message=content)
    assert fake.requests == []


async def test_lone_surrogates_in_text_are_refused(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Text that cannot be encoded as UTF-8 is an InvalidArgumentError, not a UnicodeError."""
    with pytest.raises(InvalidArgumentError):
        await client.messages.send(to="+13125550002", from_="+18445550001", text="\ud800")
    assert fake.requests == []


@pytest.mark.parametrize("status", [200, 500])
async def test_deeply_nested_answers_do_not_escape_as_recursion_errors(
    client: AsyncClient, fake: FakeTelnyx, status: int
) -> None:
    """An absurdly nested body gives our errors, not a bare RecursionError."""
    deep = b"[" * 100_000 + b"]" * 100_000
    fake.fail_next(Respond(status, body=deep))
    expected = APIResponseValidationError if status == 200 else APIStatusError
    with pytest.raises(expected):
        await client.with_options(max_retries=0).messages.retrieve("x")


@pytest.mark.parametrize(
    "url", ["api.telnyx.com/v2", "ftp://x/v2", "http://[::1/v2", "https:///v2"]
)
def test_base_url_must_be_http_with_a_host(url: str) -> None:
    """A base_url that is not an http(s) URL with a host is a configuration error."""
    with pytest.raises(ConfigurationError, match="base_url"):
        AsyncClient(api_key="KEY_x", base_url=url)


def test_internal_state_repr_hides_the_key() -> None:
    """Debuggers that show attributes do not show the API key."""
    client = AsyncClient(api_key="KEY_SECRET_123")
    assert "KEY_SECRET_123" not in repr(client)
    assert "KEY_SECRET_123" not in repr(vars(client))


async def test_api_errors_survive_pickling(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Errors cross process boundaries (task queues, process pools) intact."""
    fake.fail_next(
        Respond(
            429,
            json={"errors": [{"code": "10011", "title": "Too many"}]},
            headers={"Retry-After": "120"},
        )
    )
    with pytest.raises(RateLimitError) as caught:
        await client.messages.send(**SEND)

    copy = pickle.loads(pickle.dumps(caught.value))  # noqa: S301 - our own object

    assert type(copy) is RateLimitError
    assert str(copy) == str(caught.value)
    assert copy.retry_after == 120
    assert copy.status == 429
    assert copy.codes == ("10011",)
    assert copy.headers["retry-after"] == "120"
    assert copy.response is not None
    assert copy.response.body == caught.value.response.body  # type: ignore[union-attr]


def test_models_with_json_objects_are_hashable() -> None:
    """Models holding JSON objects can still be hashed (e.g. put in a set)."""
    detail = ErrorDetail(code="1", source={"pointer": "/to"})
    message = WhatsAppMessage(
        id="m", from_=Address(phone_number="+1"), to=(), body={"type": "text"}
    )
    assert len({detail, detail, message}) == 2


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param(("abc",), id="text"),
        pytest.param((b"abc",), id="short"),
        pytest.param((b"k" * 33,), id="long"),
        pytest.param((), id="none"),
    ],
)
def test_public_keys_hold_only_32_byte_keys(keys: tuple[object, ...]) -> None:
    """A PublicKeys built by hand is checked, so libsodium never reads past a short key."""
    from telnyx_messaging import WebhookVerificationError
    from telnyx_messaging.webhooks import PublicKeys

    with pytest.raises(WebhookVerificationError, match=r"32|key"):
        PublicKeys(keys)  # type: ignore[arg-type]
