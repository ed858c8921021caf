"""The client's options and lifecycle: keys, URLs, timeouts, pooling, closing, copies."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp
import pytest

from telnyx_messaging import (
    AiohttpTransport,
    AsyncClient,
    ConfigurationError,
    InvalidArgumentError,
    Message,
    Timeout,
    capture_responses,
)
from telnyx_messaging.testing import FakeTelnyx

SECRET = "KEY_0123456789SECRET"


def test_missing_api_key_names_the_variable() -> None:
    """No key given and none in the environment is a clear error naming TELNYX_API_KEY."""
    with pytest.raises(ConfigurationError, match="TELNYX_API_KEY"):
        AsyncClient()


def test_api_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """TELNYX_API_KEY and TELNYX_BASE_URL are used when no arguments are given."""
    monkeypatch.setenv("TELNYX_API_KEY", SECRET)
    monkeypatch.setenv("TELNYX_BASE_URL", "http://127.0.0.1:9/v2/")
    client = AsyncClient()
    assert client.base_url == "http://127.0.0.1:9/v2"


def test_default_base_url_is_telnyx_v2() -> None:
    """Without TELNYX_BASE_URL the client talks to https://api.telnyx.com/v2."""
    assert AsyncClient(api_key=SECRET).base_url == "https://api.telnyx.com/v2"


@pytest.mark.parametrize("key", [f"{SECRET}\n", f" {SECRET}", "a\r\nb"])
def test_api_key_with_stray_whitespace_is_refused_without_echoing_it(key: str) -> None:
    """A key read from a file with a trailing newline is refused, and the error hides the key."""
    with pytest.raises(ConfigurationError) as caught:
        AsyncClient(api_key=key)
    assert SECRET not in str(caught.value)
    assert "line breaks" in str(caught.value)


async def test_repr_never_shows_the_key(fake: FakeTelnyx) -> None:
    """repr(client) names the URL and options but never the API key."""
    async with AsyncClient(api_key=SECRET, base_url=fake.base_url) as client:
        text = repr(client)
    assert SECRET not in text
    assert fake.base_url in text
    assert "closed" in repr(client)


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        (5, Timeout(total=5.0)),
        (2.5, Timeout(total=2.5)),
        (None, Timeout(total=None, connect=None)),
        (
            Timeout(total=1, connect=1, per_attempt=0.5),
            Timeout(total=1, connect=1, per_attempt=0.5),
        ),
    ],
)
def test_timeout_accepts_seconds_none_or_timeout(
    timeout: float | Timeout | None, expected: Timeout
) -> None:
    """timeout= takes seconds for the whole call, None for no limit, or a Timeout."""
    assert AsyncClient(api_key=SECRET, timeout=timeout).timeout == expected


def test_default_timeout_is_60s_total_5s_connect() -> None:
    """Calls default to a 60 s budget and a 5 s connect timeout."""
    timeout = AsyncClient(api_key=SECRET).timeout
    assert (timeout.total, timeout.connect, timeout.per_attempt) == (60.0, 5.0, None)


@pytest.mark.parametrize("bad", [0, -1, "5", True])
def test_bad_timeouts_are_refused(bad: object) -> None:
    """A non-positive or non-numeric timeout is an InvalidArgumentError saying what to pass."""
    with pytest.raises(InvalidArgumentError, match=r"timeout|Timeout"):
        AsyncClient(api_key=SECRET, timeout=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["total", "connect", "per_attempt"])
def test_timeout_fields_must_be_positive(field: str) -> None:
    """Each Timeout field takes positive seconds or None."""
    with pytest.raises(InvalidArgumentError, match=f"Timeout.{field}"):
        Timeout(**{field: -1})  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
def test_bad_max_retries_are_refused(bad: object) -> None:
    """max_retries must be a whole number >= 0."""
    with pytest.raises(InvalidArgumentError, match="max_retries"):
        AsyncClient(api_key=SECRET, max_retries=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -5, 2.0, True])
def test_bad_max_connections_are_refused(bad: object) -> None:
    """max_connections must be a whole number >= 1."""
    with pytest.raises(InvalidArgumentError, match="max_connections"):
        AsyncClient(api_key=SECRET, max_connections=bad)  # type: ignore[arg-type]


def test_client_can_be_built_outside_an_event_loop() -> None:
    """Construction opens nothing, so a client can be made at import time of an app."""
    client = AsyncClient(api_key=SECRET)
    assert not client.is_closed


async def test_with_options_shares_the_pool_and_keeps_the_original(client: AsyncClient) -> None:
    """with_options returns a copy with new options over the same connection pool."""
    copy = client.with_options(max_retries=0, timeout=timedelta(seconds=3).total_seconds())
    assert copy.max_retries == 0
    assert copy.timeout.total == 3
    assert client.max_retries == 2
    assert client.timeout.total == 60
    sent = await copy.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    fetched = await client.messages.retrieve(sent.id or "")
    assert fetched.id == sent.id
    assert copy._connection is client._connection


async def test_with_options_none_timeout_means_no_limit(client: AsyncClient) -> None:
    """with_options(timeout=None) lifts the limits, as None does in the constructor."""
    assert client.with_options(timeout=None).timeout == Timeout(total=None, connect=None)
    assert client.with_options(max_retries=5).timeout == client.timeout


async def test_closing_a_copy_leaves_the_pool_open(client: AsyncClient) -> None:
    """Closing a with_options copy does not close the original client's pool."""
    copy = client.with_options(max_retries=1)
    await copy.close()
    assert not client.is_closed
    msg = await client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    assert isinstance(msg, Message)


async def test_closing_the_original_closes_its_copies(client: AsyncClient) -> None:
    """A copy made before close() reports closed and refuses calls once the original closes."""
    copy = client.with_options(max_retries=1)
    await client.close()
    assert copy.is_closed
    with pytest.raises(ConfigurationError, match="closed"):
        await copy.messages.retrieve("abc")


async def test_closed_client_refuses_calls_and_closing_twice_is_harmless(
    fake: FakeTelnyx,
) -> None:
    """After close() every call raises a clear ConfigurationError; a second close() is a no-op."""
    client = AsyncClient(api_key=fake.api_key, base_url=fake.base_url)
    await client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    await client.close()
    await client.close()
    with pytest.raises(ConfigurationError, match="closed"):
        await client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    assert len(fake.requests) == 1


async def test_borrowed_session_is_never_closed(fake: FakeTelnyx) -> None:
    """A session passed in is used for calls and left open when the client closes."""
    async with aiohttp.ClientSession() as session:
        async with AsyncClient(
            api_key=fake.api_key, base_url=fake.base_url, session=session
        ) as client:
            await client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
        assert not session.closed
        async with session.get(fake.base_url + "/messages/x") as answer:
            assert answer.status == 401  # the session still works (and sent no key of ours)


async def test_own_session_is_opened_lazily_and_closed(fake: FakeTelnyx) -> None:
    """The client opens its session on the first call, inside the running loop, and closes it."""
    client = AsyncClient(api_key=fake.api_key, base_url=fake.base_url)
    transport = client._connection.transport
    assert isinstance(transport, AiohttpTransport)
    assert transport._session is None
    await client.messages.send(to="+13125550002", from_="+18445550001", text="hi")
    session = transport._session
    assert session is not None
    assert not session.closed
    await client.close()
    assert session.closed


async def test_requests_carry_auth_and_user_agent(client: AsyncClient, fake: FakeTelnyx) -> None:
    """Every request is authenticated with the bearer key and names the SDK in User-Agent."""
    await client.messaging_optouts.list()
    sent = fake.requests[-1]
    assert sent.headers["Authorization"] == f"Bearer {fake.api_key}"
    assert sent.headers["User-Agent"].startswith("telnyx-messaging/")
    assert sent.headers["Accept"] == "application/json"


async def test_capture_responses_sees_every_answer_in_its_block(client: AsyncClient) -> None:
    """capture_responses collects raw answers of calls made in the block, tasks included."""
    with capture_responses() as seen:
        await asyncio.gather(
            *(
                client.messages.send(to=f"+1312555000{i}", from_="+18445550001", text="hi")
                for i in range(3)
            )
        )
    await client.messaging_optouts.list()
    assert len(seen) == 3
    assert {r.status for r in seen} == {200}
    assert all(r.method == "POST" and r.url.endswith("/messages") for r in seen)
    assert all(r.json()["data"]["text"] == "hi" for r in seen)


async def test_nothing_is_logged_with_the_key_or_text(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Debug logging names method and URL, never the key or the message text."""
    with caplog.at_level(logging.DEBUG, logger="telnyx_messaging"):
        await client.messages.send(to="+13125550002", from_="+18445550001", text="very private")
    assert any("POST" in r.getMessage() for r in caplog.records)
    assert all("very private" not in r.getMessage() for r in caplog.records)
    assert all(
        client._connection.base_headers["Authorization"] not in r.getMessage()
        for r in caplog.records
    )


async def test_public_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """TELNYX_PUBLIC_KEY is the webhook key when public_key= is not given."""
    monkeypatch.setenv("TELNYX_PUBLIC_KEY", "cHVibGlj")
    assert AsyncClient(api_key=SECRET)._public_key == "cHVibGlj"
    assert AsyncClient(api_key=SECRET, public_key="other")._public_key == "other"


def test_first_attempt_never_outlasts_the_budget() -> None:
    """A per_attempt limit above total is capped at total, so total is always honoured."""
    assert Timeout(total=0.5, per_attempt=2).first_attempt == 0.5
    assert Timeout(total=None, per_attempt=2).first_attempt == 2
    assert Timeout(total=3).first_attempt == 3
    assert Timeout(total=None, connect=None).first_attempt is None


@pytest.mark.parametrize("bad", [True, float("nan"), float("inf")])
def test_timeout_refuses_booleans_and_non_finite(bad: float) -> None:
    """True, NaN and infinity are not durations."""
    with pytest.raises(InvalidArgumentError, match=r"Timeout\.total"):
        Timeout(total=bad)


async def test_borrowed_session_that_raises_for_status_still_maps_errors(
    fake: FakeTelnyx,
) -> None:
    """A lent session with raise_for_status=True still gives our NotFoundError, once."""
    from telnyx_messaging import NotFoundError

    async with (
        aiohttp.ClientSession(raise_for_status=True) as session,
        AsyncClient(api_key=fake.api_key, base_url=fake.base_url, session=session) as client,
    ):
        with pytest.raises(NotFoundError):
            await client.messages.retrieve("nope")
    assert len(fake.requests) == 1
